// Fork-join pool for CPU kernels. The calling thread works too, so a pool of N threads starts
// N-1 workers.
//
// A job is a set of work items claimed dynamically: run() has one item per thread index,
// parallel_for() one per chunk. Workers join a job only while it is open; the caller closes it
// once every item is claimed and waits only for the workers that joined. So when another
// process takes a core and a worker is descheduled, the caller (or another worker) does that
// worker's share instead of waiting for a scheduler time slice. An item's result must not
// depend on which OS thread runs it (kernels use thread-local scratch only within an item).
//
// Workers spin briefly before sleeping on a futex: decode runs hundreds of short jobs per
// token, and a wake-up per job would cost more than the work.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace agentserve {

class ThreadPool {
 public:
  // nice_increment > 0 lowers the workers' scheduling priority (base/thread_priority.h).
  explicit ThreadPool(int num_threads, int nice_increment = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Calls fn(t, num_threads) once for every t in [0, num_threads) — t is a partition index,
  // not the identity of the OS thread that runs it — and returns when all calls have
  // finished. Not reentrant: fn must not use this pool.
  void run(const std::function<void(int, int)>& fn);

  // Splits [0, n) into contiguous chunks, each a multiple of `grain` (except the last), and
  // calls fn(begin, end) once per chunk.
  template <class F>
  void parallel_for(int64_t n, int64_t grain, F&& fn) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    const int64_t num_grains = (n + grain - 1) / grain;
    if (num_threads_ == 1 || num_grains == 1) {
      fn(int64_t{0}, n);
      return;
    }
    // A few chunks per thread: enough to rebalance, few enough to keep long streams.
    const int64_t num_chunks = std::min<int64_t>(num_grains, int64_t{kChunksPerThread} * num_threads_);
    const int64_t grains_per_chunk = (num_grains + num_chunks - 1) / num_chunks;
    const int64_t chunks = (num_grains + grains_per_chunk - 1) / grains_per_chunk;
    run_items(chunks, [&](int64_t c) {
      const int64_t begin = c * grains_per_chunk * grain;
      const int64_t end = std::min(n, (c + 1) * grains_per_chunk * grain);
      fn(begin, end);
    });
  }

 private:
  static constexpr int kChunksPerThread = 4;
  // Low 32 bits of job_state_: how many workers are inside the current job, plus this flag once
  // the caller has closed it to newcomers.
  static constexpr uint32_t kClosed = 1u << 31;

  void run_items(int64_t num_items, const std::function<void(int64_t)>& item);
  void work_on_items();
  void worker_main(uint32_t seen);

  int num_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t)>* item_fn_ = nullptr;
  int64_t num_items_ = 0;
  std::atomic<int64_t> next_item_{0};
  std::atomic<uint32_t> generation_{0};   // bumped per job; sleeping workers wait on it
  std::atomic<uint32_t> job_state_{0};    // participants | kClosed; the caller waits on it
  std::atomic<int> sleeping_workers_{0};
  std::atomic<int> caller_sleeping_{0};
  std::atomic<bool> stop_{false};
};

// Number of threads to use by default: AGENTSERVE_THREADS if set, else the CPUs this process
// may run on.
int default_num_threads();

}  // namespace agentserve
