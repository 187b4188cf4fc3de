// The variables a chat template renders with, as transformers' apply_chat_template passes them:
// messages, tools (None when absent), add_generation_prompt, the tokenizer's special tokens
// map (bos_token, eos_token, ...), enable_thinking when set, and any extra kwargs.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>

#include "text/template/value.h"

namespace agentserve::chat {

struct TemplateInputs {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;  // null, or an array of tool definitions
  bool add_generation_prompt = true;
  std::optional<bool> enable_thinking;
  nlohmann::ordered_json kwargs = nlohmann::ordered_json::object();
};

// `special_tokens` is the tokenizer's special tokens map ({"bos_token": "<s>", ...}).
tmpl::Value build_template_context(const TemplateInputs& inputs,
                                   const nlohmann::ordered_json& special_tokens);

}  // namespace agentserve::chat
