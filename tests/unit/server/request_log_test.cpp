#include "server/request_log.h"

#include <gtest/gtest.h>

namespace agentserve::server {
namespace {

TEST(RequestLog, NamesTheCacheShareTheTimesAndTheOutcome) {
  RequestLogFields f;
  f.request_id = "req_1";
  f.path = "/v1/messages";
  f.prompt_tokens = 25311;
  f.cached_prompt_tokens = 24528;
  f.completion_tokens = 41;
  f.first_token_ms = 421.4;
  f.prepared_ms = 6.04;
  f.timings.queued_ms = 0.25;
  f.timings.prefill_ms = 391.5;
  f.timings.prefill_steps = 2;
  f.timings.decode_ms = 1000;
  f.outcome = "end of turn";
  EXPECT_EQ(format_request_log(f),
            "req_1 /v1/messages: prompt 25311 tokens (24528 cached, 783 computed in 392 ms, "
            "2000 tok/s, 2 steps), prepared 6.0 ms, queued 0.2 ms, first token 421 ms, 41 generated (40.0 tok/s), "
            "end of turn");
}

TEST(RequestLog, ARequestThatNeverRanSaysSo) {
  RequestLogFields f;
  f.request_id = "req_2";
  f.path = "/v1/chat/completions";
  f.prompt_tokens = 12;
  f.timings.queued_ms = 3000;
  f.timings.preemptions = 0;
  f.outcome = "cancelled (client gone)";
  EXPECT_EQ(format_request_log(f),
            "req_2 /v1/chat/completions: prompt 12 tokens (0 cached, 12 computed), queued 3000.0 ms, "
            "0 generated, cancelled (client gone)");
}

TEST(RequestLog, PreemptionsAreReported) {
  RequestLogFields f;
  f.request_id = "req_3";
  f.path = "/v1/completions";
  f.prompt_tokens = 100;
  f.cached_prompt_tokens = 96;
  f.completion_tokens = 1;
  f.first_token_ms = 12;
  f.timings.prefill_ms = 10;
  f.timings.prefill_steps = 1;
  f.timings.preemptions = 2;
  f.outcome = "max_tokens reached";
  EXPECT_EQ(format_request_log(f),
            "req_3 /v1/completions: prompt 100 tokens (96 cached, 4 computed in 10 ms, 400 tok/s, "
            "1 step), queued 0.0 ms, first token 12 ms, 1 generated, preempted 2x, max_tokens reached");
}

}  // namespace
}  // namespace agentserve::server
