#include "server/request_log.h"

#include <fmt/core.h>

namespace agentserve::server {

std::string format_request_log(const RequestLogFields& f) {
  const RequestTimings& t = f.timings;
  const int32_t computed = f.prompt_tokens - f.cached_prompt_tokens;
  std::string line = fmt::format("{} {}: prompt {} tokens ({} cached, {} computed", f.request_id,
                                 f.path, f.prompt_tokens, f.cached_prompt_tokens, computed);
  if (t.prefill_ms > 0) {
    line += fmt::format(" in {:.0f} ms", t.prefill_ms);
    if (computed > 0) line += fmt::format(", {:.0f} tok/s", computed / (t.prefill_ms / 1000.0));
    line += fmt::format(", {} step{}", t.prefill_steps, t.prefill_steps == 1 ? "" : "s");
  }
  line += ")";
  if (f.prepared_ms >= 0) line += fmt::format(", prepared {:.1f} ms", f.prepared_ms);
  line += fmt::format(", queued {:.1f} ms", t.queued_ms);
  if (f.first_token_ms >= 0) line += fmt::format(", first token {:.0f} ms", f.first_token_ms);
  line += fmt::format(", {} generated", f.completion_tokens);
  if (f.completion_tokens > 1 && t.decode_ms > 0)
    line += fmt::format(" ({:.1f} tok/s)", (f.completion_tokens - 1) / (t.decode_ms / 1000.0));
  if (t.preemptions > 0) line += fmt::format(", preempted {}x", t.preemptions);
  line += fmt::format(", {}", f.outcome);
  return line;
}

}  // namespace agentserve::server
