// The two answers of /v1/chat/completions: one `chat.completion` body once every choice has
// finished, or a stream of `chat.completion.chunk` events as text arrives.
#pragma once

#include <memory>
#include <string>

#include "server/openai/choices.h"
#include "server/openai/common.h"

namespace agentserve::server::openai {

struct ChatEnvelope {
  std::string id;     // "chatcmpl-..."
  int64_t created = 0;
  std::string model;  // the name the client sent, or the served id
  int n = 1;
  bool logprobs = false;
  bool thinks = false;         // report reasoning_tokens and reasoning_content
  bool include_usage = false;  // streaming: a usage chunk before [DONE]
};

std::shared_ptr<ChoiceEncoder> make_chat_collector(std::shared_ptr<HttpExchange> exchange,
                                                   const ServedModel& model, ChatEnvelope env);

// Starts the SSE response at once: the role chunk of every choice goes out before prefill, and
// comment keep-alives follow while the stream is quiet, so clients' watchdogs see bytes.
std::shared_ptr<ChoiceEncoder> make_chat_streamer(std::shared_ptr<HttpExchange> exchange,
                                                  ServerContext& ctx, const ServedModel& model,
                                                  ChatEnvelope env);

}  // namespace agentserve::server::openai
