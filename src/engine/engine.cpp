#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <random>
#include <span>

#include "base/check.h"
#include "base/log.h"
#include "base/thread_name.h"
#include "base/thread_priority.h"
#include "engine/handover_group.h"

namespace agentserve {

namespace {

// Where a finishing sequence's time went (RequestTimings on its finish event).
RequestTimings timings_of(const Sequence& seq) {
  using Ms = std::chrono::duration<double, std::milli>;
  const auto now = std::chrono::steady_clock::now();
  const auto zero = std::chrono::steady_clock::time_point{};
  RequestTimings t;
  t.prefill_steps = seq.prefill_steps;
  t.preemptions = seq.num_preemptions;
  if (seq.request.submitted_at != zero)
    t.queued_ms = Ms((seq.admitted_once() ? seq.admitted_at : now) - seq.request.submitted_at).count();
  if (!seq.admitted_once()) return t;  // never ran
  t.prefill_ms = Ms((seq.first_token_at != zero ? seq.first_token_at : now) - seq.admitted_at).count();
  if (seq.first_token_at != zero) t.decode_ms = Ms(now - seq.first_token_at).count();
  return t;
}

// The request's scripted failure (GenerationRequest::forced_failure, tests) is due at the
// sequence's next position: its forced tokens are all out.
bool scripted_failure_due(const Sequence& seq) {
  const GenerationRequest& r = seq.request;
  return !r.forced_failure.empty() &&
         seq.num_generated >= (r.forced_tokens ? static_cast<int32_t>(r.forced_tokens->size()) : 0);
}

}  // namespace

Engine::Engine(Backend* backend, EngineOptions options)
    : backend_(backend),
      options_(options),
      pool_(backend->kv_geometry().num_pages),
      cache_(options.prefix_cache ? std::make_unique<RadixCache>(
                                        &pool_, backend->kv_geometry().page_size,
                                        options.model_fingerprint)
                                  : nullptr),
      tiers_(cache_ != nullptr && options.kv_tiers.enabled()
                 ? std::make_unique<KvTiers>(
                       options.kv_tiers, options.model_fingerprint,
                       backend->kv_geometry().page_size, backend->kv_geometry().page_bytes(),
                       PageIo{[backend](int32_t p, void* dst) { backend->export_page(p, dst); },
                              [backend](int32_t p, const void* src) { backend->import_page(p, src); }})
                 : nullptr),
      scheduler_(SchedulerOptions{backend->kv_geometry().page_size, options.max_batch_tokens,
                                  options.max_running},
                 &pool_, cache_.get(), tiers_.get()) {
  if (tiers_ != nullptr) {
    cache_->set_listener(tiers_.get());
    tiers_->set_on_read([this] {
      {
        std::lock_guard<std::mutex> lock(submit_mutex_);
        tier_read_landed_ = true;
      }
      submit_cv_.notify_one();
    });
  }
  std::random_device entropy;
  seed_source_.reseed((static_cast<uint64_t>(entropy()) << 32) ^ entropy());
  const int32_t capacity = backend->kv_geometry().num_pages * backend->kv_geometry().page_size;
  max_context_ = options.max_context > 0 ? std::min(options.max_context, capacity) : capacity;
}

Engine::~Engine() {
  stop();
  if (tiers_ != nullptr) tiers_->set_on_read(nullptr);
  // The tiers go first (members die in reverse order); the cache must not call them after.
  if (cache_ != nullptr) cache_->set_listener(nullptr);
}

CacheStats Engine::cache_stats() const {
  CacheStats s;
  const KvGeometry& g = backend_->kv_geometry();
  s.page_bytes = static_cast<int64_t>(g.page_bytes());
  if (cache_ == nullptr) return s;
  s.pool.pages = gauges_.prefix_cache_pages.load(std::memory_order_relaxed);
  s.pool.bytes = s.pool.pages * s.page_bytes;
  s.pool.capacity_bytes = static_cast<int64_t>(g.num_pages) * s.page_bytes;
  s.pool.hits = gauges_.prefix_cache_hits.load(std::memory_order_relaxed);
  s.pool.lookups = gauges_.prefix_cache_lookups.load(std::memory_order_relaxed);
  s.entries = gauges_.prefix_cache_entries.load(std::memory_order_relaxed);
  s.reused_tokens = gauges_.prefix_cache_matched_tokens.load(std::memory_order_relaxed);
  if (tiers_ != nullptr) {
    s.ram = tiers_->ram_stats();
    s.disk = tiers_->disk_stats();
    if (tiers_->disk() != nullptr) s.disk_dir = tiers_->disk()->dir();
  }
  return s;
}

void Engine::submit(GenerationRequest request) {
  request.submitted_at = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(submit_mutex_);
    submitted_.push_back(std::move(request));
  }
  submit_cv_.notify_one();
}

void Engine::submit_all(std::vector<GenerationRequest> requests) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(submit_mutex_);
    for (GenerationRequest& r : requests) {
      r.submitted_at = now;
      submitted_.push_back(std::move(r));
    }
  }
  submit_cv_.notify_one();
}

void Engine::request_cache_clear(std::function<void(CacheClearResult)> done) {
  {
    std::lock_guard<std::mutex> lock(submit_mutex_);
    cache_clears_.push_back(std::move(done));
  }
  submit_cv_.notify_one();
}

void Engine::run_cache_clears() {
  std::vector<std::function<void(CacheClearResult)>> clears;
  {
    std::lock_guard<std::mutex> lock(submit_mutex_);
    clears.swap(cache_clears_);
  }
  if (clears.empty()) return;
  CacheClearResult r;
  if (cache_ != nullptr) {
    // evict() frees exactly the leaves nobody but the cache holds, then their parents: every
    // path a running sequence references (and its ancestors) stays, so its KV stays valid.
    // A clear forgets: the evicted pages must not spill to the RAM/disk tiers, which go too.
    if (tiers_ != nullptr) cache_->set_listener(nullptr);
    r.pages_freed = cache_->evict(std::numeric_limits<int32_t>::max());
    if (tiers_ != nullptr) {
      cache_->set_listener(tiers_.get());
      r.ram_pages_freed = tiers_->ram_stats().pages;
      r.disk_pages_freed = tiers_->disk_stats().pages;
      tiers_->clear();
    }
    const RadixCacheStats s = cache_->stats();
    r.pages_kept = s.num_pages;
    r.entries_kept = s.num_entries;
  }
  update_gauges();
  for (auto& done : clears) done(r);
}

void Engine::announce_starts() {
  // A sequence in the step has been admitted; its cached count is final unless tier reads
  // are still landing (it is then not in the step, or not yet accounted).
  for (Sequence* seq : step_.sequences) {
    if (!seq->request.announce_start || seq->start_announced || seq->cached_count_pending) continue;
    seq->start_announced = true;
    EngineEvent e;
    e.kind = EngineEvent::Kind::kStarted;
    e.usage.prompt_tokens = static_cast<int32_t>(seq->request.prompt.size());
    e.usage.cached_prompt_tokens = seq->num_cached_prompt_tokens;
    seq->request.events->push(std::move(e));
  }
}

void Engine::take_submissions() {
  std::vector<GenerationRequest> incoming;
  {
    std::lock_guard<std::mutex> lock(submit_mutex_);
    incoming.swap(submitted_);
  }
  for (GenerationRequest& r : incoming) {
    auto fail = [&](std::string message) {
      EngineEvent e;
      e.kind = EngineEvent::Kind::kFinish;
      e.reason = FinishReason::kError;
      e.error = std::move(message);
      e.usage.prompt_tokens = static_cast<int32_t>(r.prompt.size());
      r.events->push(std::move(e));
    };
    const int32_t vocab = backend_->vocab_size();
    if (r.prompt.empty()) {
      fail("the prompt is empty");
      continue;
    }
    if (static_cast<int32_t>(r.prompt.size()) >= max_context_) {
      fail("prompt is too long: " + std::to_string(r.prompt.size()) + " tokens > " +
           std::to_string(max_context_ - 1) + " maximum (context " +
           std::to_string(max_context_) + " tokens, one kept for the reply)");
      continue;
    }
    auto bad = std::find_if(r.prompt.begin(), r.prompt.end(),
                            [&](int32_t t) { return t < 0 || t >= vocab; });
    if (bad != r.prompt.end()) {
      fail("token id " + std::to_string(*bad) + " is outside the vocabulary [0, " +
           std::to_string(vocab) + ")");
      continue;
    }
    if (r.forced_tokens != nullptr) {
      auto bad_forced = std::find_if(r.forced_tokens->begin(), r.forced_tokens->end(),
                                     [&](int32_t t) { return t < 0 || t >= vocab; });
      if (bad_forced != r.forced_tokens->end()) {
        fail("forced token id " + std::to_string(*bad_forced) + " is outside the vocabulary [0, " +
             std::to_string(vocab) + ")");
        continue;
      }
    }
    auto seq = std::make_unique<Sequence>();
    seq->tokens = r.prompt;
    // Only the repetition penalty reads the prompt's token counts; counting an agent's 20-60k
    // prompt tokens in a hash map would cost the engine thread ~1 ms per request for nothing.
    if (r.sampling.uses_repetition_penalty()) seq->history.add_prompt(r.prompt);
    seq->rng.reseed(r.sampling.has_seed ? r.sampling.seed : seed_source_.next_u64());
    seq->request = std::move(r);
    scheduler_.add(std::move(seq));
  }
}

void Engine::finish(Sequence* seq, FinishReason reason, int32_t stop_token, std::string error) {
  EngineEvent e;
  e.kind = EngineEvent::Kind::kFinish;
  e.reason = reason;
  e.stop_token = stop_token;
  e.error = std::move(error);
  e.usage.prompt_tokens = static_cast<int32_t>(seq->request.prompt.size());
  e.usage.cached_prompt_tokens = seq->num_cached_prompt_tokens;
  e.usage.completion_tokens = seq->num_generated;
  e.timings = timings_of(*seq);
  std::unique_ptr<Sequence> owned = scheduler_.remove(seq);
  owned->request.events->push(std::move(e));
  ++stats_.requests_finished;
}

SampleResult Engine::choose_token(Sequence* seq, std::span<const float> logits) {
  // num_generated survives preemption (its tokens are kept and recomputed), so it indexes the
  // forced list however often the sequence was re-admitted.
  const auto& forced = seq->request.forced_tokens;
  if (forced != nullptr && seq->num_generated < static_cast<int32_t>(forced->size()))
    return sampler_.forced(logits, seq->request.sampling,
                           (*forced)[static_cast<size_t>(seq->num_generated)]);
  return sampler_.sample(logits, seq->request.sampling, seq->history, seq->rng);
}

void Engine::update_gauges() {
  gauges_.waiting.store(scheduler_.num_waiting(), std::memory_order_relaxed);
  gauges_.running.store(scheduler_.num_running(), std::memory_order_relaxed);
  gauges_.kv_pages_used.store(pool_.num_used(), std::memory_order_relaxed);
  gauges_.kv_pages_total.store(pool_.num_pages(), std::memory_order_relaxed);
  if (cache_ != nullptr) {
    const RadixCacheStats s = cache_->stats();
    gauges_.prefix_cache_pages.store(s.num_pages, std::memory_order_relaxed);
    gauges_.prefix_cache_entries.store(s.num_entries, std::memory_order_relaxed);
    gauges_.prefix_cache_lookups.store(s.lookups, std::memory_order_relaxed);
    gauges_.prefix_cache_hits.store(s.hits, std::memory_order_relaxed);
    gauges_.prefix_cache_matched_tokens.store(s.matched_tokens, std::memory_order_relaxed);
  }
}

bool Engine::step() {
  take_submissions();
  run_cache_clears();
  // Cancelled requests leave before they cost another step.
  std::vector<Sequence*> cancelled;
  scheduler_.for_each([&](Sequence* s) {
    if (s->request.cancelled->load(std::memory_order_relaxed)) cancelled.push_back(s);
  });
  for (Sequence* s : cancelled) finish(s, FinishReason::kCancelled, -1);

  scheduler_.schedule(&step_);
  update_gauges();
  announce_starts();
  if (step_.empty()) {
    if (scheduler_.idle()) return false;
    if (tiers_ != nullptr && tiers_->reads_in_flight()) wait_for_tier_read();
    return true;
  }

  const auto step_start = std::chrono::steady_clock::now();
  struct BusyTimer {  // counts the step however it ends
    EngineGauges& g;
    std::chrono::steady_clock::time_point start;
    ~BusyTimer() {
      g.busy_micros.fetch_add(std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - start)
                                  .count(),
                              std::memory_order_relaxed);
      g.steps.fetch_add(1, std::memory_order_relaxed);
    }
  } busy_timer{gauges_, step_start};
  Status st = backend_->forward(step_.batch, &logits_);
  gauges_.forward_micros.fetch_add(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::steady_clock::now() - step_start)
                                       .count(),
                                   std::memory_order_relaxed);
  if (!st.ok()) {
    AS_LOG_ERROR("forward failed: {}", st.error().to_string());
    std::vector<Sequence*> failed = step_.sequences;
    for (Sequence* s : failed) finish(s, FinishReason::kError, -1, st.error().message);
    return true;
  }
  scheduler_.commit(step_);
  ++stats_.steps;
  if (tiers_ != nullptr) {
    // The prefill rate the tiers weigh a disk read against: steps that are mostly prefill.
    int32_t total = 0, prefill = 0;
    for (const BatchSequence& bs : step_.batch.sequences) {
      total += bs.num_tokens;
      if (bs.num_tokens > 1) prefill += bs.num_tokens;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
    if (prefill >= backend_->kv_geometry().page_size && secs > 0)
      tiers_->note_prefill_rate(static_cast<double>(total) / secs);
  }

  const int32_t vocab = backend_->vocab_size();
  size_t logit_row = 0;
  HandoverGroup handover(options_.handover_window);
  struct Done {
    Sequence* seq;
    FinishReason reason;
    int32_t stop_token = -1;
    std::string error;
  };
  std::vector<Done> done;
  for (size_t i = 0; i < step_.sequences.size(); ++i) {
    Sequence* seq = step_.sequences[i];
    const BatchSequence& bs = step_.batch.sequences[i];
    if (seq->num_generated == 0 || bs.num_tokens > 1) {
      stats_.prompt_tokens_computed += bs.num_tokens;
      ++seq->prefill_steps;
    } else {
      stats_.decode_tokens_computed += bs.num_tokens;
    }
    if (logit_row >= step_.batch.logit_rows.size() ||
        step_.batch.logit_rows[logit_row] != bs.first_token + bs.num_tokens - 1)
      continue;  // a prefill chunk that does not end the prompt
    std::span<const float> row(logits_.data() + logit_row * static_cast<size_t>(vocab),
                               static_cast<size_t>(vocab));
    ++logit_row;
    if (scripted_failure_due(*seq)) {
      done.push_back({seq, FinishReason::kError, -1, seq->request.forced_failure});
      continue;
    }
    const SampleResult sample = choose_token(seq, row);
    if (seq->num_generated == 0) seq->first_token_at = std::chrono::steady_clock::now();
    seq->tokens.push_back(sample.token);
    seq->history.add_generated(sample.token);
    ++seq->num_generated;
    const StopConditions& stop = seq->request.stop;
    const bool is_stop = !stop.ignore_stop_tokens &&
                         std::find(stop.stop_token_ids.begin(), stop.stop_token_ids.end(),
                                   sample.token) != stop.stop_token_ids.end();
    if (is_stop) {
      done.push_back({seq, FinishReason::kStop, sample.token, {}});
      continue;
    }
    EngineEvent e;
    e.kind = EngineEvent::Kind::kToken;
    e.sample = sample;
    EventChannel* channel = seq->request.events.get();
    handover.add(channel, channel->push(std::move(e), /*notify=*/false));
    if (seq->num_generated >= stop.max_new_tokens ||
        static_cast<int32_t>(seq->tokens.size()) >= max_context_) {
      done.push_back({seq, FinishReason::kLength, -1, {}});
    }
  }
  // Before finish(): a finished sequence's channel may be gone once finish() has handed over
  // its last event.
  handover.end_step();
  for (Done& d : done) finish(d.seq, d.reason, d.stop_token, std::move(d.error));
  if (options_.check_integrity) {
    const std::string problem = scheduler_.check_integrity();
    AS_CHECK_MSG(problem.empty(), problem);
  }
  return true;
}

void Engine::wait_for_tier_read() {
  // The timeout only bounds a missed wake-up; a landing read, a new request, a cache clear or
  // stop() wake it at once.
  std::unique_lock<std::mutex> lock(submit_mutex_);
  submit_cv_.wait_for(lock, std::chrono::milliseconds(100), [&] {
    return tier_read_landed_ || !submitted_.empty() || !cache_clears_.empty() || stop_.load();
  });
  tier_read_landed_ = false;
}

void Engine::run_until_idle() {
  while (step()) {
  }
}

void Engine::loop() {
  while (!stop_.load(std::memory_order_acquire)) {
    if (step()) continue;
    std::unique_lock<std::mutex> lock(submit_mutex_);
    submit_cv_.wait(lock, [&] { return !submitted_.empty() || !cache_clears_.empty() || stop_.load(); });
  }
}

void Engine::start() {
  AS_CHECK(!thread_.joinable());
  stop_.store(false);
  thread_ = std::thread([this] {
    set_current_thread_name("as-engine");
    lower_current_thread_priority(options_.nice_increment);
    loop();
  });
}

void Engine::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(submit_mutex_);
    stop_.store(true, std::memory_order_release);
  }
  submit_cv_.notify_all();
  thread_.join();
}

}  // namespace agentserve
