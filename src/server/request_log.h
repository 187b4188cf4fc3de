// The per-request summary line the server logs when a generation ends (info level): how much of
// the prompt came from the cache, where the time went (queue, prefill, decode) and why it
// ended — what a user checks first when a turn feels slow.
#pragma once

#include <string>
#include <string_view>

#include "engine/request.h"

namespace agentserve::server {

struct RequestLogFields {
  std::string_view request_id;
  std::string_view path;
  int32_t prompt_tokens = 0;
  int32_t cached_prompt_tokens = 0;
  int32_t completion_tokens = 0;
  double prepared_ms = -1;     // body read -> submitted (parse, render, tokenize); < 0: unknown
  double first_token_ms = -1;  // from submission to the first token; < 0: none
  RequestTimings timings;
  std::string_view outcome;    // "end of turn", "max_tokens reached", "cancelled (client gone)", ...
};

std::string format_request_log(const RequestLogFields& f);

}  // namespace agentserve::server
