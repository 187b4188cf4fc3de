#include "server/anthropic/messages_request.h"

#include <limits>

#include "server/anthropic/anthropic_conversation.h"
#include "server/request_fields.h"

namespace agentserve::server::anthropic {
namespace {

using nlohmann::ordered_json;

// thinking → the template's enable_thinking. Budgets are not enforced: the model thinks until
// it closes </think> or the output budget ends.
void read_thinking(const ordered_json& body, MessagesRequest* r) {
  auto it = body.find("thinking");
  if (it == body.end() || it->is_null()) return;
  if (!it->is_object())
    throw_request_error("thinking: expected an object, found " + json_type_name(*it), "thinking");
  const std::string type = opt_string(*it, "type").value_or("");
  if (type == "enabled") {
    opt_int(*it, "budget_tokens", 0, std::numeric_limits<int32_t>::max());
    r->conversation.enable_thinking = true;
  } else if (type == "adaptive") {
    r->conversation.enable_thinking = true;
  } else if (type == "disabled") {
    r->conversation.enable_thinking = false;
  } else {
    r->notes.push_back("thinking.type \"" + type + "\" is unknown: template default used");
  }
}

// tool_choice: "none": calls are not parsed out of the output (the tools stay in the prompt, so
// that the prefix cache survives a change of tool_choice); "any" and "tool" make the turn a call
// (tool_parsing.h: a prefill of the call's opening), arguments unconstrained until constrained
// decoding lands.
void read_tool_choice(const ordered_json& body, MessagesRequest* r) {
  auto it = body.find("tool_choice");
  if (it == body.end() || it->is_null()) return;
  if (!it->is_object())
    throw_request_error("tool_choice: expected an object, found " + json_type_name(*it), "tool_choice");
  const auto type = opt_string(*it, "type");
  if (!type) throw_request_error("tool_choice.type: Field required", "tool_choice.type");
  r->one_tool_call = opt_bool(*it, "disable_parallel_tool_use").value_or(false);
  if (*type == "tool") {
    auto name = opt_string(*it, "name");
    if (!name) throw_request_error("tool_choice.name: Field required for type \"tool\"", "tool_choice.name");
    r->tool_choice.mode = ToolChoice::Mode::kNamed;
    r->tool_choice.name = *name;
  } else if (*type == "any") {
    r->tool_choice.mode = ToolChoice::Mode::kRequired;
  } else if (*type == "none") {
    r->tool_choice.mode = ToolChoice::Mode::kNone;
  } else if (*type != "auto") {
    throw_request_error("tool_choice.type: expected \"auto\", \"any\", \"tool\" or \"none\", found \"" +
                            *type + "\"",
                        "tool_choice.type");
  }
}

}  // namespace

MessagesRequest parse_messages_request(const ordered_json& body, BodyKind kind, bool prompt_hygiene) {
  MessagesRequest r;
  r.model = opt_string(body, "model").value_or("");
  if (kind == BodyKind::kMessages) {
    r.max_tokens = opt_int(body, "max_tokens", 0, std::numeric_limits<int64_t>::max());
    if (!r.max_tokens) throw_request_error("max_tokens: Field required", "max_tokens");
    r.stream = opt_bool(body, "stream").value_or(false);
    // Anthropic's default temperature is 1; 0 is greedy.
    r.sampling.temperature = static_cast<float>(opt_number(body, "temperature", 0, 1).value_or(1.0));
    r.sampling.top_p = static_cast<float>(opt_number(body, "top_p", 0, 1).value_or(1.0));
    r.sampling.top_k = static_cast<int32_t>(opt_int(body, "top_k", 0, std::numeric_limits<int32_t>::max()).value_or(0));
    r.stop_sequences = opt_string_list(body, "stop_sequences", 1024);
    if (auto md = body.find("metadata"); md != body.end() && !md->is_null() && !md->is_object())
      throw_request_error("metadata: expected an object, found " + json_type_name(*md), "metadata");
  }
  read_thinking(body, &r);
  read_tool_choice(body, &r);
  conversation_from_anthropic(body, &r.conversation, &r.notes, prompt_hygiene);
  check_tool_choice(r.tool_choice, r.conversation, "tool_choice");
  return r;
}

}  // namespace agentserve::server::anthropic
