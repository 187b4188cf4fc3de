// Anthropic Messages JSON (system, messages, tools) into the chat conversation model that the
// template renders. Errors are RequestErrors naming the field the way Anthropic does
// ("messages.2.content.0.text"); content the server cannot use (server tools, unknown block
// types, binary documents) is dropped and listed in `dropped`, never refused, because Claude
// Code adds block types faster than any server learns them.
//
// The mapping, and why:
//   - `system` (string or text blocks): one system message per block at the start; the chat
//     layer joins leading system messages (adapt.h rule 2). With prompt hygiene (the default),
//     the per-request hash of Claude Code's attribution block ("x-anthropic-billing-header:
//     ...; cch=...;") is replaced by a fixed value, so it no longer defeats the prefix cache;
//     the block is kept (prompt_hygiene.h says why). Without it, blocks are kept as sent.
//   - `role: "system"` inside `messages` stays in place as a system message; the chat layer
//     folds it near the tail where the template cannot render it there (adapt.h rule 3).
//   - Consecutive messages of one role are merged (their block lists joined), as Anthropic does.
//   - user blocks: text, image (placeholder part), document (its text, if it has one),
//     tool_result (a tool message at its position; string or block content).
//   - assistant blocks: text, thinking (→ reasoning_content), tool_use (→ a tool call whose
//     arguments are `input` with its key order), redacted_thinking (dropped: opaque).
//   - tools: custom tools become OpenAI-shaped function definitions ({"type": "function",
//     "function": {name, description, parameters: input_schema}}), key order kept; server
//     tools (a versioned `type`, no input_schema) are dropped.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "text/chat/conversation.h"

namespace agentserve::server::anthropic {

// Fills conversation->messages and ->tools from the request body (which must be an object).
// Throws RequestError on malformed input.
// `prompt_hygiene`: normalize the attribution block of the top-level `system`.
void conversation_from_anthropic(const nlohmann::ordered_json& body, chat::Conversation* conversation,
                                 std::vector<std::string>* dropped, bool prompt_hygiene);

}  // namespace agentserve::server::anthropic
