// Where agentserve keeps its files for the user: models it generates, the KV cache on disk.
#pragma once

#include <string>

namespace agentserve {

// $AGENTSERVE_CACHE_DIR, else $XDG_CACHE_HOME/agentserve, else ~/.cache/agentserve.
std::string user_cache_dir();

}  // namespace agentserve
