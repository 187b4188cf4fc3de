#include "base/thread_name.h"

#include <pthread.h>

namespace agentserve {

void set_current_thread_name(const std::string& name) {
  // The kernel keeps 15 bytes plus the terminator and refuses longer names outright.
  const std::string cut = name.substr(0, 15);
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace agentserve
