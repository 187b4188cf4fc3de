#include "engine/handover_group.h"

#include <sched.h>

namespace agentserve {

// A running thread is preempted only when a task wakes up, and a consumer that is already awake
// but queued behind this thread waits for the scheduler tick (4 ms at HZ=250) while the engine
// samples the rest of the batch or runs the next forward pass. Measured on cpu-2c: tokens waited
// up to 3.7 ms for the HTTP thread at 64 streams (Qwen3-0.6B shape) before the yield between a
// step's tokens. With one stream (tiny model, 300 tokens, three alternating pairs) the yield
// after a step's last token took token-to-socket p90 from 0.6–0.8 ms to 0.04–0.78 ms (then
// measured to the send's return, whose remaining tail was the woken client reading first:
// docs/benchmarks.md). With the consumer on another CPU this is one atomic load.
void yield_to_lagging_consumer(const EventChannel* channel) {
  if (channel != nullptr && channel->consumer_lagging()) sched_yield();
}

void HandoverGroup::add(EventChannel* channel, Clock::time_point pushed_at) {
  if (owed_.empty()) oldest_ = pushed_at;
  owed_.push_back(channel);
  if (pushed_at - oldest_ >= window_) flush();
}

void HandoverGroup::flush() {
  if (owed_.empty()) return;
  for (EventChannel* c : owed_) c->notify_consumer();
  yield_to_lagging_consumer(last_woken_);
  last_woken_ = owed_.back();
  owed_.clear();
}

void HandoverGroup::end_step() {
  flush();
  // With one stream (an agent session) every token is its step's last.
  yield_to_lagging_consumer(last_woken_);
  last_woken_ = nullptr;
}

}  // namespace agentserve
