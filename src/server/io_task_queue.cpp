#include "server/io_task_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace agentserve::server {

namespace {
int make_event_fd() {
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  return fd;
}
}  // namespace

IoTaskQueue::IoTaskQueue(boost::asio::io_context& io)
    : event_fd_(make_event_fd()), wakeup_(io, event_fd_) {
  arm();
}

IoTaskQueue::~IoTaskQueue() {
  boost::system::error_code ec;
  wakeup_.close(ec);  // closes event_fd_
  // Tasks still queued (the loop stopped first) are released with their references.
  IoTask* t = head_.exchange(nullptr);
  while (t != nullptr) {
    IoTask* next = t->next_;
    t->next_ = nullptr;
    t->queued_self_.reset();
    t = next;
  }
}

void IoTaskQueue::push(std::shared_ptr<IoTask> task) {
  IoTask* raw = task.get();
  raw->queued_self_ = std::move(task);
  pending_.fetch_add(1, std::memory_order_relaxed);
  IoTask* old = head_.load(std::memory_order_relaxed);
  do {
    raw->next_ = old;
  } while (!head_.compare_exchange_weak(old, raw, std::memory_order_release, std::memory_order_relaxed));
  // The stack was empty: the I/O thread has taken everything before, so wake it. Otherwise the
  // wake-up for the first task of this burst is on its way and this task rides along.
  if (old == nullptr) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(event_fd_, &one, sizeof(one));
  }
}

// Asio watches the eventfd edge-triggered and keeps no readiness for a wait that is not queued:
// an edge the reactor reports while none is queued is gone. So the next wait is queued before
// the stack is emptied: a task pushed before that is taken by this run_all, one pushed after it
// completes the new wait. (With one thread per io_context, as the server runs them, the reactor
// could not look before this handler returns anyway; the order keeps it right regardless.)
void IoTaskQueue::arm() {
  wakeup_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       if (ec) return;  // closed: the server is stopping
                       arm();
                       uint64_t count;
                       [[maybe_unused]] const ssize_t n = ::read(event_fd_, &count, sizeof(count));
                       run_all();
                     });
}

void IoTaskQueue::run_all() {
  // Tasks pushed while these run take the next round of this loop; their wake-up of the eventfd
  // then finds the stack empty, which costs one spare round.
  while (IoTask* newest = head_.exchange(nullptr, std::memory_order_acquire)) {
    IoTask* oldest = nullptr;  // reverse: run in the order they were handed over
    while (newest != nullptr) {
      IoTask* next = newest->next_;
      newest->next_ = oldest;
      oldest = newest;
      newest = next;
    }
    while (oldest != nullptr) {
      IoTask* next = oldest->next_;
      oldest->next_ = nullptr;
      std::shared_ptr<IoTask> self = std::move(oldest->queued_self_);
      pending_.fetch_sub(1, std::memory_order_relaxed);
      self->run_on_io();
      oldest = next;
    }
  }
}

}  // namespace agentserve::server
