// Scheduling priority of the calling thread. The server lowers its compute threads (engine and
// backend pool) a few nice levels so that the HTTP I/O thread, at normal priority, preempts them
// as soon as it has bytes to write: on a machine whose cores all compute, a token would
// otherwise wait for the scheduler's time slice (tens of ms) before reaching its client.
#pragma once

namespace agentserve {

// Raises the calling thread's nice value by `increment` (> 0: lower priority; no privilege is
// needed for that). Returns false when the system refused (the thread keeps its priority).
bool lower_current_thread_priority(int increment);

}  // namespace agentserve

namespace agentserve {

// Asks the scheduler for a short time slice for the calling thread (Linux 6.12+ EEVDF: a task
// with a shorter slice gets an earlier deadline and preempts the running one on wake-up), so a
// latency-sensitive thread runs within ~`slice_ns` of waking instead of after the current task's
// slice. Returns false where the kernel does not support it (nothing changes then).
bool request_short_scheduler_slice(unsigned long long slice_ns);

}  // namespace agentserve
