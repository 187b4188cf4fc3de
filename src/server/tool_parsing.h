// What the tool-call parser of one generation needs (tools/tool_parser.h), from the request:
// the model's format, the request's tools (names and parameter schemas), and whether calls are
// parsed at all (tool_choice "none", or no tools: the output is text).
#pragma once

#include "server/server_context.h"
#include "text/chat/conversation.h"
#include "tools/tool_parser.h"

namespace agentserve::server {

// Whether the generation pipeline splits <think>…</think> out of the text: for models that
// think, except gpt-oss, whose harmony parser separates its analysis channel itself.
bool splits_think_blocks(const ServedModel& model);
// Whether responses carry reasoning (OpenAI reasoning_content, reasoning token counts).
bool reports_reasoning(const ServedModel& model);

tools::ParserOptions tool_parsing_for(const ServedModel& model, const chat::Conversation& conversation,
                                      bool tool_choice_none);

}  // namespace agentserve::server
