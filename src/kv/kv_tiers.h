// The KV cache tiers below the page pool: host RAM, then disk (kv/ram_tier.h, kv/disk_tier.h).
// Listens to the radix cache (kv/radix_cache.h) and serves the scheduler's lookups.
//
// When pages move:
//   - A page the radix cache adopts is written through to disk (exported on the engine thread,
//     written by the disk tier's writer thread), unless the disk already has it. Write-through
//     rather than write-back from RAM: a server killed with -9 (or crashing) keeps everything
//     it computed, and a clean shutdown or a RAM eviction never has to write gigabytes at once.
//   - A page the radix cache evicts goes to RAM (exported). RAM drops its least recently used
//     pages when full; one the disk lacks (tier off earlier, write dropped) is queued for it.
//   - On lookup, a page found in RAM is taken out of RAM into a pool page (it returns to RAM
//     when evicted again); one found on disk is read into a pool page and stays on disk.
//     Disk reads for the scheduler run ahead on the prefetcher's thread (kv/disk_prefetcher.h):
//     `probe` says whether a page is ready now or must come from disk, `prefetch` queues the
//     reads, and the engine sleeps on `set_on_read` when nothing else can run meanwhile.
//
// Recompute or load: RAM is always cheaper than recomputing a page. A disk page is loaded when
// reading it is expected to be faster than prefilling its tokens:
//   page_bytes / read_bytes_per_s  <  page_size / prefill_tokens_per_s
// with both rates measured (the disk tier times its reads; the engine reports the prefill
// rate of its steps), optimistic (load) until measured. Loading is per page in prefix order;
// the rule holds for all disk pages of a model alike (probe() applies it to each page).
//
// Engine thread only, except the stats (atomics), the disk writer inside DiskTier and the
// prefetcher's reader.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "kv/disk_prefetcher.h"
#include "kv/disk_tier.h"
#include "kv/ram_tier.h"
#include "kv/radix_cache.h"

namespace agentserve {

enum class DiskLoadPolicy {
  kAuto,    // when the read is expected to beat recomputing (above)
  kAlways,  // whenever the page is on disk (tests; a slow compute device)
  kNever,
};

struct KvTierOptions {
  int64_t ram_bytes = 0;     // 0: no RAM tier
  std::string disk_dir;      // root; the model fingerprint's directory goes below it
  int64_t disk_bytes = 0;    // 0 or an empty dir: no disk tier
  bool disk_sync = true;
  DiskLoadPolicy disk_load = DiskLoadPolicy::kAuto;
  // Disk pages for the scheduler are read ahead on the prefetcher's thread; false: on the
  // engine thread, inside the step that admits the request (benchmarks: the reference).
  bool disk_read_ahead = true;
  // Disk pages read ahead and not yet taken, at most (the prefetcher's bound).
  int64_t disk_prefetch_bytes = 256ll << 20;
  int64_t disk_read_delay_us = 0;  // tests: a slow disk
  bool progress = true;
  bool enabled() const { return ram_bytes > 0 || (disk_bytes > 0 && !disk_dir.empty()); }
};

// How the tiers reach page bytes (Backend::export_page / import_page of the pool's pages).
struct PageIo {
  std::function<void(int32_t page, void* dst)> export_page;
  std::function<void(int32_t page, const void* src)> import_page;
};

struct TierStats {
  int64_t pages = 0;
  int64_t bytes = 0;
  int64_t capacity_bytes = 0;
  int64_t hits = 0;     // pages found here by lookups
  int64_t lookups = 0;  // pages looked up here (the ones the tiers above did not have)
};

class KvTiers : public RadixCacheListener {
 public:
  // Opens the disk tier (loading its index) when configured; a disk tier that cannot be opened
  // is logged and left off — the cache is an optimisation, never a reason not to serve.
  KvTiers(const KvTierOptions& options, const Hash128& model_fingerprint, int32_t page_size,
          size_t page_bytes, PageIo io);
  ~KvTiers() override;  // flushes queued disk writes

  void on_insert(const CachedPageInfo& page) override;
  void on_evict(const CachedPageInfo& page) override;

  // Where a lookup finds `chain` below the pool (disk only when loading it is worth it).
  enum class Probe {
    kAbsent,  // in no tier (or on disk where recomputing is faster)
    kReady,   // fetch() takes it now: in RAM or read ahead (or, without read-ahead, on disk)
    kOnDisk,  // on disk, to be read: prefetch() it and come back when it has landed
  };
  Probe probe(const Hash128& chain) const;
  // Queues background reads of these disk pages (in this order); pages already queued or
  // landed are skipped.
  void prefetch(std::span<const Hash128> chains);
  // Brings the page `chain` (parent, depth and tokens as the caller's prompt has them) into
  // pool page `dst`: true when found in a tier with exactly these tokens and parent. A disk page
  // not read ahead is read here, on the caller's thread.
  bool fetch(const Hash128& chain, const Hash128& parent, int32_t depth,
             std::span<const int32_t> tokens, int32_t dst);
  // Whether background reads are queued or in progress.
  bool reads_in_flight() const { return prefetcher_ != nullptr && prefetcher_->busy(); }
  // Waits for the next background read to complete (or `timeout`); false when none is queued.
  bool wait_for_read(std::chrono::milliseconds timeout) {
    return prefetcher_ != nullptr && prefetcher_->wait_for_read(timeout);
  }
  // Called on the reader thread after every 32nd background read and whenever its queue runs
  // dry (the engine's wake-up).
  void set_on_read(std::function<void()> on_read) {
    if (prefetcher_ != nullptr) prefetcher_->set_on_read(std::move(on_read));
  }
  // How many pages ahead one sequence reads: half the prefetcher's bound, so two sequences
  // loading at once do not drop each other's pages.
  int32_t prefetch_window_pages() const;

  // Tokens per second of the engine's recent prefill steps (for the load-or-recompute rule).
  void note_prefill_rate(double tokens_per_second);
  bool disk_worth_loading() const;

  void flush();  // waits for queued disk writes
  // Forgets every page in RAM and on disk (POST /v1/cache/clear). Detach from the radix cache
  // while it evicts for a clear, or the evicted pages land here again.
  void clear();
  TierStats ram_stats() const;
  TierStats disk_stats() const;
  const RamTier* ram() const { return ram_.get(); }
  DiskTier* disk() const { return disk_.get(); }

 private:
  PageRecordPtr export_record(const CachedPageInfo& page) const;

  KvTierOptions options_;
  int32_t page_size_;
  size_t page_bytes_;
  PageIo io_;
  std::unique_ptr<RamTier> ram_;
  std::unique_ptr<DiskTier> disk_;
  std::unique_ptr<DiskPrefetcher> prefetcher_;  // with disk_; declared after it: stops first
  double prefill_tps_ = 0;  // EMA; 0: not measured yet
};

}  // namespace agentserve
