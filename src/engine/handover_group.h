// How a step's token events reach their consumers: pushed one by one as they are sampled, their
// consumers woken in groups. Waking a consumer thread that sleeps (the server's I/O thread
// between two tokens) costs the waking thread a system call and, in a VM, an inter-processor
// interrupt: a few µs that the engine thread pays alone while the compute threads wait. On
// the tiny test model (64 streams, 16 cores) the engine thread's part of a step — sampling and
// hand-over, half the step there — was 6–9 % slower over HTTP than with no consumer, the forward
// passes unchanged; grouped at 100 µs, the whole step's slowdown went from ~4.3 % to ~1.4 %
// (docs/benchmarks.md). A group wakes its consumers together once its oldest
// token has waited `window`; the I/O thread, woken by the first, finds the others queued.
#pragma once

#include <chrono>
#include <vector>

#include "engine/request.h"

namespace agentserve {

class HandoverGroup {
 public:
  using Clock = std::chrono::steady_clock;

  // window 0: every token wakes its consumer at once.
  explicit HandoverGroup(std::chrono::microseconds window) : window_(window) {}
  HandoverGroup(const HandoverGroup&) = delete;
  HandoverGroup& operator=(const HandoverGroup&) = delete;
  ~HandoverGroup() { end_step(); }

  // A token event was pushed to `channel` at `pushed_at` without waking its consumer
  // (EventChannel::push(event, false)). The channel must live until end_step().
  void add(EventChannel* channel, Clock::time_point pushed_at);

  // After the step's last token, before the next forward pass or any finish: wakes what is
  // owed, then gives this CPU up if that consumer is queued for it.
  void end_step();

 private:
  void flush();

  std::chrono::microseconds window_;
  std::vector<EventChannel*> owed_;  // pushed, not yet woken, in push order
  Clock::time_point oldest_{};
  // The last channel woken by the previous flush: if its consumer has not taken that event by
  // the next flush, it may be waiting for this thread's CPU.
  const EventChannel* last_woken_ = nullptr;
};

// A consumer on another thread that has not yet taken the event pushed to `channel` may be
// queued on this thread's CPU: yield it.
void yield_to_lagging_consumer(const EventChannel* channel);

}  // namespace agentserve
