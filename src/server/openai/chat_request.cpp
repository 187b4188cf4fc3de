#include "server/openai/chat_request.h"

#include <atomic>

#include "server/prompt_hygiene.h"
#include "text/chat/conversation_json.h"

namespace agentserve::server::openai {
namespace {

std::atomic<bool> g_logged_response_format{false};

void read_response_format(const ordered_json& body) {
  auto it = body.find("response_format");
  if (it == body.end() || it->is_null()) return;
  if (!it->is_object())
    throw_request_error("response_format must be an object, not " + json_type_name(*it), "response_format");
  const std::string type = opt_string(*it, "type").value_or("");
  if (type == "text") return;
  if (type == "json_object") {
  } else if (type == "json_schema") {
    auto js = it->find("json_schema");
    if (js == it->end() || !js->is_object())
      throw_request_error("response_format.json_schema must be an object with name and schema",
                          "response_format");
  } else {
    throw_request_error("response_format.type must be \"text\", \"json_object\" or \"json_schema\", got " +
                            (type.empty() ? std::string("nothing") : "\"" + type + "\""),
                        "response_format");
  }
  // Accepted so that clients asking for JSON work; the output is not constrained until the
  // grammar engine lands.
  log_once(g_logged_response_format,
           "response_format " + type + " is accepted but not enforced yet (no constrained decoding)");
}

// "required" and a named function make the turn a call (tool_parsing.h: a prefill of the
// call's opening); the arguments are not constrained until constrained decoding lands.
ToolChoice read_tool_choice(const ordered_json& body) {
  ToolChoice choice;
  auto it = body.find("tool_choice");
  if (it == body.end() || it->is_null()) return choice;
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s == "none") {
      choice.mode = ToolChoice::Mode::kNone;
    } else if (s == "required") {
      choice.mode = ToolChoice::Mode::kRequired;
    } else if (s != "auto") {
      throw_request_error("tool_choice must be \"none\", \"auto\", \"required\" or {type: \"function\", function: {name}}, got \"" + s + "\"",
                          "tool_choice");
    }
  } else if (it->is_object()) {
    auto fn = it->find("function");
    if (fn == it->end() || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
      throw_request_error("tool_choice.function.name must be a string", "tool_choice");
    choice.mode = ToolChoice::Mode::kNamed;
    choice.name = (*fn)["name"].get<std::string>();
  } else {
    throw_request_error("tool_choice must be a string or an object, not " + json_type_name(*it), "tool_choice");
  }
  return choice;
}

}  // namespace

ChatRequest parse_chat_request(const ordered_json& body, bool prompt_hygiene) {
  ChatRequest r;
  // max_completion_tokens replaced max_tokens; clients may send either (or both, the newer wins).
  const bool has_mct = body.contains("max_completion_tokens") && !body["max_completion_tokens"].is_null();
  r.common = read_common_fields(body, has_mct ? "max_completion_tokens" : "max_tokens");
  if (has_mct) opt_int(body, "max_tokens", 1, INT32_MAX);  // still type-checked

  auto msgs = body.find("messages");
  if (msgs == body.end() || msgs->is_null()) throw_request_error("messages is required", "messages");
  if (!msgs->is_array())
    throw_request_error("messages must be an array, not " + json_type_name(*msgs), "messages");
  if (msgs->empty()) throw_request_error("messages must hold at least one message", "messages");
  chat::ParseNotes notes;
  auto messages = chat::messages_from_openai(*msgs, &notes);
  if (!messages) throw_request_error(messages.error().message, "messages");
  r.conversation.messages = std::move(messages).value();
  if (prompt_hygiene) {
    for (chat::Message& m : r.conversation.messages) {
      if (m.role != chat::Role::kSystem && m.role != chat::Role::kDeveloper) continue;
      for (chat::ContentPart& part : m.content)
        if (part.kind == chat::ContentPart::Kind::kText) normalize_attribution(&part.text);
    }
  }

  auto tools = body.find("tools");
  if (tools != body.end() && !tools->is_null()) {
    auto parsed = chat::tools_from_openai(*tools);
    if (!parsed) throw_request_error(parsed.error().message, "tools");
    r.conversation.tools = std::move(parsed).value();
  }
  r.tool_choice = read_tool_choice(body);
  check_tool_choice(r.tool_choice, r.conversation, "tool_choice");
  r.parallel_tool_calls = opt_bool(body, "parallel_tool_calls").value_or(true);
  read_response_format(body);
  // Tolerated: OpenAI reasoning models' knob. Thinking is switched with
  // chat_template_kwargs.enable_thinking.
  opt_string(body, "reasoning_effort");

  auto kw = body.find("chat_template_kwargs");
  if (kw != body.end() && !kw->is_null()) {
    if (!kw->is_object())
      throw_request_error("chat_template_kwargs must be an object, not " + json_type_name(*kw), "chat_template_kwargs");
    r.conversation.template_kwargs = *kw;
    auto et = kw->find("enable_thinking");
    if (et != kw->end() && et->is_boolean()) r.conversation.enable_thinking = et->get<bool>();
  }

  r.logprobs = opt_bool(body, "logprobs").value_or(false);
  if (auto t = opt_int(body, "top_logprobs", 0, 20)) {
    if (*t > 0 && !r.logprobs)
      throw_request_error("top_logprobs needs logprobs: true", "top_logprobs");
    r.top_logprobs = static_cast<int>(*t);
  }
  r.common.sampling.want_logprobs = r.logprobs;
  r.common.sampling.num_top_logprobs = r.top_logprobs;
  return r;
}

}  // namespace agentserve::server::openai
