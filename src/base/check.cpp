#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace agentserve::detail {

void check_failed(const char* file, int line, const char* condition, const std::string& detail) {
  std::fprintf(stderr, "agentserve: internal check failed at %s:%d: %s %s\n", file, line, condition,
               detail.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace agentserve::detail
