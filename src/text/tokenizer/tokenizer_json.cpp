#include "text/tokenizer/tokenizer_json.h"

#include <nlohmann/json.hpp>

namespace agentserve::tok {
namespace {

using json = nlohmann::json;

// Error helpers: every message names the file and the JSON path, and says what was expected
// and what was found.
Error format_error(const std::string& file, const std::string& path, const std::string& expected,
                   const json& found) {
  std::string shown = found.is_string() ? "\"" + found.get<std::string>() + "\"" : found.dump();
  if (shown.size() > 80) shown = shown.substr(0, 77) + "...";
  return make_error(ErrorKind::kFormat, file + ": " + path + ": expected " + expected +
                                            ", found " + found.type_name() + " " + shown);
}

Error unsupported(const std::string& file, const std::string& path, const std::string& what,
                  const std::string& supported) {
  return make_error(ErrorKind::kUnsupported,
                    file + ": " + path + ": " + what + " is not supported (supported: " +
                        supported + ")");
}

Result<json> parse(std::string_view text, const std::string& file) {
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return make_error(ErrorKind::kFormat,
                      file + ": not valid JSON: byte " + std::to_string(e.byte) + ": " + e.what());
  }
}

const json* member(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// Optional boolean field (absent or null -> default).
Result<bool> get_bool(const json& obj, const char* key, bool def, const std::string& file,
                      const std::string& path) {
  const json* v = member(obj, key);
  if (v == nullptr || v->is_null()) return def;
  if (!v->is_boolean()) return format_error(file, path + "." + key, "a boolean", *v);
  return v->get<bool>();
}

Result<std::string> get_type(const json& obj, const std::string& file, const std::string& path) {
  if (!obj.is_object()) return format_error(file, path, "an object", obj);
  const json* t = member(obj, "type");
  if (t == nullptr || !t->is_string())
    return format_error(file, path + ".type", "a string", t ? *t : json());
  return t->get<std::string>();
}

Status parse_model(const json& root, const std::string& file, BpeSpec* bpe) {
  const json* model = member(root, "model");
  if (model == nullptr || !model->is_object())
    return format_error(file, "model", "an object", model ? *model : json());
  const json* type = member(*model, "type");
  if (type != nullptr && !(type->is_string() && type->get<std::string>() == "BPE")) {
    if (!type->is_string()) return format_error(file, "model.type", "a string", *type);
    return unsupported(file, "model.type", "model type \"" + type->get<std::string>() + "\"",
                       "BPE");
  }
  if (const json* d = member(*model, "dropout"); d && !d->is_null()) {
    if (!d->is_number()) return format_error(file, "model.dropout", "null or a number", *d);
    if (d->get<double>() != 0.0)
      return unsupported(file, "model.dropout", "BPE dropout " + d->dump(), "null");
  }
  AS_ASSIGN_OR_RETURN(bool byte_fallback,
                      get_bool(*model, "byte_fallback", false, file, "model"));
  if (byte_fallback)
    return unsupported(file, "model.byte_fallback", "byte_fallback=true (SentencePiece-style BPE)",
                       "byte-level BPE with byte_fallback=false");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const json* v = member(*model, key);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_string()) return format_error(file, std::string("model.") + key, "a string", *v);
    if (!v->get<std::string>().empty())
      return unsupported(file, std::string("model.") + key, "a non-empty " + std::string(key),
                         "null or \"\"");
  }
  if (const json* u = member(*model, "unk_token"); u && !u->is_null()) {
    if (!u->is_string()) return format_error(file, "model.unk_token", "null or a string", *u);
    bpe->unk_token = u->get<std::string>();
  }
  AS_ASSIGN_OR_RETURN(bpe->fuse_unk, get_bool(*model, "fuse_unk", false, file, "model"));
  AS_ASSIGN_OR_RETURN(bpe->ignore_merges, get_bool(*model, "ignore_merges", false, file, "model"));

  const json* vocab = member(*model, "vocab");
  if (vocab == nullptr || !vocab->is_object())
    return format_error(file, "model.vocab", "an object of token -> id", vocab ? *vocab : json());
  bpe->vocab.reserve(vocab->size());
  for (const auto& [token, id] : vocab->items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      return format_error(file, "model.vocab[\"" + token + "\"]", "a non-negative integer id", id);
    bpe->vocab.emplace_back(token, static_cast<int32_t>(id.get<int64_t>()));
  }

  const json* merges = member(*model, "merges");
  if (merges == nullptr || !merges->is_array())
    return format_error(file, "model.merges", "an array", merges ? *merges : json());
  bpe->merges.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) {
    const json& m = (*merges)[i];
    const std::string path = "model.merges[" + std::to_string(i) + "]";
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        return format_error(file, path, "\"left right\" (two tokens, one space)", m);
      bpe->merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      bpe->merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      return format_error(file, path, "\"left right\" or [\"left\", \"right\"]", m);
    }
  }
  return Status();
}

Status parse_added_tokens(const json& root, const std::string& file,
                          std::vector<AddedToken>* out) {
  const json* added = member(root, "added_tokens");
  if (added == nullptr || added->is_null()) return Status();
  if (!added->is_array()) return format_error(file, "added_tokens", "an array", *added);
  for (size_t i = 0; i < added->size(); ++i) {
    const json& t = (*added)[i];
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    if (!t.is_object()) return format_error(file, path, "an object", t);
    const json* id = member(t, "id");
    if (id == nullptr || !id->is_number_integer() || id->get<int64_t>() < 0 ||
        id->get<int64_t>() > INT32_MAX)
      return format_error(file, path + ".id", "a non-negative integer", id ? *id : json());
    const json* content = member(t, "content");
    if (content == nullptr || !content->is_string())
      return format_error(file, path + ".content", "a string", content ? *content : json());
    AddedToken a;
    a.id = static_cast<int32_t>(id->get<int64_t>());
    a.content = content->get<std::string>();
    AS_ASSIGN_OR_RETURN(a.special, get_bool(t, "special", false, file, path));
    AS_ASSIGN_OR_RETURN(a.lstrip, get_bool(t, "lstrip", false, file, path));
    AS_ASSIGN_OR_RETURN(a.rstrip, get_bool(t, "rstrip", false, file, path));
    AS_ASSIGN_OR_RETURN(a.single_word, get_bool(t, "single_word", false, file, path));
    AS_ASSIGN_OR_RETURN(a.normalized, get_bool(t, "normalized", !a.special, file, path));
    out->push_back(std::move(a));
  }
  return Status();
}

Status parse_normalizer(const json& n, const std::string& file, const std::string& path,
                        Normalizer::Kind* kind) {
  if (n.is_null()) return Status();
  AS_ASSIGN_OR_RETURN(std::string type, get_type(n, file, path));
  if (type == "NFC") {
    *kind = Normalizer::Kind::kNfc;
    return Status();
  }
  if (type == "Sequence") {
    const json* list = member(n, "normalizers");
    if (list == nullptr || !list->is_array())
      return format_error(file, path + ".normalizers", "an array", list ? *list : json());
    for (size_t i = 0; i < list->size(); ++i)
      AS_TRY(parse_normalizer((*list)[i], file, path + ".normalizers[" + std::to_string(i) + "]",
                              kind));
    return Status();
  }
  return unsupported(file, path, "normalizer type \"" + type + "\"", "null, NFC, Sequence of NFC");
}

Status parse_pre_tokenizer(const json& p, const std::string& file, const std::string& path,
                           std::vector<PreTokenizerStep>* steps) {
  if (p.is_null()) return Status();
  AS_ASSIGN_OR_RETURN(std::string type, get_type(p, file, path));
  if (type == "Sequence") {
    const json* list = member(p, "pretokenizers");
    if (list == nullptr || !list->is_array())
      return format_error(file, path + ".pretokenizers", "an array", list ? *list : json());
    for (size_t i = 0; i < list->size(); ++i)
      AS_TRY(parse_pre_tokenizer((*list)[i], file,
                                 path + ".pretokenizers[" + std::to_string(i) + "]", steps));
    return Status();
  }
  PreTokenizerStep step;
  step.where = file + ": " + path;
  if (type == "Split") {
    step.kind = PreTokenizerStep::Kind::kSplit;
    const json* pattern = member(p, "pattern");
    if (pattern == nullptr || !pattern->is_object())
      return format_error(file, path + ".pattern", "{\"Regex\": ...} or {\"String\": ...}",
                          pattern ? *pattern : json());
    if (const json* r = member(*pattern, "Regex"); r && r->is_string()) {
      step.pattern = r->get<std::string>();
      step.pattern_is_regex = true;
    } else if (const json* s = member(*pattern, "String"); s && s->is_string()) {
      step.pattern = s->get<std::string>();
      step.pattern_is_regex = false;
    } else {
      return format_error(file, path + ".pattern", "{\"Regex\": ...} or {\"String\": ...}",
                          *pattern);
    }
    const json* behavior = member(p, "behavior");
    if (behavior == nullptr || !behavior->is_string())
      return format_error(file, path + ".behavior", "a string", behavior ? *behavior : json());
    const std::string b = behavior->get<std::string>();
    if (b == "Isolated") step.behavior = SplitBehavior::kIsolated;
    else if (b == "Removed") step.behavior = SplitBehavior::kRemoved;
    else if (b == "MergedWithPrevious") step.behavior = SplitBehavior::kMergedWithPrevious;
    else if (b == "MergedWithNext") step.behavior = SplitBehavior::kMergedWithNext;
    else if (b == "Contiguous") step.behavior = SplitBehavior::kContiguous;
    else
      return unsupported(file, path + ".behavior", "split behavior \"" + b + "\"",
                         "Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous");
    AS_ASSIGN_OR_RETURN(step.invert, get_bool(p, "invert", false, file, path));
  } else if (type == "ByteLevel") {
    step.kind = PreTokenizerStep::Kind::kByteLevel;
    AS_ASSIGN_OR_RETURN(step.add_prefix_space,
                        get_bool(p, "add_prefix_space", true, file, path));
    AS_ASSIGN_OR_RETURN(step.use_regex, get_bool(p, "use_regex", true, file, path));
  } else if (type == "Digits") {
    step.kind = PreTokenizerStep::Kind::kDigits;
    AS_ASSIGN_OR_RETURN(step.individual_digits,
                        get_bool(p, "individual_digits", false, file, path));
  } else {
    return unsupported(file, path, "pre_tokenizer type \"" + type + "\"",
                       "Split, ByteLevel, Digits, Sequence");
  }
  // Byte-level BPE maps bytes to characters last: a split after ByteLevel would have to run
  // on the mapped characters.
  if (!steps->empty() && steps->back().kind == PreTokenizerStep::Kind::kByteLevel)
    return unsupported(file, path, "a pre-tokenizer after ByteLevel",
                       "ByteLevel as the last pre-tokenizer");
  steps->push_back(std::move(step));
  return Status();
}

Status check_decoder(const json& d, const std::string& file, const std::string& path,
                     bool* byte_level) {
  if (d.is_null()) return Status();
  AS_ASSIGN_OR_RETURN(std::string type, get_type(d, file, path));
  if (type == "ByteLevel") {
    *byte_level = true;
    return Status();
  }
  if (type == "Sequence") {
    const json* list = member(d, "decoders");
    if (list == nullptr || !list->is_array())
      return format_error(file, path + ".decoders", "an array", list ? *list : json());
    for (size_t i = 0; i < list->size(); ++i)
      AS_TRY(check_decoder((*list)[i], file, path + ".decoders[" + std::to_string(i) + "]",
                           byte_level));
    return Status();
  }
  return unsupported(file, path, "decoder type \"" + type + "\"", "ByteLevel");
}

// Ids that TemplateProcessing puts before the sequence "A" of a single input.
void parse_post_processor(const json& p, std::vector<int32_t>* prefix) {
  if (!p.is_object()) return;
  const json* type = member(p, "type");
  if (type == nullptr || !type->is_string()) return;
  if (*type == "Sequence") {
    if (const json* list = member(p, "processors"); list && list->is_array())
      for (const json& q : *list) parse_post_processor(q, prefix);
    return;
  }
  if (*type != "TemplateProcessing") return;  // others add nothing before the text
  const json* single = member(p, "single");
  const json* specials = member(p, "special_tokens");
  if (single == nullptr || !single->is_array() || specials == nullptr) return;
  for (const json& piece : *single) {
    const json* st = member(piece, "SpecialToken");
    if (st == nullptr || !st->is_object()) break;  // the sequence itself: the prefix ends
    const json* name = member(*st, "id");
    if (name == nullptr || !name->is_string()) break;
    const json* entry = member(*specials, name->get<std::string>().c_str());
    if (entry == nullptr) break;
    if (const json* ids = member(*entry, "ids"); ids && ids->is_array())
      for (const json& id : *ids)
        if (id.is_number_integer()) prefix->push_back(id.get<int32_t>());
  }
}

// A special token in tokenizer_config.json: "text", {"content": "text", ...} or null.
Result<std::optional<std::string>> token_text(const json& cfg, const char* key,
                                              const std::string& file) {
  const json* v = member(cfg, key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (v->is_string()) return std::optional<std::string>(v->get<std::string>());
  if (v->is_object()) {
    const json* c = member(*v, "content");
    if (c && c->is_string()) return std::optional<std::string>(c->get<std::string>());
  }
  return format_error(file, key, "a string, {\"content\": ...} or null", *v);
}

}  // namespace

Result<TokenizerJsonSpec> parse_tokenizer_json(std::string_view text, const std::string& file) {
  AS_ASSIGN_OR_RETURN(json root, parse(text, file));
  if (!root.is_object()) return format_error(file, "(top level)", "an object", root);
  TokenizerJsonSpec spec;
  AS_TRY(parse_model(root, file, &spec.bpe));
  AS_TRY(parse_added_tokens(root, file, &spec.added_tokens));
  if (const json* n = member(root, "normalizer"))
    AS_TRY(parse_normalizer(*n, file, "normalizer", &spec.normalizer));
  if (const json* p = member(root, "pre_tokenizer"))
    AS_TRY(parse_pre_tokenizer(*p, file, "pre_tokenizer", &spec.pre_tokenizer));
  const bool has_byte_level =
      !spec.pre_tokenizer.empty() &&
      spec.pre_tokenizer.back().kind == PreTokenizerStep::Kind::kByteLevel;
  if (!has_byte_level)
    return unsupported(file, "pre_tokenizer", "a tokenizer without a ByteLevel pre-tokenizer",
                       "byte-level BPE: a ByteLevel pre-tokenizer, alone or last in a Sequence");
  bool decoder_byte_level = false;
  if (const json* d = member(root, "decoder"))
    AS_TRY(check_decoder(*d, file, "decoder", &decoder_byte_level));
  if (!decoder_byte_level)
    return unsupported(file, "decoder", "a tokenizer without a ByteLevel decoder", "ByteLevel");
  if (const json* p = member(root, "post_processor"))
    parse_post_processor(*p, &spec.post_processor_prefix_ids);
  return spec;
}

Result<TokenizerConfigSpec> parse_tokenizer_config(std::string_view text,
                                                   const std::string& file) {
  AS_ASSIGN_OR_RETURN(json cfg, parse(text, file));
  if (!cfg.is_object()) return format_error(file, "(top level)", "an object", cfg);
  TokenizerConfigSpec spec;
  AS_ASSIGN_OR_RETURN(spec.bos_token, token_text(cfg, "bos_token", file));
  AS_ASSIGN_OR_RETURN(spec.eos_token, token_text(cfg, "eos_token", file));
  if (const json* v = member(cfg, "add_bos_token"); v && !v->is_null()) {
    if (!v->is_boolean()) return format_error(file, "add_bos_token", "a boolean", *v);
    spec.add_bos_token = v->get<bool>();
  }
  AS_ASSIGN_OR_RETURN(spec.clean_up_tokenization_spaces,
                      get_bool(cfg, "clean_up_tokenization_spaces", false, file, "(top level)"));
  if (const json* t = member(cfg, "chat_template"); t && !t->is_null()) {
    if (t->is_string()) {
      spec.chat_templates.push_back({"default", t->get<std::string>()});
    } else if (t->is_array()) {
      for (size_t i = 0; i < t->size(); ++i) {
        const json& e = (*t)[i];
        const json* name = e.is_object() ? member(e, "name") : nullptr;
        const json* source = e.is_object() ? member(e, "template") : nullptr;
        if (name == nullptr || !name->is_string() || source == nullptr || !source->is_string())
          return format_error(file, "chat_template[" + std::to_string(i) + "]",
                              "{\"name\": string, \"template\": string}", e);
        spec.chat_templates.push_back({name->get<std::string>(), source->get<std::string>()});
      }
    } else {
      return format_error(file, "chat_template",
                          "a string or a list of {\"name\", \"template\"}", *t);
    }
  }
  return spec;
}

}  // namespace agentserve::tok
