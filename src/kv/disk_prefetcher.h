// Reads disk-tier pages ahead of need on a thread of its own, so the engine thread never waits
// on the disk: a request whose cached prefix lies on disk asks for its pages, keeps its place
// among the running sequences, and takes each page as it lands, while every other sequence
// goes on decoding. (A 30k-token prefix of an 8B-class model is ~4 GB of KV: seconds of disk
// reads that would otherwise stall every stream.)
//
// Pages are read in the order asked (prefix order), verified like any disk read
// (DiskTier::read), and held until taken. What is held is bounded in bytes; past the bound the
// oldest landed pages are dropped (they are still on disk: a drop costs a re-read, never data).
// Thread-safe; the read-done callback runs on the reader thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kv/disk_tier.h"

namespace agentserve {

class DiskPrefetcher {
 public:
  enum class State { kNone, kInFlight, kReady };

  // `disk` must outlive the prefetcher.
  DiskPrefetcher(DiskTier* disk, int64_t max_ready_bytes,
                 std::chrono::microseconds read_delay_for_tests = {});
  ~DiskPrefetcher();  // abandons queued reads, waits for the one in progress
  DiskPrefetcher(const DiskPrefetcher&) = delete;
  DiskPrefetcher& operator=(const DiskPrefetcher&) = delete;

  // Called (on the reader thread) after every 32nd read and whenever the queue runs dry,
  // whether the reads found their pages or not.
  void set_on_read(std::function<void()> on_read);

  State state(const Hash128& chain) const;
  // Queues reads of the chains not already queued, in flight or landed.
  void request(std::span<const Hash128> chains);
  // The landed record under `chain`, removed from the prefetcher; null when not landed.
  PageRecordPtr take(const Hash128& chain);
  // Whether reads are queued or in progress.
  bool busy() const;
  // Waits until a read completes or `timeout` passes; false when nothing is queued.
  bool wait_for_read(std::chrono::milliseconds timeout);
  // Drops queued reads and landed pages (a read in progress lands and is dropped by the epoch).
  void clear();

  int64_t ready_bytes() const;
  int64_t max_ready_bytes() const { return max_ready_bytes_; }
  int64_t dropped() const;  // landed pages dropped unused to stay within the bound

 private:
  void loop();

  DiskTier* disk_;
  const int64_t max_ready_bytes_;
  const std::chrono::microseconds read_delay_;

  struct IdentityHash {
    size_t operator()(uint64_t k) const { return static_cast<size_t>(k); }
  };
  mutable std::mutex mutex_;
  std::condition_variable cv_;       // work queued / stop
  std::condition_variable done_cv_;  // a read completed
  std::deque<Hash128> queue_;
  size_t advised_ = 0;  // leading entries of queue_ already announced to the kernel
  std::unordered_map<uint64_t, Hash128, IdentityHash> wanted_;  // queued or in flight
  std::unordered_map<uint64_t, PageRecordPtr, IdentityHash> ready_;
  std::deque<Hash128> ready_order_;  // landing order, for dropping the oldest
  int64_t ready_bytes_ = 0;
  int64_t dropped_ = 0;
  uint64_t epoch_ = 0;
  uint64_t reads_done_ = 0;
  bool stop_ = false;
  std::mutex callback_mutex_;  // set_on_read against a call in progress
  std::function<void()> on_read_;
  std::thread thread_;
};

}  // namespace agentserve
