// Work another thread hands to an I/O thread many times a second: a stream's new engine events,
// one hand-over per token. HttpExchange::post_task() queues it without an allocation or a lock,
// and one wake-up of the I/O thread runs every task handed over before the thread got to them.
#pragma once

#include <memory>

namespace agentserve::server {

class IoTaskQueue;

class IoTask {
 public:
  virtual ~IoTask() = default;
  // Runs on the I/O thread, once per post_task() call.
  virtual void run_on_io() = 0;

 private:
  friend class IoTaskQueue;
  // While queued: the next older task, and the reference that keeps this one alive. A task is
  // in at most one queue at a time, and queued again only after run_on_io() began (the caller
  // keeps a flag), so these fields have one owner at any moment.
  IoTask* next_ = nullptr;
  std::shared_ptr<IoTask> queued_self_;
};

}  // namespace agentserve::server
