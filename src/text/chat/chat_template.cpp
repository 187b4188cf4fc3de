#include "text/chat/chat_template.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>

#include "base/log.h"
#include "base/mmap_file.h"
#include "text/chat/template_context.h"

namespace agentserve::chat {
namespace {

using nlohmann::ordered_json;

// Private-use code points bracket a placeholder: U+E000 <nonce> <index> U+E001.
constexpr const char* kOpen = "\xEE\x80\x80";   // U+E000
constexpr const char* kClose = "\xEE\x80\x81";  // U+E001

std::string token_text(const ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return {};
}

}  // namespace

Result<ordered_json> special_tokens_map(const std::string& text, const std::string& source) {
  ordered_json cfg = ordered_json::parse(text, nullptr, false);
  if (cfg.is_discarded() || !cfg.is_object())
    return make_error(ErrorKind::kFormat, source + ": not a JSON object");
  ordered_json map = ordered_json::object();
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
                          "cls_token", "mask_token"}) {
    if (auto it = cfg.find(key); it != cfg.end()) {
      const std::string t = token_text(*it);
      if (!t.empty()) map[key] = t;
    }
  }
  if (auto it = cfg.find("additional_special_tokens"); it != cfg.end() && it->is_array()) {
    ordered_json list = ordered_json::array();
    for (const auto& v : *it)
      if (std::string t = token_text(v); !t.empty()) list.push_back(t);
    map["additional_special_tokens"] = list;
  }
  return map;
}

Result<std::unique_ptr<ChatTemplate>> ChatTemplate::load(const std::string& model_dir,
                                                         const Tokenizer& tokenizer) {
  namespace fs = std::filesystem;
  if (tokenizer.chat_templates().empty())
    return make_error(ErrorKind::kNotFound,
                      model_dir + ": no chat template (expected \"chat_template\" in "
                                  "tokenizer_config.json or a chat_template.jinja file)");
  ordered_json special = ordered_json::object();
  const fs::path config = fs::path(model_dir) / "tokenizer_config.json";
  if (fs::exists(config)) {
    AS_ASSIGN_OR_RETURN(std::string text, read_file(config.string()));
    AS_ASSIGN_OR_RETURN(special, special_tokens_map(text, config.string()));
  }
  return create(tokenizer.chat_templates(), fs::path(model_dir).filename().string(),
                std::move(special), tokenizer);
}

Result<std::unique_ptr<ChatTemplate>> ChatTemplate::create(const std::string& source,
                                                           const std::string& name,
                                                           ordered_json special_tokens,
                                                           const Tokenizer& tokenizer) {
  return create(std::vector<NamedChatTemplate>{{"default", source}}, name,
                std::move(special_tokens), tokenizer);
}

Result<std::unique_ptr<ChatTemplate>> ChatTemplate::create(
    const std::vector<NamedChatTemplate>& sources, const std::string& name,
    ordered_json special_tokens, const Tokenizer& tokenizer) {
  std::unique_ptr<ChatTemplate> t(new ChatTemplate());
  t->name_ = name;
  t->special_tokens_ = std::move(special_tokens);
  t->tokenizer_ = &tokenizer;
  // Digits only between the private-use brackets: they survive the case changes and escaping
  // some templates apply to content.
  std::random_device rd;
  t->placeholder_ = std::string(kOpen) + std::to_string(rd()) + std::to_string(rd()) + kClose;
  for (const NamedChatTemplate& nt : sources) {
    const bool tool_use = nt.name == "tool_use";
    std::unique_ptr<Variant>& slot = tool_use ? t->tool_use_ : t->default_;
    if (slot) continue;  // other named templates (e.g. "rag") are not selected automatically
    auto v = std::make_unique<Variant>();
    v->name = nt.name;
    const std::string full_name = sources.size() > 1 ? name + "/" + nt.name : name;
    AS_ASSIGN_OR_RETURN(v->parsed, tmpl::Template::parse(nt.source, full_name));
    AS_ASSIGN_OR_RETURN(v->caps, probe_capabilities(v->parsed, nt.source, t->special_tokens_, tool_use));
    slot = std::move(v);
  }
  if (!t->default_ && !t->tool_use_)
    return make_error(ErrorKind::kNotFound, name + ": no chat template");
  return t;
}

namespace {

// Replaces every special token's text in the strings of `v` by a placeholder; returns how many.
size_t protect(ordered_json& v, const Tokenizer& tok, const std::string& placeholder) {
  size_t count = 0;
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    const std::vector<ByteRange> spans = tok.special_token_spans(s);
    if (spans.empty()) return 0;
    std::string out;
    size_t pos = 0;
    for (const ByteRange& r : spans) {
      out.append(s, pos, r.first - pos);
      out += placeholder;
      pos = r.second;
      ++count;
    }
    out.append(s, pos, std::string::npos);
    v = std::move(out);
  } else if (v.is_array() || v.is_object()) {
    for (auto& child : v) count += protect(child, tok, placeholder);
  }
  return count;
}

// The first special token's text found in the strings of `v` ("" if none).
std::string first_special_text(const ordered_json& v, const Tokenizer& tok) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    const auto spans = tok.special_token_spans(s);
    return spans.empty() ? std::string() : s.substr(spans[0].first, spans[0].second - spans[0].first);
  }
  if (v.is_array() || v.is_object()) {
    for (const auto& child : v)
      if (std::string found = first_special_text(child, tok); !found.empty()) return found;
  }
  return {};
}

std::string first_special_text(const TemplateInputs& in, const Tokenizer& tok) {
  for (const ordered_json* part : {&in.messages, &in.tools, &in.kwargs})
    if (std::string found = first_special_text(*part, tok); !found.empty()) return found;
  return {};
}

// `marked` is the rendering with placeholders where the client's special-token texts were,
// `exact` the rendering of the original conversation. The template-made text between
// placeholders is the same in both; aligning it in order leaves, in `exact`, the regions the
// client's texts became (usually the texts themselves; escaped or otherwise transformed if
// the template transforms content). Special-token spans inside those regions are returned.
// Returns nullopt when the alignment fails (a template cut a placeholder apart).
std::optional<std::vector<ByteRange>> client_regions(const std::string& marked,
                                                     const std::string& exact,
                                                     const std::string& placeholder,
                                                     const Tokenizer& tok) {
  std::vector<std::string_view> segments;  // template-made text between placeholders
  size_t pos = 0;
  while (true) {
    const size_t at = marked.find(placeholder, pos);
    segments.push_back(std::string_view(marked).substr(
        pos, at == std::string::npos ? std::string::npos : at - pos));
    if (at == std::string::npos) break;
    pos = at + placeholder.size();
  }
  if (segments.size() == 1) {  // the template printed none of the client's special-token text
    if (segments[0] != exact) return std::nullopt;
    return std::vector<ByteRange>{};
  }
  if (exact.compare(0, segments.front().size(), segments.front()) != 0) return std::nullopt;
  const std::string_view last = segments.back();
  if (exact.size() < last.size() || exact.compare(exact.size() - last.size(), last.size(), last) != 0)
    return std::nullopt;
  std::vector<ByteRange> regions;  // in `exact`
  size_t cursor = segments.front().size();
  const size_t tail_begin = exact.size() - last.size();
  for (size_t i = 1; i + 1 < segments.size(); ++i) {
    const size_t found = exact.find(segments[i], cursor);
    if (found == std::string::npos || found > tail_begin) return std::nullopt;
    regions.push_back({cursor, found});
    cursor = found + segments[i].size();
  }
  if (cursor > tail_begin) return std::nullopt;
  regions.push_back({cursor, tail_begin});
  std::vector<ByteRange> protected_ranges;
  for (const ByteRange& region : regions) {
    for (const ByteRange& span : tok.special_token_spans(
             std::string_view(exact).substr(region.first, region.second - region.first)))
      protected_ranges.push_back({region.first + span.first, region.first + span.second});
  }
  return protected_ranges;
}

}  // namespace

Result<RenderedPrompt> ChatTemplate::render(const Conversation& conversation) const {
  const Variant& v = variant(!conversation.tools.empty());
  AS_ASSIGN_OR_RETURN(AdaptedConversation adapted, adapt_conversation(conversation, v.caps));
  auto render_inputs = [&](const TemplateInputs& in, std::string* text) -> Status {
    tmpl::TemplateError err;
    if (v.parsed.render(build_template_context(in, special_tokens_), text, &err)) return {};
    // The template's own complaint (raise_exception) is about the request: say so plainly.
    Error e = err.to_error();
    e.message = "the model's chat template rejected the conversation: " + err.to_string();
    return e;
  };
  RenderedPrompt out;
  AS_TRY(render_inputs(adapted.inputs, &out.text));
  // Where did special-token text from the client end up? Only when there is some: render again
  // with placeholders in its place and align the two renderings.
  TemplateInputs marked_inputs = adapted.inputs;
  const size_t marked = protect(marked_inputs.messages, *tokenizer_, placeholder_) +
                        protect(marked_inputs.tools, *tokenizer_, placeholder_) +
                        protect(marked_inputs.kwargs, *tokenizer_, placeholder_);
  if (marked > 0) {
    std::string marked_text;
    AS_TRY(render_inputs(marked_inputs, &marked_text));
    auto ranges = client_regions(marked_text, out.text, placeholder_, *tokenizer_);
    if (!ranges.has_value()) {
      // The template cut the client's text apart, so where its special-token text went is
      // unknowable: neither injecting it nor breaking the template's own markers is acceptable.
      return make_error(ErrorKind::kInvalidArgument,
                        "the conversation contains special-token text (\"" +
                            first_special_text(adapted.inputs, *tokenizer_) +
                            "\") in content that the chat template of " + name_ +
                            " cuts apart, so agentserve cannot keep it from acting as a control "
                            "token; remove that text from the messages");
    }
    out.protected_ranges = std::move(*ranges);
  }
  out.token_ids = tokenizer_->encode_protected(out.text, out.protected_ranges);
  out.notes = std::move(adapted.notes);
  return out;
}

}  // namespace agentserve::chat
