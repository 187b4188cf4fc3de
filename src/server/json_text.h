// JSON text for the per-token hot path of the stream encoders: a string literal appended
// without building a JSON tree (one delta frame per token per stream; the tree and its
// allocations were a fifth of the I/O thread's time at 64 streams).
#pragma once

#include <string>
#include <string_view>

namespace agentserve::server {

// Appends `s` as a JSON string literal, quotes included, escaped exactly as nlohmann::json's
// dump() does (ensure_ascii off; invalid UTF-8 replaced by U+FFFD).
void append_json_string(std::string* out, std::string_view s);

}  // namespace agentserve::server
