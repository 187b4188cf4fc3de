// The hand-over of IoTasks to one io_context: a lock-free stack that producers push onto, and an
// eventfd that the io_context's reactor watches; its handler runs what accumulated, oldest first.
//
// Why not asio::post per token: each post allocates its handler and takes the io_context's lock,
// and when the loop sleeps in epoll_wait Asio wakes it *while holding that lock*. On a small
// machine the woken I/O thread often ran on the engine's CPU at once, blocked on the lock the
// engine still held, and had to be woken a second time (futex waits were 7–9 % of the I/O
// thread's samples at 64 streams). Here the producer writes the eventfd holding nothing, and
// only for the first task of a burst.
#pragma once

#include <atomic>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "server/io_task.h"

namespace agentserve::server {

class IoTaskQueue {
 public:
  // Call on io's thread or before it runs.
  explicit IoTaskQueue(boost::asio::io_context& io);
  ~IoTaskQueue();
  IoTaskQueue(const IoTaskQueue&) = delete;
  IoTaskQueue& operator=(const IoTaskQueue&) = delete;

  // Any thread. `task` must not already be queued (see IoTask).
  void push(std::shared_ptr<IoTask> task);

  // Tasks pushed and not yet run (tests).
  size_t pending() const { return pending_.load(std::memory_order_acquire); }

 private:
  void arm();
  void run_all();

  int event_fd_ = -1;
  boost::asio::posix::stream_descriptor wakeup_;  // watches event_fd_
  std::atomic<IoTask*> head_{nullptr};            // newest first
  std::atomic<size_t> pending_{0};
};

}  // namespace agentserve::server
