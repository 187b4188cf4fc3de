#include "kv/kv_tiers.h"

#include <algorithm>
#include <cstring>

#include "base/log.h"

namespace agentserve {

KvTiers::KvTiers(const KvTierOptions& options, const Hash128& model_fingerprint, int32_t page_size,
                 size_t page_bytes, PageIo io)
    : options_(options), page_size_(page_size), page_bytes_(page_bytes), io_(std::move(io)) {
  if (options.ram_bytes > 0) ram_ = std::make_unique<RamTier>(options.ram_bytes);
  if (options.disk_bytes > 0 && !options.disk_dir.empty()) {
    DiskTierOptions d;
    d.root_dir = options.disk_dir;
    d.capacity_bytes = options.disk_bytes;
    d.model_fingerprint = model_fingerprint;
    d.page_size = page_size;
    d.page_bytes = page_bytes;
    d.sync = options.disk_sync;
    d.progress = options.progress;
    auto disk = DiskTier::open(std::move(d));
    if (disk.ok()) disk_ = std::move(*disk);
    else AS_LOG_ERROR("KV cache disk tier off: {}", disk.error().to_string());
  }
  if (disk_ != nullptr) {
    // Room for at least a few pages of any model (a 70B-class page is ~5 MB).
    const int64_t bound = std::max<int64_t>(options.disk_prefetch_bytes,
                                            4 * static_cast<int64_t>(page_bytes));
    prefetcher_ = std::make_unique<DiskPrefetcher>(
        disk_.get(), bound, std::chrono::microseconds(options.disk_read_delay_us));
  }
}

KvTiers::~KvTiers() {
  prefetcher_.reset();  // its reader uses the disk tier
  flush();
}

PageRecordPtr KvTiers::export_record(const CachedPageInfo& page) const {
  auto r = std::make_shared<PageRecord>();
  r->chain = page.chain;
  r->parent = page.parent;
  r->depth = page.depth;
  r->tokens.assign(page.tokens.begin(), page.tokens.end());
  r->bytes.resize(page_bytes_);
  io_.export_page(page.page, r->bytes.data());
  return r;
}

void KvTiers::on_insert(const CachedPageInfo& page) {
  // Write-through (see the header): the disk copy exists from the moment the page is cached.
  if (disk_ != nullptr && !disk_->contains(page.chain)) disk_->enqueue(export_record(page));
}

void KvTiers::on_evict(const CachedPageInfo& page) {
  if (ram_ == nullptr) {
    // Normally written through already; not if its write was dropped under load.
    if (disk_ != nullptr && !disk_->contains(page.chain)) disk_->enqueue(export_record(page));
    return;
  }
  for (PageRecordPtr& dropped : ram_->put(export_record(page)))
    if (disk_ != nullptr && !disk_->contains(dropped->chain)) disk_->enqueue(std::move(dropped));
}

void KvTiers::note_prefill_rate(double tps) {
  if (tps <= 0) return;
  prefill_tps_ = prefill_tps_ == 0 ? tps : 0.9 * prefill_tps_ + 0.1 * tps;
}

bool KvTiers::disk_worth_loading() const {
  if (disk_ == nullptr) return false;
  switch (options_.disk_load) {
    case DiskLoadPolicy::kAlways: return true;
    case DiskLoadPolicy::kNever: return false;
    case DiskLoadPolicy::kAuto: break;
  }
  const double read_bps = disk_->read_bytes_per_second();
  if (read_bps <= 0 || prefill_tps_ <= 0) return true;  // unmeasured: try, and measure
  return static_cast<double>(page_bytes_) / read_bps < static_cast<double>(page_size_) / prefill_tps_;
}

KvTiers::Probe KvTiers::probe(const Hash128& chain) const {
  if (ram_ != nullptr && ram_->contains(chain)) return Probe::kReady;
  if (prefetcher_ == nullptr) return Probe::kAbsent;
  if (prefetcher_->state(chain) == DiskPrefetcher::State::kReady) return Probe::kReady;
  if (!disk_worth_loading() || !disk_->contains(chain)) return Probe::kAbsent;
  return options_.disk_read_ahead ? Probe::kOnDisk : Probe::kReady;  // kReady: fetch() reads it
}

int32_t KvTiers::prefetch_window_pages() const {
  if (prefetcher_ == nullptr) return 0;
  const int64_t pages = prefetcher_->max_ready_bytes() / 2 / static_cast<int64_t>(page_bytes_);
  return static_cast<int32_t>(std::clamp<int64_t>(pages, 1, 1024));
}

void KvTiers::prefetch(std::span<const Hash128> chains) {
  if (prefetcher_ != nullptr) prefetcher_->request(chains);
}

bool KvTiers::fetch(const Hash128& chain, const Hash128& parent, int32_t depth,
                    std::span<const int32_t> tokens, int32_t dst) {
  // The key is a 128-bit hash; the tokens and parent are compared anyway, so a collision can
  // only cost a miss.
  auto matches = [&](const PageRecord& r) {
    return r.chain == chain && r.parent == parent && r.depth == depth &&
           r.tokens.size() == tokens.size() &&
           std::equal(r.tokens.begin(), r.tokens.end(), tokens.begin()) &&
           r.bytes.size() == page_bytes_;
  };
  PageRecordPtr r;
  if (ram_ != nullptr) r = ram_->take(chain);
  if (r == nullptr && prefetcher_ != nullptr) r = prefetcher_->take(chain);
  if (r == nullptr && disk_worth_loading()) r = disk_->read(chain);
  if (r == nullptr || !matches(*r)) return false;
  io_.import_page(dst, r->bytes.data());
  return true;
}

void KvTiers::flush() {
  if (disk_ != nullptr) disk_->flush();
}

void KvTiers::clear() {
  if (prefetcher_ != nullptr) prefetcher_->clear();
  if (ram_ != nullptr) ram_->clear();
  if (disk_ != nullptr) disk_->clear();
}

TierStats KvTiers::ram_stats() const {
  TierStats s;
  if (ram_ == nullptr) return s;
  s.pages = ram_->num_pages();
  s.bytes = ram_->num_bytes();
  s.capacity_bytes = ram_->capacity_bytes();
  s.hits = ram_->hits();
  s.lookups = ram_->lookups();
  return s;
}

TierStats KvTiers::disk_stats() const {
  TierStats s;
  if (disk_ == nullptr) return s;
  s.pages = disk_->num_pages();
  s.bytes = disk_->num_bytes();
  s.capacity_bytes = disk_->capacity_bytes();
  s.hits = disk_->hits();
  s.lookups = disk_->lookups();
  return s;
}

}  // namespace agentserve
