// Fork-join pool for CPU kernels. The calling thread works as thread 0, so a pool of N threads
// starts N-1 workers. Workers spin briefly before sleeping: decode runs hundreds of short
// parallel regions per token, and a futex wake-up per region would cost more than the work.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace agentserve {

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Runs fn(thread_index, num_threads) once on each thread; returns when all have finished.
  // Not reentrant: fn must not call run() on the same pool.
  void run(const std::function<void(int, int)>& fn);

  // Splits [0, n) into one contiguous range per thread, each a multiple of `grain` (except the
  // last), and calls fn(begin, end) for the non-empty ones.
  template <class F>
  void parallel_for(int64_t n, int64_t grain, F&& fn) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    const int64_t num_chunks = (n + grain - 1) / grain;
    if (num_threads_ == 1 || num_chunks == 1) {
      fn(int64_t{0}, n);
      return;
    }
    run([&](int t, int nt) {
      const int64_t per = (num_chunks + nt - 1) / nt;
      const int64_t begin = std::min(n, per * t * grain);
      const int64_t end = std::min(n, per * (t + 1) * grain);
      if (begin < end) fn(begin, end);
    });
  }

 private:
  void worker_main(int index, uint32_t seen);

  int num_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  // Sleeping uses raw futexes with explicit sleeper counts: libstdc++ 12's atomic wait/notify
  // lost wake-ups here (both sides asleep). A waker issues FUTEX_WAKE only when the count
  // says someone may sleep; seq_cst on both sides makes that check race-free.
  std::atomic<uint32_t> generation_{0};
  std::atomic<uint32_t> num_pending_{0};
  std::atomic<int> sleeping_workers_{0};
  std::atomic<int> caller_sleeping_{0};
  std::atomic<bool> stop_{false};
};

// Number of threads to use by default: AGENTSERVE_THREADS if set, else the CPUs this process
// may run on.
int default_num_threads();

}  // namespace agentserve
