// A /v1/chat/completions body → the conversation to render and the generation settings.
// Everything is validated here, before any work is queued, so that errors are 400s that name
// the field; nothing past this point sees JSON.
#pragma once

#include <nlohmann/json.hpp>

#include "server/openai/common.h"
#include "server/tool_parsing.h"
#include "text/chat/conversation.h"

namespace agentserve::server::openai {

struct ChatRequest {
  CommonFields common;
  chat::Conversation conversation;
  bool logprobs = false;
  int top_logprobs = 0;
  ToolChoice tool_choice;
  bool parallel_tool_calls = true;  // false: at most one call per turn
};

// Throws RequestError. `prompt_hygiene` (ServerOptions; prompt_hygiene.h): normalize Claude
// Code's attribution line in system and developer messages (clients that proxy Claude Code
// through the OpenAI API pass it on there).
ChatRequest parse_chat_request(const ordered_json& body, bool prompt_hygiene);

}  // namespace agentserve::server::openai
