// Tokenizer loading: tokenizer.json + tokenizer_config.json (+ chat_template.jinja files) into
// the immutable state that encoding reads.
#include <algorithm>
#include <filesystem>

#include "base/log.h"
#include "base/mmap_file.h"
#include "base/utf8.h"
#include "text/tokenizer/byte_level.h"
#include "text/tokenizer/tokenizer.h"
#include "text/tokenizer/tokenizer_impl.h"

namespace agentserve {

using tok::AddedTokenMatcher;

namespace {

Result<std::unique_ptr<Tokenizer::Impl>> build_impl(std::string_view tokenizer_json,
                                                    std::string_view tokenizer_config,
                                                    const std::string& json_name,
                                                    const std::string& config_name) {
  auto impl = std::make_unique<Tokenizer::Impl>();
  impl->file = json_name;
  AS_ASSIGN_OR_RETURN(tok::TokenizerJsonSpec spec,
                      tok::parse_tokenizer_json(tokenizer_json, json_name));
  AS_ASSIGN_OR_RETURN(impl->bpe, tok::BpeModel::build(spec.bpe, json_name));
  impl->normalizer = tok::Normalizer(spec.normalizer);
  AS_ASSIGN_OR_RETURN(impl->pre_tokenizer, tok::PreTokenizer::build(spec.pre_tokenizer));

  int32_t max_id = -1;
  for (const auto& [token, id] : spec.bpe.vocab) max_id = std::max(max_id, id);
  for (const AddedToken& a : spec.added_tokens) max_id = std::max(max_id, a.id);
  impl->vocab_size = max_id + 1;
  impl->token_bytes.assign(static_cast<size_t>(impl->vocab_size), std::string());
  impl->special.assign(static_cast<size_t>(impl->vocab_size), 0);
  impl->by_content.reserve(spec.bpe.vocab.size() + spec.added_tokens.size());
  // The ByteLevel decoder maps a token's characters back to bytes when every character is in
  // the byte-level alphabet, and passes the token's UTF-8 through otherwise.
  auto bytes_of = [](const std::string& token) {
    std::string bytes;
    return byte_level_to_bytes(token, &bytes) ? bytes : token;
  };
  for (const auto& [token, id] : spec.bpe.vocab) {
    impl->token_bytes[id] = bytes_of(token);
    impl->by_content.emplace(token, id);
  }
  std::vector<AddedTokenMatcher::Entry> raw_entries;
  std::vector<AddedTokenMatcher::Entry> normalized_entries;
  for (const AddedToken& a : spec.added_tokens) {
    impl->token_bytes[a.id] = bytes_of(a.content);
    impl->special[a.id] = a.special ? 1 : 0;
    impl->by_content[a.content] = a.id;  // an added token wins over a vocab string
    AddedTokenMatcher::Entry e{a.content, a.id, a.special, a.lstrip, a.rstrip, a.single_word};
    if (a.normalized && !impl->normalizer.is_identity()) {
      std::string storage;
      e.text = std::string(impl->normalizer.normalize(utf8_sanitize(a.content), &storage));
      normalized_entries.push_back(std::move(e));
    } else if (a.normalized) {
      normalized_entries.push_back(std::move(e));
    } else {
      raw_entries.push_back(std::move(e));
    }
  }
  impl->raw_matcher.build(std::move(raw_entries));
  impl->normalized_matcher.build(std::move(normalized_entries));
  impl->added = std::move(spec.added_tokens);

  if (!tokenizer_config.empty()) {
    AS_ASSIGN_OR_RETURN(impl->config, tok::parse_tokenizer_config(tokenizer_config, config_name));
  }
  auto lookup = [&](const std::optional<std::string>& text,
                    const char* what) -> std::optional<int32_t> {
    if (!text) return std::nullopt;
    const auto it = impl->by_content.find(*text);
    if (it != impl->by_content.end()) return it->second;
    AS_LOG_WARN("{}: {} '{}' is not a token of {}", config_name, what, *text, json_name);
    return std::nullopt;
  };
  impl->bos_id = lookup(impl->config.bos_token, "bos_token");
  impl->eos_id = lookup(impl->config.eos_token, "eos_token");
  impl->bos_text = impl->config.bos_token.value_or("");
  impl->eos_text = impl->config.eos_token.value_or("");
  if (impl->config.add_bos_token) {
    impl->add_bos = *impl->config.add_bos_token;
  } else {
    const auto& prefix = spec.post_processor_prefix_ids;
    impl->add_bos = impl->bos_id && !prefix.empty() && prefix.front() == *impl->bos_id;
  }
  for (const NamedChatTemplate& t : impl->config.chat_templates)
    if (t.name == "default") impl->default_template = t.source;
  return impl;
}

}  // namespace

// ---- loading ----

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::load_from_strings(std::string_view tokenizer_json,
                                                                std::string_view tokenizer_config,
                                                                const std::string& name) {
  AS_ASSIGN_OR_RETURN(auto impl, build_impl(tokenizer_json, tokenizer_config, name,
                                            name + " (tokenizer_config)"));
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::load(const std::string& tokenizer_json_path,
                                                   const std::string& tokenizer_config_path) {
  auto read_json_file = [](const std::string& path) -> Result<std::string> {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      return make_error(ErrorKind::kInvalidArgument,
                        path + ": expected a JSON file, found a directory");
    AS_ASSIGN_OR_RETURN(std::string text, read_file(path));
    if (text.empty())
      return make_error(ErrorKind::kFormat, path + ": expected a JSON object, found an empty file");
    return text;
  };
  AS_ASSIGN_OR_RETURN(std::string json_text, read_json_file(tokenizer_json_path));
  std::string config_text;
  if (!tokenizer_config_path.empty()) {
    AS_ASSIGN_OR_RETURN(config_text, read_json_file(tokenizer_config_path));
  }
  AS_ASSIGN_OR_RETURN(auto impl, build_impl(json_text, config_text, tokenizer_json_path,
                                            tokenizer_config_path));
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::load_from_model_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root(dir);
  if (!fs::is_directory(root, ec))
    return make_error(ErrorKind::kNotFound, dir + ": expected a model directory, found " +
                                                (fs::exists(root, ec) ? "a file" : "nothing"));
  const fs::path json_path = root / "tokenizer.json";
  if (!fs::exists(json_path, ec))
    return make_error(ErrorKind::kNotFound,
                      json_path.string() + ": not found (expected a Hugging Face tokenizer.json "
                                           "in the model directory)");
  const fs::path config_path = root / "tokenizer_config.json";
  AS_ASSIGN_OR_RETURN(auto tok, load(json_path.string(),
                                     fs::exists(config_path, ec) ? config_path.string() : ""));
  Impl& impl = *tok->impl_;
  // Newer transformers save templates beside the config instead of inside it.
  if (impl.config.chat_templates.empty()) {
    const fs::path jinja = root / "chat_template.jinja";
    if (fs::exists(jinja, ec)) {
      AS_ASSIGN_OR_RETURN(std::string source, read_file(jinja.string()));
      impl.config.chat_templates.push_back({"default", std::move(source)});
    }
    const fs::path extra = root / "additional_chat_templates";
    if (fs::is_directory(extra, ec)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(extra, ec))
        if (entry.path().extension() == ".jinja") files.push_back(entry.path());
      std::sort(files.begin(), files.end());
      for (const fs::path& f : files) {
        AS_ASSIGN_OR_RETURN(std::string source, read_file(f.string()));
        impl.config.chat_templates.push_back({f.stem().string(), std::move(source)});
      }
    }
    for (const NamedChatTemplate& t : impl.config.chat_templates)
      if (t.name == "default") impl.default_template = t.source;
  }
  return tok;
}

}  // namespace agentserve
