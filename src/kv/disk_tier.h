// The disk tier: KV pages kept in files so that they outlive the process. One file per page,
// named by its chain hash, under <dir>/<model fingerprint>/<first byte of the hash>/:
//
//   <kv-cache-dir>/<fingerprint, 32 hex>/<hh>/<chain hash, 32 hex>.kvp
//
// One file per page, not segment files: a page is large (a 7B-class model's 16-token page is
// ~1–2 MB in bf16), so the capacity bounds the count (20 GiB → ~10–20k files for such models,
// spread over 256 directories); every record is published by one atomic rename, so there is
// no index file to keep consistent and no compaction; LRU eviction is one unlink.
//
// Record (little-endian):
//   offset  size
//   0       8    magic "ASKVPAGE"
//   8       4    format version (kDiskPageFormatVersion)
//   12      4    header bytes H = 84 + 4 * num_tokens
//   16      16   model fingerprint (lo, hi)
//   32      16   chain hash (lo, hi)
//   48      16   parent chain hash (lo, hi)
//   64      4    depth (page index in its prefix)
//   68      4    num_tokens (= page size)
//   72      8    payload bytes P (= KvGeometry::page_bytes())
//   80      4N   token ids
//   80+4N   4    CRC-32C of bytes [0, 80 + 4N): lets the startup scan trust the header alone
//   H       P    payload: the page as Backend::export_page writes it
//   H+P     4    CRC-32C of bytes [0, H + P): header and payload
//
// Crash safety: a record is written to "<name>.tmp.<pid>", fdatasync'd, then renamed, so a
// reader sees either nothing or a complete file; temp files left by a killed writer are deleted
// at startup. The checksums make that belt and braces: a torn, truncated, zero-length or
// bit-flipped file, a wrong version or another model's file is never loaded — the startup scan
// checks size, magic, version, fingerprint, header CRC and that the chain hash matches parent
// and tokens; a read checks it all again plus the full CRC — and is deleted with a warning.
//
// Capacity: the cap covers the whole cache directory, every model's pages in it, not only this
// model's: pages of other models (left by earlier runs) count against it, and whichever page,
// of any model, was used least recently is deleted first. So serving one model after another
// never fills the disk beyond the one figure the user gave.
//
// Threads: writes run on the tier's own writer thread; the engine thread only queues the
// exported record (a queue bounded in bytes: when the disk falls behind, pages are dropped,
// never waited for). Reads run on the caller's thread: the prefetcher's reader
// (kv/disk_prefetcher.h) for the scheduler, the engine only without read-ahead; read() is safe
// from several threads at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "kv/page_record.h"

namespace agentserve {

inline constexpr uint32_t kDiskPageFormatVersion = 1;

struct DiskTierOptions {
  std::string root_dir;           // the fingerprint's directory is made below it
  int64_t capacity_bytes = 0;     // of record files under root_dir, all models together
  Hash128 model_fingerprint{};
  int32_t page_size = 16;
  size_t page_bytes = 0;
  bool sync = true;               // fdatasync each record before its rename
  int64_t max_queued_bytes = 256ll << 20;  // writes waiting for the disk; beyond: dropped
  bool progress = true;           // progress on stderr while a large index loads
};

// The file bytes of one record (tests also build corrupt or foreign ones from it).
std::vector<uint8_t> encode_page_file(const PageRecord& record, const Hash128& model_fingerprint,
                                      uint32_t version = kDiskPageFormatVersion);

class DiskTier {
 public:
  // Creates the directories and loads the index of what is there (deleting what is invalid).
  static Result<std::unique_ptr<DiskTier>> open(DiskTierOptions options);
  ~DiskTier();  // writes what is queued, then stops the writer
  DiskTier(const DiskTier&) = delete;
  DiskTier& operator=(const DiskTier&) = delete;

  const std::string& dir() const { return dir_; }
  std::string path_of(const Hash128& chain) const;

  // Stored or queued.
  bool contains(const Hash128& chain) const;
  // Queues `record` for writing; false when it is already stored or queued, or the queue is full.
  bool enqueue(PageRecordPtr record);
  // The record under `chain` from the write queue or its file, fully verified; null when absent
  // or invalid (an invalid file is deleted). Counts a lookup (and a hit). Refreshes its LRU
  // position (and the file's mtime, which orders the LRU after a restart).
  PageRecordPtr read(const Hash128& chain);
  // Blocks until every queued record is written (or failed).
  void flush();
  // Forgets every page: drops queued writes and deletes every record file (a write in flight
  // is deleted when it lands).
  void clear();

  int64_t capacity_bytes() const { return options_.capacity_bytes; }
  // This model's pages and bytes (the cap also counts other_models_bytes()).
  int64_t num_pages() const { return pages_.load(std::memory_order_relaxed); }
  int64_t num_bytes() const { return bytes_.load(std::memory_order_relaxed); }
  int64_t lookups() const { return lookups_.load(std::memory_order_relaxed); }
  int64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  int64_t writes() const { return writes_.load(std::memory_order_relaxed); }
  int64_t dropped_writes() const { return dropped_.load(std::memory_order_relaxed); }
  int64_t invalid_files() const { return invalid_.load(std::memory_order_relaxed); }
  // Record files of other models under root_dir that count against the capacity.
  int64_t other_models_bytes() const { return others_bytes_.load(std::memory_order_relaxed); }
  // Measured read throughput of page records (bytes/s), 0 before the first read.
  double read_bytes_per_second() const { return read_bps_.load(std::memory_order_relaxed); }

 private:
  explicit DiskTier(DiskTierOptions options);
  Status load_index();
  // Finds the record files of other models' directories under root_dir (oldest first).
  void scan_other_models();
  void writer_loop();
  bool write_record(const PageRecord& record);
  // Checks a file's header (and, when `full`, payload and CRC) and decodes it.
  bool decode(const std::vector<uint8_t>& file, const Hash128& expected_chain, bool full,
              PageRecord* out, std::string* why) const;
  void drop_invalid(const Hash128& chain, const std::string& path, const std::string& why);
  size_t file_bytes() const;
  // With mutex_ held: adds an entry last used at `used_ns` (wall clock, as file mtimes are;
  // 0: now) at its place in the LRU; returns paths to unlink to stay within capacity.
  std::vector<std::string> index_add(const Hash128& chain, int64_t used_ns = 0);
  void index_erase(uint64_t key);

  DiskTierOptions options_;
  std::string dir_;

  struct IdentityHash {
    size_t operator()(uint64_t k) const { return static_cast<size_t>(k); }
  };
  mutable std::mutex mutex_;
  std::condition_variable cv_;       // queue not empty / stop
  std::condition_variable idle_cv_;  // queue drained
  struct Entry {
    Hash128 chain;
    int64_t used_ns;  // last use, wall clock
  };
  std::list<Entry> lru_;  // front: most recently used
  std::unordered_map<uint64_t, std::list<Entry>::iterator, IdentityHash> index_;
  struct OtherFile {
    int64_t used_ns;
    int64_t bytes;
    std::string path;
  };
  std::deque<OtherFile> others_;  // other models' records, oldest first
  std::deque<PageRecordPtr> queue_;
  std::unordered_map<uint64_t, PageRecordPtr, IdentityHash> queued_;  // queue_ and in flight
  int64_t queued_bytes_ = 0;
  bool stop_ = false;
  uint64_t epoch_ = 0;               // bumped by clear()
  std::thread writer_;

  std::atomic<int64_t> pages_{0}, bytes_{0}, lookups_{0}, hits_{0}, writes_{0}, dropped_{0},
      invalid_{0}, others_bytes_{0};
  std::atomic<double> read_bps_{0};
};

}  // namespace agentserve
