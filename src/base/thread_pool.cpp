#include "base/thread_pool.h"

#include <sched.h>

#include <cstdlib>
#include <string>

#include "base/check.h"

namespace agentserve {
namespace {

// About 50 µs of spinning on a 2 GHz core before a worker sleeps.
constexpr int kSpinIterations = 20000;

inline void cpu_relax() { __builtin_ia32_pause(); }

}  // namespace

ThreadPool::ThreadPool(int num_threads) : num_threads_(num_threads < 1 ? 1 : num_threads) {
  workers_.reserve(static_cast<size_t>(num_threads_ - 1));
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  if (num_threads_ == 1) {
    fn(0, 1);
    return;
  }
  AS_CHECK_EQ(num_pending_.load(std::memory_order_acquire), 0);
  job_ = &fn;
  num_pending_.store(num_threads_ - 1, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  fn(0, num_threads_);
  int spins = 0;
  while (true) {
    int pending = num_pending_.load(std::memory_order_acquire);
    if (pending == 0) break;
    if (++spins < kSpinIterations) {
      cpu_relax();
    } else {
      num_pending_.wait(pending, std::memory_order_acquire);
    }
  }
  job_ = nullptr;
}

void ThreadPool::worker_main(int index) {
  uint32_t seen = generation_.load(std::memory_order_acquire);
  while (true) {
    int spins = 0;
    uint32_t gen;
    while ((gen = generation_.load(std::memory_order_acquire)) == seen) {
      if (++spins < kSpinIterations) {
        cpu_relax();
      } else {
        generation_.wait(seen, std::memory_order_acquire);
      }
    }
    seen = gen;
    if (stop_.load(std::memory_order_acquire)) return;
    (*job_)(index, num_threads_);
    if (num_pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) num_pending_.notify_one();
  }
}

int default_num_threads() {
  if (const char* env = std::getenv("AGENTSERVE_THREADS"); env != nullptr && *env != '\0') {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? static_cast<int>(hc) : 1;
}

}  // namespace agentserve
