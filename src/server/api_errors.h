// Error bodies in each API's own shape. Anthropic: {"type":"error","error":{"type","message"},
// "request_id"} with a request-id header; OpenAI: {"error":{"message","type","param","code"}}.
// A client gets errors in the shape of the API it called, or Claude Code and the SDKs mis-read
// them (an overflow must read "prompt is too long: N tokens > M maximum" for compaction).
#pragma once

#include <string>
#include <string_view>

#include "server/http_exchange.h"

namespace agentserve::server {

enum class ApiFamily { kOpenAI, kAnthropic };

// The family a request speaks: Anthropic paths, or any request with an anthropic-version
// header; OpenAI otherwise.
ApiFamily api_family_of(const HttpRequest& request);

struct ApiError {
  int status = 400;
  std::string message;
  std::string code;   // OpenAI "code" (e.g. "context_length_exceeded"); "" → null
  std::string param;  // OpenAI "param" (the offending field); "" → null
};

// The body and content type of `error` in `family`'s shape.
std::string error_body(ApiFamily family, const ApiError& error, const std::string& request_id);
// Answers the exchange with `error` (respond()).
void respond_error(HttpExchange& exchange, ApiFamily family, const ApiError& error);
// The Anthropic error "type" for a status ("invalid_request_error", "not_found_error", ...).
std::string_view anthropic_error_type(int status);
// The OpenAI error "type" for a status ("invalid_request_error", "authentication_error", ...).
std::string_view openai_error_type(int status);

}  // namespace agentserve::server
