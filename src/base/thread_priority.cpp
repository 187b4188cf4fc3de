#include "base/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace agentserve {

bool lower_current_thread_priority(int increment) {
  if (increment <= 0) return true;
  // On Linux the nice value is per thread: PRIO_PROCESS with a thread id sets that thread's.
  const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, tid);
  if (current == -1 && errno != 0) return false;
  return setpriority(PRIO_PROCESS, tid, current + increment) == 0;
}

}  // namespace agentserve

namespace agentserve {
namespace {

// The kernel's struct sched_attr (linux/sched/types.h), declared here: glibc has no wrapper.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

}  // namespace

bool request_short_scheduler_slice(unsigned long long slice_ns) {
#ifdef SYS_sched_setattr
  SchedAttr attr{};
  attr.size = sizeof(attr);
  attr.sched_policy = 0;  // SCHED_OTHER
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
  attr.sched_nice = (nice == -1 && errno != 0) ? 0 : nice;
  attr.sched_runtime = slice_ns;  // for SCHED_OTHER: the requested slice
  return syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
#else
  (void)slice_ns;
  return false;
#endif
}

}  // namespace agentserve
