// Reading an API request body: typed field access whose failures become 400s that name the
// field, say what was expected and what came; and fitting prompt + output into the context.
// Both API layers use these so that their checks and messages agree.
//
// Readers throw RequestError; a route handler catches it and answers with respond_error().
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/api_errors.h"

namespace agentserve::server {

struct RequestError {
  ApiError error;
};

[[noreturn]] void throw_request_error(std::string message, std::string param = "",
                                      int status = 400, std::string code = "");

// The body as a JSON object (400 for malformed JSON, invalid UTF-8 or a non-object).
nlohmann::ordered_json parse_body(const std::string& body);

// The JSON type of `v` in words ("a string", "an array", ...), for messages.
std::string json_type_name(const nlohmann::ordered_json& v);

// Optional fields: absent or null → nullopt; present with the wrong type or out of [lo, hi] →
// RequestError naming `key`.
std::optional<double> opt_number(const nlohmann::ordered_json& obj, const char* key, double lo,
                                 double hi);
std::optional<int64_t> opt_int(const nlohmann::ordered_json& obj, const char* key, int64_t lo,
                               int64_t hi);
std::optional<bool> opt_bool(const nlohmann::ordered_json& obj, const char* key);
std::optional<std::string> opt_string(const nlohmann::ordered_json& obj, const char* key);
// A string, or a list of at most `max_count` strings (OpenAI `stop`, Anthropic
// `stop_sequences`); empty strings are dropped.
std::vector<std::string> opt_string_list(const nlohmann::ordered_json& obj, const char* key,
                                         size_t max_count);

// How many tokens a request may generate. `requested` (absent: all that fits) is clamped to the
// room the context leaves after the prompt, because agents ask for far more than a local context
// holds (Claude Code sends max_tokens 64000); generation then ends with "context full". A prompt
// that leaves no room at all is an error, worded per API by the caller.
struct OutputBudget {
  int32_t max_tokens = 0;   // what the engine may generate
  bool clamped = false;     // requested exceeded the room left
};
std::optional<OutputBudget> fit_output(int64_t prompt_tokens, std::optional<int64_t> requested,
                                       int32_t max_context);

}  // namespace agentserve::server
