#include "base/thread_pool.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "base/check.h"

namespace agentserve {
namespace {

// About 50 µs of spinning on a 2 GHz core before a worker sleeps.
constexpr int kSpinIterations = 20000;

inline void cpu_relax() { __builtin_ia32_pause(); }

// Sleeps while *word == expected (returns at once if it already differs).
void futex_wait(std::atomic<uint32_t>* word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
}

void futex_wake_all(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr,
          nullptr, 0);
}

}  // namespace

ThreadPool::ThreadPool(int num_threads) : num_threads_(num_threads < 1 ? 1 : num_threads) {
  workers_.reserve(static_cast<size_t>(num_threads_ - 1));
  // A worker must start from the generation at construction: one that read it only when its
  // thread got going could miss a run() that began before.
  const uint32_t start_generation = generation_.load();
  for (int i = 1; i < num_threads_; ++i)
    workers_.emplace_back([this, i, start_generation] { worker_main(i, start_generation); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  futex_wake_all(&generation_);
  for (auto& w : workers_) w.join();
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  if (num_threads_ == 1) {
    fn(0, 1);
    return;
  }
  AS_CHECK_EQ(num_pending_.load(), 0u);
  job_ = &fn;
  num_pending_.store(static_cast<uint32_t>(num_threads_ - 1));
  generation_.fetch_add(1);
  if (sleeping_workers_.load() > 0) futex_wake_all(&generation_);
  fn(0, num_threads_);
  int spins = 0;
  while (true) {
    const uint32_t pending = num_pending_.load();
    if (pending == 0) break;
    if (++spins < kSpinIterations) {
      cpu_relax();
      continue;
    }
    caller_sleeping_.fetch_add(1);
    futex_wait(&num_pending_, pending);
    caller_sleeping_.fetch_sub(1);
  }
  job_ = nullptr;
}

void ThreadPool::worker_main(int index, uint32_t seen) {
  while (true) {
    int spins = 0;
    uint32_t gen;
    while ((gen = generation_.load()) == seen) {
      if (++spins < kSpinIterations) {
        cpu_relax();
        continue;
      }
      sleeping_workers_.fetch_add(1);
      futex_wait(&generation_, seen);
      sleeping_workers_.fetch_sub(1);
    }
    seen = gen;
    if (stop_.load()) return;
    (*job_)(index, num_threads_);
    if (num_pending_.fetch_sub(1) == 1 && caller_sleeping_.load() > 0)
      futex_wake_all(&num_pending_);
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
