#include "base/thread_pool.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <string>

#include "base/check.h"
#include "base/thread_name.h"
#include "base/thread_priority.h"

namespace agentserve {
namespace {

// Spin this long before sleeping on the futex. Bounded by time, not iterations: `pause`
// takes ~10 cycles on older cores and ~140 on Sapphire Rapids.
constexpr auto kSpinTime = std::chrono::microseconds(50);

inline void cpu_relax() { __builtin_ia32_pause(); }

// Spins until done() or the spin time has passed; returns done()'s last value.
template <class F>
bool spin_until(F&& done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (int i = 0;; ++i) {
    if (done()) return true;
    cpu_relax();
    if ((i & 31) == 31 && std::chrono::steady_clock::now() > deadline) return done();
  }
}

// Sleeping uses raw futexes with explicit sleeper counts (libstdc++ 12's atomic wait/notify
// lost wake-ups here). A waker issues FUTEX_WAKE only when a count says someone may sleep;
// seq_cst on both sides makes that check race-free.
void futex_wait(std::atomic<uint32_t>* word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
}

void futex_wake_all(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}

}  // namespace

ThreadPool::ThreadPool(int num_threads, int nice_increment)
    : num_threads_(num_threads < 1 ? 1 : num_threads) {
  workers_.reserve(static_cast<size_t>(num_threads_ - 1));
  // A worker starts from the generation at construction: one that read it only when its
  // thread got going could mistake an already started job for an old one.
  const uint32_t start_generation = generation_.load();
  for (int i = 1; i < num_threads_; ++i)
    workers_.emplace_back([this, start_generation, nice_increment, i] {
      set_current_thread_name("as-compute-" + std::to_string(i));
      lower_current_thread_priority(nice_increment);
      worker_main(start_generation);
    });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  futex_wake_all(&generation_);
  for (auto& w : workers_) w.join();
}

void ThreadPool::work_on_items() {
  const std::function<void(int64_t)>& fn = *item_fn_;
  for (int64_t i = next_item_.fetch_add(1); i < num_items_; i = next_item_.fetch_add(1)) fn(i);
}

void ThreadPool::run_items(int64_t num_items, const std::function<void(int64_t)>& item) {
  AS_CHECK_EQ(job_state_.load() & ~kClosed, 0u);
  item_fn_ = &item;
  num_items_ = num_items;
  next_item_.store(0);
  job_state_.store(0);  // open, no participants
  generation_.fetch_add(1);
  if (sleeping_workers_.load() > 0) futex_wake_all(&generation_);
  work_on_items();
  // Every item is claimed: close the job and wait for the workers inside it.
  job_state_.fetch_or(kClosed);
  while (!spin_until([&] { return job_state_.load() == kClosed; })) {
    const uint32_t state = job_state_.load();
    if (state == kClosed) break;
    caller_sleeping_.fetch_add(1);
    futex_wait(&job_state_, state);
    caller_sleeping_.fetch_sub(1);
  }
  item_fn_ = nullptr;
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  if (num_threads_ == 1) {
    fn(0, 1);
    return;
  }
  const int n = num_threads_;
  run_items(n, [&](int64_t t) { fn(static_cast<int>(t), n); });
}

void ThreadPool::worker_main(uint32_t seen) {
  while (true) {
    while (!spin_until([&] { return generation_.load() != seen; })) {
      sleeping_workers_.fetch_add(1);
      futex_wait(&generation_, seen);
      sleeping_workers_.fetch_sub(1);
    }
    seen = generation_.load();
    if (stop_.load()) return;
    // Join the job unless the caller has already closed it (then it is finished or nearly).
    uint32_t state = job_state_.load();
    bool joined = false;
    while ((state & kClosed) == 0) {
      if (job_state_.compare_exchange_weak(state, state + 1)) {
        joined = true;
        break;
      }
    }
    if (!joined) continue;
    // The job we joined may be newer than `seen` if we slept through one: either way it is
    // the current one, and item_fn_ stays valid until every participant has left.
    work_on_items();
    const uint32_t after = job_state_.fetch_sub(1) - 1;
    if (after == kClosed && caller_sleeping_.load() > 0) futex_wake_all(&job_state_);
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
