// Random identifiers for responses, messages, tool calls and request logs: a prefix and
// alphanumerics from a per-thread generator seeded by the OS (unguessable enough for ids that
// only need to be unique; nothing secret depends on them).
#pragma once

#include <string>
#include <string_view>

namespace agentserve::server {

enum class IdAlphabet { kHex, kBase62 };

std::string random_id(std::string_view prefix, int length, IdAlphabet alphabet);

}  // namespace agentserve::server
