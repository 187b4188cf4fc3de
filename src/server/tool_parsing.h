// A request's tool settings on the way to the generation: tool_choice (parsed and checked
// against the request's tools), the options of its tool-call parser (tools/tool_parser.h), and
// the enforcement of tool_choice "required"/"any" and a named tool by an assistant prefill: the
// opening of a call in the model's format is appended to the prompt (tools/call_prefix.h), so
// the turn is a call; its arguments are not constrained until constrained decoding lands.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/generation.h"
#include "server/server_context.h"
#include "text/chat/conversation.h"
#include "tools/tool_parser.h"

namespace agentserve::server {

struct ToolChoice {
  enum class Mode { kAuto, kNone, kRequired, kNamed };
  Mode mode = Mode::kAuto;
  std::string name;  // kNamed
};

// Whether the generation pipeline splits <think>…</think> out of the text: for models that
// think, except gpt-oss, whose harmony parser separates its analysis channel itself.
bool splits_think_blocks(const ServedModel& model);
// Whether responses carry reasoning (OpenAI reasoning_content, reasoning token counts).
bool reports_reasoning(const ServedModel& model);

// Throws RequestError (400, naming `field`) when tool_choice asks for a call and the request
// has no tools, or names a tool the request does not declare.
void check_tool_choice(const ToolChoice& choice, const chat::Conversation& conversation, const char* field);

tools::ParserOptions tool_parsing_for(const ServedModel& model, const chat::Conversation& conversation,
                                      const ToolChoice& choice);

// The call opening that enforces tool_choice "required"/"any" or a named tool for a prompt of
// `prompt_tokens`: its text and ids; nullopt when the choice asks for no call or cannot be
// forced this way (logged: unknown format, a prompt that opens a reasoning block, no room).
struct ToolChoicePrefill {
  std::string text;
  std::vector<int32_t> ids;
  std::string what;  // for log lines: "a tool call", "the tool \"NAME\""
};
std::optional<ToolChoicePrefill> tool_choice_prefill(const ServedModel& model, const ToolChoice& choice,
                                                    const std::string& request_id, size_t prompt_tokens,
                                                    bool starts_in_reasoning);

// Applies tool_choice to a spec whose prompt and tool_parsing are set: for "required"/"any" or
// a named tool, appends the call opening to spec->prompt and sets spec->output_prefix, so the
// generated turn is a call. Where the model's format is unknown or its prompt leaves it inside
// a reasoning block, the choice cannot be forced this way: logged, and the model chooses.
void enforce_tool_choice(const ServedModel& model, const ToolChoice& choice, const std::string& request_id,
                         GenerationSpec* spec);

}  // namespace agentserve::server
