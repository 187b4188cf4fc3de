// A model's chat template, ready to render conversations: parsed once, its capabilities
// probed once, then render() (const, any thread) turns a Conversation into the prompt text
// and token ids exactly as transformers' apply_chat_template would for the adapted
// conversation (adapt.h), with one deliberate difference: special-token text inside
// anything the client sent (message content, tool arguments, tool schemas, kwargs) is
// encoded as plain text, so no client can inject "<|im_end|>". Only the template itself, and
// the special-token variables it prints, produce special tokens.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "text/chat/adapt.h"
#include "text/chat/capabilities.h"
#include "text/chat/conversation.h"
#include "text/template/template.h"
#include "text/tokenizer/tokenizer.h"

namespace agentserve::chat {

struct RenderedPrompt {
  std::string text;                         // exactly what transformers would render
  std::vector<ByteRange> protected_ranges;  // special-token text that came from the client
  std::vector<int32_t> token_ids;
  std::vector<std::string> notes;           // adaptations applied (adapt.h)
};

class ChatTemplate {
 public:
  // The templates of a model directory (tokenizer_config.json's chat_template — one string or
  // named templates — or chat_template.jinja), with the special tokens map of
  // tokenizer_config.json. `tokenizer` must outlive the ChatTemplate.
  static Result<std::unique_ptr<ChatTemplate>> load(const std::string& model_dir,
                                                    const Tokenizer& tokenizer);
  // Named templates as transformers selects them: "tool_use" when the conversation has tools
  // and the model ships one, else "default" (or the only one there is).
  static Result<std::unique_ptr<ChatTemplate>> create(const std::vector<NamedChatTemplate>& sources,
                                                      const std::string& name,
                                                      nlohmann::ordered_json special_tokens,
                                                      const Tokenizer& tokenizer);
  static Result<std::unique_ptr<ChatTemplate>> create(const std::string& source,
                                                      const std::string& name,
                                                      nlohmann::ordered_json special_tokens,
                                                      const Tokenizer& tokenizer);

  Result<RenderedPrompt> render(const Conversation& conversation) const;

  // Capabilities of the template used for conversations with (or without) tools.
  const TemplateCapabilities& capabilities(bool with_tools = false) const {
    return variant(with_tools).caps;
  }
  bool has_tool_use_template() const { return tool_use_ != nullptr; }
  const nlohmann::ordered_json& special_tokens() const { return special_tokens_; }
  const std::string& name() const { return name_; }

 private:
  struct Variant {
    std::string name;  // "default", "tool_use", ...
    tmpl::Template parsed;
    TemplateCapabilities caps;
  };
  ChatTemplate() = default;
  const Variant& variant(bool with_tools) const {
    return with_tools && tool_use_ ? *tool_use_ : default_ ? *default_ : *tool_use_;
  }

  std::unique_ptr<Variant> default_;
  std::unique_ptr<Variant> tool_use_;
  std::string name_;
  nlohmann::ordered_json special_tokens_;
  const Tokenizer* tokenizer_ = nullptr;
  std::string placeholder_;  // U+E000 <random digits> U+E001: marks client special-token text
};

// The special tokens map transformers passes to templates (bos_token, eos_token, unk_token,
// pad_token, ..., additional_special_tokens) from tokenizer_config.json text.
Result<nlohmann::ordered_json> special_tokens_map(const std::string& tokenizer_config_json,
                                                  const std::string& source);

}  // namespace agentserve::chat
