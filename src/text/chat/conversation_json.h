// OpenAI's chat shape (messages, tools) into the conversation model. Used by
// `agentserve template` and by the OpenAI chat/completions endpoint. Errors name the field by
// its path ("messages[3].tool_calls[0].function.name") and say what was expected and found.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "base/error.h"
#include "text/chat/conversation.h"

namespace agentserve::chat {

struct ParseNotes {
  std::vector<std::string> dropped;  // content parts of unknown types that were left out
};

Result<std::vector<Message>> messages_from_openai(const nlohmann::ordered_json& messages,
                                                  ParseNotes* notes);
Result<std::vector<Tool>> tools_from_openai(const nlohmann::ordered_json& tools);

}  // namespace agentserve::chat
