// Scheduler, paging and engine loop, tested without a model: HistoryBackend stores token ids
// as its "KV" and computes logits from the whole history it reads back through the page
// table, so any mix-up of pages, positions or batches changes the generated tokens.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <random>
#include <thread>

#include "backend/backend.h"
#include "engine/engine.h"

namespace agentserve {
namespace {

constexpr int32_t kVocab = 97;

// The "model": next token = hash of the whole prefix, mod vocab.
int32_t next_token(const std::vector<int32_t>& prefix) {
  uint64_t h = 1469598103934665603ull;
  for (int32_t t : prefix) h = (h ^ static_cast<uint64_t>(t + 1)) * 1099511628211ull;
  return static_cast<int32_t>(h % kVocab);
}

class HistoryBackend : public Backend {
 public:
  HistoryBackend(int32_t page_size, int32_t num_pages) {
    geometry_.page_size = page_size;
    geometry_.num_pages = num_pages;
    geometry_.num_layers = 1;
    geometry_.num_kv_heads = 1;
    geometry_.head_dim = 1;
    geometry_.dtype = DType::kI32;
    kv_.assign(static_cast<size_t>(page_size) * num_pages, -1);
  }
  std::string name() const override { return "history"; }
  const KvGeometry& kv_geometry() const override { return geometry_; }
  int32_t vocab_size() const override { return kVocab; }

  Status forward(const Batch& batch, std::vector<float>* logits) override {
    const std::string problem = batch.validate(geometry_.page_size, geometry_.num_pages);
    EXPECT_EQ(problem, "");
    const int32_t P = geometry_.page_size;
    for (int32_t t = 0; t < batch.num_tokens(); ++t) {
      const BatchSequence& s = batch.sequences[static_cast<size_t>(batch.token_sequence[static_cast<size_t>(t)])];
      const int32_t pos = batch.positions[static_cast<size_t>(t)];
      const int32_t page = batch.page_table[static_cast<size_t>(s.page_row) * batch.page_table_stride + pos / P];
      kv_[static_cast<size_t>(page) * P + pos % P] = batch.token_ids[static_cast<size_t>(t)];
    }
    logits->assign(batch.logit_rows.size() * kVocab, 0.0f);
    for (size_t r = 0; r < batch.logit_rows.size(); ++r) {
      const int32_t t = batch.logit_rows[r];
      const BatchSequence& s = batch.sequences[static_cast<size_t>(batch.token_sequence[static_cast<size_t>(t)])];
      const int32_t pos = batch.positions[static_cast<size_t>(t)];
      std::vector<int32_t> prefix;
      for (int32_t p = 0; p <= pos; ++p) {
        const int32_t page = batch.page_table[static_cast<size_t>(s.page_row) * batch.page_table_stride + p / P];
        prefix.push_back(kv_[static_cast<size_t>(page) * P + p % P]);
      }
      (*logits)[r * kVocab + static_cast<size_t>(next_token(prefix))] = 10.0f;
    }
    ++forward_calls;
    max_batch_tokens = std::max(max_batch_tokens, batch.num_tokens());
    if (step_sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step_sleep_ms));
    return {};
  }
  void copy_page(int32_t, int32_t) override {}
  void export_page(int32_t, void*) const override {}
  void import_page(int32_t, const void*) override {}

  int forward_calls = 0;
  int32_t max_batch_tokens = 0;
  int step_sleep_ms = 0;  // a slow "device": every forward takes at least this long

 private:
  KvGeometry geometry_;
  std::vector<int32_t> kv_;
};

std::vector<int32_t> expected_output(std::vector<int32_t> tokens, int32_t n,
                                     const std::vector<int32_t>& stops, FinishReason* reason) {
  std::vector<int32_t> out;
  *reason = FinishReason::kLength;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t t = next_token(tokens);
    tokens.push_back(t);
    if (std::find(stops.begin(), stops.end(), t) != stops.end()) {
      *reason = FinishReason::kStop;
      return out;
    }
    out.push_back(t);
  }
  return out;
}

struct Collected {
  std::vector<int32_t> tokens;
  EngineEvent finish;
};

Collected drain(EventChannel& ch) {
  Collected c;
  while (auto e = ch.try_pop()) {
    if (e->kind == EngineEvent::Kind::kToken) c.tokens.push_back(e->sample.token);
    else c.finish = *e;
  }
  return c;
}

GenerationRequest greedy_request(uint64_t id, std::vector<int32_t> prompt, int32_t n) {
  GenerationRequest r;
  r.id = id;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.stop.max_new_tokens = n;
  return r;
}

// The randomized engine tests' setting: a HistoryBackend with a random page size and a pool of
// min_pages + [0, extra_pages) pages, and an engine on it with a random batch budget
// (4 + [0, extra_batch) tokens) and 1-6 sequences at once, checking its integrity every step.
struct RandomEngine {
  int32_t page_size = 0, num_pages = 0;
  std::unique_ptr<HistoryBackend> backend;
  std::unique_ptr<Engine> engine;
  int32_t capacity() const { return page_size * num_pages; }
};

RandomEngine random_engine(std::mt19937& rng, int32_t min_pages, int32_t extra_pages, int32_t extra_batch) {
  RandomEngine r;
  r.page_size = 1 + static_cast<int32_t>(rng() % 6);
  r.num_pages = min_pages + static_cast<int32_t>(rng() % static_cast<uint32_t>(extra_pages));
  r.backend = std::make_unique<HistoryBackend>(r.page_size, r.num_pages);
  EngineOptions opts;
  opts.max_batch_tokens = 4 + static_cast<int32_t>(rng() % static_cast<uint32_t>(extra_batch));
  opts.max_running = 1 + static_cast<int32_t>(rng() % 6);
  opts.check_integrity = true;
  r.engine = std::make_unique<Engine>(r.backend.get(), opts);
  return r;
}

std::vector<int32_t> random_tokens(std::mt19937& rng, int32_t n) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (auto& x : t) x = static_cast<int32_t>(rng() % kVocab);
  return t;
}

// The engine yields its CPU while a consumer on another thread has not taken an earlier event of
// the step (engine.cpp); consumer_lagging() is what it asks.
TEST(EventChannel, HasPendingUntilTheConsumerTakesEveryEvent) {
  EventChannel ch;
  EXPECT_FALSE(ch.has_pending());
  EngineEvent token;
  token.kind = EngineEvent::Kind::kToken;
  ch.push(token);
  ch.push(token);
  EXPECT_TRUE(ch.has_pending());
  ASSERT_TRUE(ch.try_pop().has_value());
  EXPECT_TRUE(ch.has_pending());
  ASSERT_TRUE(ch.try_pop().has_value());
  EXPECT_FALSE(ch.has_pending());
  EngineEvent finish;
  finish.kind = EngineEvent::Kind::kFinish;
  ch.push(finish);
  EXPECT_TRUE(ch.has_pending());
  ASSERT_TRUE(ch.pop().has_value());
  EXPECT_FALSE(ch.has_pending());
}

TEST(EventChannel, OnlyAConsumerOnAnotherThreadCanLag) {
  EngineEvent token;
  token.kind = EngineEvent::Kind::kToken;
  // Drained with try_pop() after the step (the CLI, benchmarks): never lagging.
  EventChannel polled;
  polled.push(token);
  EXPECT_TRUE(polled.has_pending());
  EXPECT_FALSE(polled.consumer_lagging());
  // A notify hook (the HTTP server's drain): lagging while events wait.
  EventChannel hooked;
  hooked.set_notify([] {});
  EXPECT_FALSE(hooked.consumer_lagging());
  hooked.push(token);
  EXPECT_TRUE(hooked.consumer_lagging());
  ASSERT_TRUE(hooked.try_pop().has_value());
  EXPECT_FALSE(hooked.consumer_lagging());
  // A reader on its own thread that blocks in pop(): once it has read, events it has not taken
  // yet count as lagging.
  EventChannel blocking;
  std::promise<void> first_read, go_on;
  std::thread reader([&] {
    EXPECT_TRUE(blocking.pop().has_value());
    first_read.set_value();
    go_on.get_future().wait();
    EXPECT_TRUE(blocking.pop().has_value());
  });
  blocking.push(token);
  first_read.get_future().wait();
  blocking.push(token);
  EXPECT_TRUE(blocking.consumer_lagging());
  go_on.set_value();
  reader.join();
  EXPECT_FALSE(blocking.consumer_lagging());
}

// Tokens wake their consumers in groups (EngineOptions::handover_window), but every token is
// woken for once, and before step() returns: a consumer never waits past the step for a token.
TEST(Engine, EveryTokenWakesItsConsumerOnceBeforeTheStepEnds) {
  for (const int window_us : {0, 900}) {
    HistoryBackend backend(4, 256);
    EngineOptions opts;
    opts.max_running = 8;
    opts.handover_window = std::chrono::microseconds(window_us);
    Engine engine(&backend, opts);
    constexpr int kRequests = 8, kTokens = 12;
    std::vector<std::shared_ptr<EventChannel>> channels;
    std::vector<int> wakes(kRequests, 0), seen_wakes(kRequests, 0);
    std::vector<std::vector<int32_t>> prompts;
    std::vector<Collected> got(kRequests);
    for (int i = 0; i < kRequests; ++i) {
      prompts.push_back({i + 1, 2 * i + 3, 5});
      GenerationRequest r = greedy_request(static_cast<uint64_t>(i + 1), prompts.back(), kTokens);
      r.stop.ignore_stop_tokens = true;
      r.events->set_notify([&wakes, i] { ++wakes[static_cast<size_t>(i)]; });
      channels.push_back(r.events);
      engine.submit(std::move(r));
    }
    std::vector<int> events(kRequests, 0);
    while (engine.step()) {
      for (int i = 0; i < kRequests; ++i) {
        const size_t k = static_cast<size_t>(i);
        int taken = 0;
        while (auto e = channels[k]->try_pop()) {
          ++taken;
          if (e->kind == EngineEvent::Kind::kToken) got[k].tokens.push_back(e->sample.token);
          else got[k].finish = *e;
        }
        events[k] += taken;
        // Every event pushed in this step has had its wake-up by the time step() returned.
        EXPECT_EQ(wakes[k], events[k]) << "window " << window_us << " µs, request " << i;
        if (taken > 0) {
          EXPECT_GT(wakes[k], seen_wakes[k]);
        }
        seen_wakes[k] = wakes[k];
      }
    }
    for (int i = 0; i < kRequests; ++i) {
      FinishReason reason;
      EXPECT_EQ(got[static_cast<size_t>(i)].tokens, expected_output(prompts[static_cast<size_t>(i)], kTokens, {}, &reason));
      EXPECT_EQ(got[static_cast<size_t>(i)].finish.kind, EngineEvent::Kind::kFinish);
      EXPECT_EQ(wakes[static_cast<size_t>(i)], kTokens + 1) << "a wake-up per token and one for the finish";
    }
  }
}

TEST(Engine, SingleRequestFollowsTheModel) {
  HistoryBackend backend(4, 64);
  Engine engine(&backend, EngineOptions{8, 4, 0, true});
  auto req = greedy_request(1, {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 20);
  auto events = req.events;
  engine.submit(std::move(req));
  engine.run_until_idle();
  Collected c = drain(*events);
  FinishReason reason;
  EXPECT_EQ(c.tokens, expected_output({5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 20, {}, &reason));
  EXPECT_EQ(c.finish.reason, FinishReason::kLength);
  EXPECT_EQ(c.finish.usage.prompt_tokens, 11);
  EXPECT_EQ(c.finish.usage.completion_tokens, 20);
  // An 11-token prompt with an 8-token budget is prefilled in two chunks.
  EXPECT_LE(backend.max_batch_tokens, 8);
  EXPECT_EQ(engine.check_integrity(), "");
}

TEST(Engine, FinishEventsSayWhereTheTimeWent) {
  HistoryBackend backend(4, 64);
  backend.step_sleep_ms = 5;
  // One running sequence at a time: the second request waits for the first to finish.
  EngineOptions options{8, 1, 0, true};
  Engine engine(&backend, options);
  auto first = greedy_request(1, {5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 6);
  auto second = greedy_request(2, {3, 4}, 3);
  auto first_events = first.events, second_events = second.events;
  engine.submit(std::move(first));
  engine.submit(std::move(second));
  engine.run_until_idle();
  const RequestTimings a = drain(*first_events).finish.timings;
  const RequestTimings b = drain(*second_events).finish.timings;
  // 11 prompt tokens under an 8-token budget: two prefill steps, then 5 decode steps.
  EXPECT_EQ(a.prefill_steps, 2);
  EXPECT_GE(a.prefill_ms, 2 * 5.0);
  EXPECT_GE(a.decode_ms, 5 * 5.0);
  EXPECT_LT(a.queued_ms, a.prefill_ms);
  EXPECT_EQ(a.preemptions, 0);
  // The second waited for the first's 7 steps, then took 1 prefill step and 2 decode steps.
  EXPECT_GE(b.queued_ms, 7 * 5.0);
  EXPECT_EQ(b.prefill_steps, 1);
  EXPECT_GE(b.prefill_ms, 5.0);
  EXPECT_GE(b.decode_ms, 2 * 5.0);
  EXPECT_EQ(engine.check_integrity(), "");
}

// HistoryBackend with a runner-up: the token after the model's choice gets logit 9 (the choice
// has 10), so a penalty on the choice shows in what is sampled.
class RunnerUpBackend : public HistoryBackend {
 public:
  using HistoryBackend::HistoryBackend;
  Status forward(const Batch& batch, std::vector<float>* logits) override {
    Status s = HistoryBackend::forward(batch, logits);
    for (size_t r = 0; r < batch.logit_rows.size(); ++r) {
      float* row = logits->data() + r * kVocab;
      const int32_t best = static_cast<int32_t>(std::max_element(row, row + kVocab) - row);
      row[(best + 1) % kVocab] = 9.0f;
    }
    return s;
  }
};

TEST(Engine, RepetitionPenaltyCountsPromptTokens) {
  // A prompt after which the model's first choice is one of the prompt's own tokens: a
  // repetition penalty of 2 (HF semantics, prompt included) halves that choice's logit to 5,
  // below the runner-up's 9. (The engine counts prompt tokens only for this penalty.)
  std::vector<int32_t> prompt;
  int32_t choice = -1;
  for (int32_t filler = 0; filler < kVocab && choice < 0; ++filler) {
    std::vector<int32_t> p = {filler, 11, 22, 33, 44, 55, 66, 77, 88};
    const int32_t t = next_token(p);
    if (std::find(p.begin(), p.end(), t) != p.end()) {
      prompt = p;
      choice = t;
    }
  }
  ASSERT_GE(choice, 0) << "no prompt whose next token repeats one of its own";
  for (float penalty : {1.0f, 2.0f}) {
    RunnerUpBackend backend(4, 64);
    Engine engine(&backend, EngineOptions{16, 4, 0, true});
    auto req = greedy_request(1, prompt, 1);
    req.sampling.repetition_penalty = penalty;
    auto events = req.events;
    engine.submit(std::move(req));
    engine.run_until_idle();
    const Collected c = drain(*events);
    ASSERT_EQ(c.tokens.size(), 1u);
    EXPECT_EQ(c.tokens[0], penalty == 1.0f ? choice : (choice + 1) % kVocab) << "penalty " << penalty;
  }
}

TEST(Engine, StopTokenEndsGenerationWithoutBeingEmitted) {
  HistoryBackend backend(4, 64);
  Engine engine(&backend, EngineOptions{16, 4, 0, true});
  const std::vector<int32_t> prompt = {1, 2, 3};
  FinishReason reason;
  auto free_run = expected_output(prompt, 30, {}, &reason);
  const int32_t stop = free_run[5];
  auto req = greedy_request(2, prompt, 30);
  req.stop.stop_token_ids = {stop};
  auto events = req.events;
  engine.submit(std::move(req));
  engine.run_until_idle();
  Collected c = drain(*events);
  EXPECT_EQ(c.tokens, expected_output(prompt, 30, {stop}, &reason));
  EXPECT_EQ(c.finish.reason, FinishReason::kStop);
  EXPECT_EQ(c.finish.stop_token, stop);
  EXPECT_EQ(c.finish.usage.completion_tokens, static_cast<int32_t>(c.tokens.size()) + 1);
}

TEST(Engine, BadRequestsGetErrorsNotCrashes) {
  HistoryBackend backend(4, 8);  // capacity 32 tokens
  Engine engine(&backend, EngineOptions{16, 4, 0, true});
  auto empty = greedy_request(1, {}, 4);
  auto too_long = greedy_request(2, std::vector<int32_t>(40, 3), 4);
  auto bad_id = greedy_request(3, {1, 2, kVocab + 5}, 4);
  std::vector<std::shared_ptr<EventChannel>> channels = {empty.events, too_long.events, bad_id.events};
  engine.submit(std::move(empty));
  engine.submit(std::move(too_long));
  engine.submit(std::move(bad_id));
  engine.run_until_idle();
  const char* expected[] = {"empty", "prompt is too long: 40 tokens > 31 maximum", "outside the vocabulary"};
  for (size_t i = 0; i < channels.size(); ++i) {
    Collected c = drain(*channels[i]);
    EXPECT_EQ(c.finish.reason, FinishReason::kError);
    EXPECT_NE(c.finish.error.find(expected[i]), std::string::npos) << c.finish.error;
  }
  EXPECT_EQ(engine.check_integrity(), "");
}

TEST(Engine, ContextLimitEndsWithLength) {
  HistoryBackend backend(4, 4);  // 16 tokens
  Engine engine(&backend, EngineOptions{16, 4, 0, true});
  auto req = greedy_request(1, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 100);
  auto events = req.events;
  engine.submit(std::move(req));
  engine.run_until_idle();
  Collected c = drain(*events);
  EXPECT_EQ(c.finish.reason, FinishReason::kLength);
  EXPECT_EQ(c.tokens.size(), 6u);  // 10 + 6 = the 16-token context
}

// Many concurrent requests in a pool too small for all of them: continuous batching,
// chunked prefill, preemption and cancellation, with the integrity check after every step.
TEST(Engine, RandomizedConcurrencyPreemptionAndCancellation) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (int round = 0; round < 20; ++round) {
    const int32_t page_size = 1 + static_cast<int32_t>(rng() % 8);
    const int32_t num_pages = 16 + static_cast<int32_t>(rng() % 48);
    HistoryBackend backend(page_size, num_pages);
    EngineOptions opts;
    opts.max_batch_tokens = 4 + static_cast<int32_t>(rng() % 60);
    opts.max_running = 1 + static_cast<int32_t>(rng() % 8);
    opts.check_integrity = true;
    Engine engine(&backend, opts);
    const int32_t capacity = page_size * num_pages;

    struct Live {
      std::vector<int32_t> prompt;
      int32_t n;
      std::shared_ptr<EventChannel> events;
      std::shared_ptr<std::atomic<bool>> cancel;
      bool will_cancel;
    };
    std::vector<Live> live;
    const int num_requests = 5 + static_cast<int>(rng() % 20);
    for (int i = 0; i < num_requests; ++i) {
      const int32_t len = 1 + static_cast<int32_t>(rng() % std::max(2, capacity / 2));
      std::vector<int32_t> prompt(static_cast<size_t>(len));
      for (auto& t : prompt) t = static_cast<int32_t>(rng() % kVocab);
      const int32_t n = 1 + static_cast<int32_t>(rng() % 24);
      auto req = greedy_request(static_cast<uint64_t>(i), prompt, n);
      live.push_back({prompt, n, req.events, req.cancelled, rng() % 5 == 0});
      engine.submit(std::move(req));
    }
    int steps = 0;
    while (engine.step()) {
      ++steps;
      ASSERT_LT(steps, 100000) << "engine does not make progress";
      for (auto& l : live)
        if (l.will_cancel && rng() % 10 == 0) l.cancel->store(true);
    }
    ASSERT_EQ(engine.check_integrity(), "");
    for (const Live& l : live) {
      Collected c = drain(*l.events);
      if (c.finish.reason == FinishReason::kCancelled) {
        EXPECT_TRUE(l.will_cancel);
        continue;
      }
      FinishReason reason;
      const int32_t room = engine.max_context() - static_cast<int32_t>(l.prompt.size());
      std::vector<int32_t> want = expected_output(l.prompt, std::min(l.n, room), {}, &reason);
      EXPECT_EQ(c.tokens, want) << "prompt of " << l.prompt.size() << " tokens";
      EXPECT_EQ(c.finish.reason, FinishReason::kLength);
    }
  }
}

// Requests sharing prefixes (and follow-ups extending earlier outputs) in a pool small enough
// to evict and preempt: every cached page read back through the page table must hold the
// request's own tokens, or the history backend's logits change.
TEST(Engine, PrefixCacheReuseFollowsTheModel) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  int64_t cached = 0;
  for (int round = 0; round < 10; ++round) {
    RandomEngine setup = random_engine(rng, 24, 40, 40);
    Engine& engine = *setup.engine;
    const int32_t capacity = setup.capacity();
    const std::vector<int32_t> system = random_tokens(rng, capacity / 3);
    std::vector<std::vector<int32_t>> conversations;
    for (int wave = 0; wave < 4; ++wave) {
      struct Sent {
        std::vector<int32_t> prompt;
        int32_t n;
        std::shared_ptr<EventChannel> events;
      };
      std::vector<Sent> sent;
      for (int i = 0; i < 6; ++i) {
        std::vector<int32_t> prompt =
            conversations.empty() || rng() % 2 ? system : conversations[rng() % conversations.size()];
        for (int k = static_cast<int>(rng() % 9); k >= 0; --k) prompt.push_back(static_cast<int32_t>(rng() % kVocab));
        if (static_cast<int32_t>(prompt.size()) > capacity - 8) prompt.resize(static_cast<size_t>(capacity - 8));
        const int32_t n = 1 + static_cast<int32_t>(rng() % 7);
        auto req = greedy_request(static_cast<uint64_t>(wave * 10 + i), prompt, n);
        sent.push_back({prompt, n, req.events});
        engine.submit(std::move(req));
      }
      engine.run_until_idle();
      for (const Sent& s : sent) {
        Collected c = drain(*s.events);
        FinishReason reason;
        EXPECT_EQ(c.tokens, expected_output(s.prompt, s.n, {}, &reason));
        EXPECT_LE(c.finish.usage.cached_prompt_tokens, static_cast<int32_t>(s.prompt.size()) - 1);
        cached += c.finish.usage.cached_prompt_tokens;
        std::vector<int32_t> conversation = s.prompt;
        conversation.insert(conversation.end(), c.tokens.begin(), c.tokens.end());
        conversations.push_back(conversation);
      }
    }
    ASSERT_EQ(engine.check_integrity(), "");
  }
  EXPECT_GT(cached, 0);
}

// A request that asks for it gets one kStarted event, before its first token, with its prompt
// length and the cached count its finish reports — also when it waited in the queue and when
// it was preempted and readmitted; one that does not ask gets none, and one the engine rejects
// gets only its error.
TEST(Engine, AnnouncedStartCarriesTheCacheSplitBeforeAnyToken) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  int64_t cached = 0, announced = 0, preempted = 0;
  // Ten rounds, and more until one has preempted a sequence (most do; some draw too little
  // pressure, e.g. one sequence at a time).
  for (int round = 0; round < 10 || (preempted == 0 && round < 100); ++round) {
    RandomEngine setup = random_engine(rng, 16, 24, 24);
    Engine& engine = *setup.engine;
    const int32_t capacity = setup.capacity();
    const std::vector<int32_t> shared = random_tokens(rng, capacity / 4);
    for (int wave = 0; wave < 3; ++wave) {
      struct Sent {
        int32_t prompt_tokens;
        bool announce;
        std::shared_ptr<EventChannel> events;
      };
      std::vector<Sent> sent;
      for (int i = 0; i < 8; ++i) {
        std::vector<int32_t> prompt = shared;
        for (int k = static_cast<int>(rng() % (capacity / 4)); k >= 0; --k)
          prompt.push_back(static_cast<int32_t>(rng() % kVocab));
        if (i == 7) prompt.assign(static_cast<size_t>(capacity + 1), 3);  // longer than the context
        auto req = greedy_request(static_cast<uint64_t>(wave * 10 + i), prompt, 1 + static_cast<int32_t>(rng() % 9));
        req.announce_start = i == 7 || rng() % 2 == 0;
        sent.push_back({static_cast<int32_t>(prompt.size()), req.announce_start, req.events});
        engine.submit(std::move(req));
      }
      engine.run_until_idle();
      for (const Sent& s : sent) {
        std::vector<EngineEvent> events;
        while (auto e = s.events->try_pop()) events.push_back(std::move(*e));
        ASSERT_FALSE(events.empty());
        const EngineEvent& finish = events.back();
        ASSERT_EQ(finish.kind, EngineEvent::Kind::kFinish);
        preempted += finish.timings.preemptions;
        int starts = 0;
        for (const EngineEvent& e : events) starts += e.kind == EngineEvent::Kind::kStarted;
        if (finish.reason == FinishReason::kError) {
          EXPECT_EQ(starts, 0);
          continue;
        }
        if (!s.announce) {
          EXPECT_EQ(starts, 0);
          continue;
        }
        ASSERT_EQ(starts, 1);
        ASSERT_EQ(events.front().kind, EngineEvent::Kind::kStarted);
        EXPECT_EQ(events.front().usage.prompt_tokens, s.prompt_tokens);
        EXPECT_EQ(events.front().usage.cached_prompt_tokens, finish.usage.cached_prompt_tokens);
        cached += finish.usage.cached_prompt_tokens;
        ++announced;
      }
    }
    ASSERT_EQ(engine.check_integrity(), "");
  }
  EXPECT_GT(announced, 0);
  EXPECT_GT(cached, 0);
  EXPECT_GT(preempted, 0);
}

}  // namespace
}  // namespace agentserve
