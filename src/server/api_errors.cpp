#include "server/api_errors.h"

#include <nlohmann/json.hpp>

namespace agentserve::server {

ApiFamily api_family_of(const HttpRequest& request) {
  if (request.path.rfind("/v1/messages", 0) == 0) return ApiFamily::kAnthropic;
  if (!request.header("anthropic-version").empty()) return ApiFamily::kAnthropic;
  return ApiFamily::kOpenAI;
}

std::string_view anthropic_error_type(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 405: return "invalid_request_error";
    case 409: return "conflict_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 504: return "timeout_error";
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string_view openai_error_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

std::string error_body(ApiFamily family, const ApiError& e, const std::string& request_id) {
  nlohmann::ordered_json j;
  if (family == ApiFamily::kAnthropic) {
    j["type"] = "error";
    j["error"] = {{"type", anthropic_error_type(e.status)}, {"message", e.message}};
    j["request_id"] = request_id;
  } else {
    j["error"] = {{"message", e.message},
                  {"type", openai_error_type(e.status)},
                  {"param", e.param.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.param)},
                  {"code", e.code.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.code)}};
  }
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void respond_error(HttpExchange& exchange, ApiFamily family, const ApiError& error) {
  exchange.respond(error.status, "application/json",
                   error_body(family, error, exchange.request().request_id));
}

}  // namespace agentserve::server
