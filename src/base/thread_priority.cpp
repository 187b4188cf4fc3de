#include "base/thread_priority.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

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
