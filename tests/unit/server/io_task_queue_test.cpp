// IoTaskQueue: every pushed task runs exactly once on the io_context's thread, in hand-over order,
// and no wake-up is lost when producers race the loop (the eventfd is watched edge-triggered).
#include "server/io_task_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace agentserve::server {
namespace {

// A task that a producer queues only while it is not queued (the contract of IoTask), like a
// stream's drain.
class CountingTask : public IoTask {
 public:
  explicit CountingTask(std::atomic<int64_t>* runs, std::thread::id* io_thread = nullptr)
      : runs_(runs), io_thread_(io_thread) {}
  void run_on_io() override {
    if (io_thread_ != nullptr) {
      EXPECT_EQ(std::this_thread::get_id(), *io_thread_);
    }
    queued.store(false);
    runs_->fetch_add(1);
  }
  std::atomic<bool> queued{false};

 private:
  std::atomic<int64_t>* runs_;
  std::thread::id* io_thread_;
};

class RecordingTask : public IoTask {
 public:
  RecordingTask(int id, std::vector<int>* order) : id_(id), order_(order) {}
  void run_on_io() override { order_->push_back(id_); }

 private:
  int id_;
  std::vector<int>* order_;
};

TEST(IoTaskQueue, RunsTasksInHandOverOrder) {
  boost::asio::io_context io;
  IoTaskQueue queue(io);
  std::vector<int> order;
  std::vector<std::shared_ptr<RecordingTask>> tasks;
  for (int i = 0; i < 5; ++i) tasks.push_back(std::make_shared<RecordingTask>(i, &order));
  for (auto& t : tasks) queue.push(t);
  EXPECT_EQ(queue.pending(), 5u);
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(queue.pending(), 0u);
}

TEST(IoTaskQueue, KeepsQueuedTasksAliveAndReleasesThemWhenDestroyed) {
  std::weak_ptr<IoTask> weak;
  std::atomic<int64_t> runs{0};
  {
    boost::asio::io_context io;
    IoTaskQueue queue(io);
    auto task = std::make_shared<CountingTask>(&runs);
    weak = task;
    queue.push(std::move(task));
    EXPECT_FALSE(weak.expired());  // only the queue holds it now
  }  // the loop never ran
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(runs.load(), 0);
}

// Producers on several threads hand over tasks as fast as they can while the loop runs them:
// every hand-over must run, and none may wait for a wake-up that never comes.
TEST(IoTaskQueue, NoHandOverIsLostUnderRacingProducers) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  IoTaskQueue queue(io);
  std::thread::id io_thread;
  std::thread loop([&] {
    io_thread = std::this_thread::get_id();
    io.run();
  });
  while (io_thread == std::thread::id{}) std::this_thread::yield();

  constexpr int kProducers = 3;
  constexpr int kTasksPerProducer = 16;
  constexpr int64_t kHandOversPerProducer = 60000;
  std::atomic<int64_t> runs{0};
  std::atomic<int64_t> pushed{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&] {
      std::vector<std::shared_ptr<CountingTask>> tasks;
      for (int i = 0; i < kTasksPerProducer; ++i) tasks.push_back(std::make_shared<CountingTask>(&runs, &io_thread));
      int64_t done = 0;
      for (size_t i = 0; done < kHandOversPerProducer; ++i) {
        auto& t = tasks[i % tasks.size()];
        if (t->queued.exchange(true)) continue;  // still queued: like a drain already scheduled
        queue.push(t);
        ++done;
      }
      pushed.fetch_add(done);
      // The last hand-overs of this producer must still run: wait for its tasks to drain.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      for (auto& t : tasks)
        while (t->queued.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    });
  }
  for (auto& t : producers) t.join();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (runs.load() < pushed.load() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  guard.reset();
  io.stop();
  loop.join();
  EXPECT_EQ(pushed.load(), kProducers * kHandOversPerProducer);
  EXPECT_EQ(runs.load(), pushed.load());
  EXPECT_EQ(queue.pending(), 0u);
}

// One task handed over again and again, each time only after the loop ran it: the pattern of a
// stream that gets one token per engine step, where every hand-over finds the stack empty and
// must wake the loop itself.
TEST(IoTaskQueue, EveryHandOverToAnIdleLoopWakesIt) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  IoTaskQueue queue(io);
  std::thread loop([&] { io.run(); });
  std::atomic<int64_t> runs{0};
  auto task = std::make_shared<CountingTask>(&runs);
  // The hand-over comes a varying moment after the previous run, so that over the iterations it
  // lands at every point of the loop's way back to sleep (taking the stack, queuing its wait).
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> spin(0, 400);
  for (int64_t i = 1; i <= 40000; ++i) {
    std::atomic<int> k = spin(rng);
    while (k.fetch_sub(1, std::memory_order_relaxed) > 0) {
    }
    task->queued.store(true);
    queue.push(task);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (runs.load() < i && std::chrono::steady_clock::now() < deadline) {
    }
    ASSERT_EQ(runs.load(), i) << "hand-over " << i << " was not run";
  }
  guard.reset();
  io.stop();
  loop.join();
}

}  // namespace
}  // namespace agentserve::server
