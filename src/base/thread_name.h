// Names the calling thread (Linux: at most 15 bytes, longer names are cut), so that `top -H`,
// perf and debuggers tell the engine, its compute workers and the HTTP I/O threads apart.
#pragma once

#include <string>

namespace agentserve {

void set_current_thread_name(const std::string& name);

}  // namespace agentserve
