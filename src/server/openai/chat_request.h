// A /v1/chat/completions body → the conversation to render and the generation settings.
// Everything is validated here, before any work is queued, so that errors are 400s that name
// the field; nothing past this point sees JSON.
#pragma once

#include <nlohmann/json.hpp>

#include "server/openai/common.h"
#include "text/chat/conversation.h"

namespace agentserve::server::openai {

struct ChatRequest {
  CommonFields common;
  chat::Conversation conversation;
  bool logprobs = false;
  int top_logprobs = 0;
};

// Throws RequestError.
ChatRequest parse_chat_request(const ordered_json& body);

}  // namespace agentserve::server::openai
