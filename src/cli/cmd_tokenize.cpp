// agentserve tokenize: encode texts (or decode ids) with a model's tokenizer. --jsonl is the
// machine interface used by tests/tokenizer/reference.test.mjs.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "text/tokenizer/tokenizer.h"

namespace agentserve::cli {
namespace {

struct TokenizeOptions {
  std::string model_dir;
  std::string tokenizer_json;
  std::string text;
  std::string file;
  std::string decode_ids;
  bool jsonl = false;
  bool no_special = false;
  bool skip_special = false;
  bool info = false;
};

void fail(int* exit_code, const std::string& message) {
  std::fprintf(stderr, "agentserve tokenize: %s\n", message.c_str());
  *exit_code = 1;
}

void print_ids(const std::vector<int32_t>& ids, bool jsonl, std::string* out) {
  if (jsonl) out->push_back('[');
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out->push_back(jsonl ? ',' : ' ');
    out->append(std::to_string(ids[i]));
  }
  if (jsonl) out->push_back(']');
  out->push_back('\n');
}

// "1,2, 3" or "[1,2,3]" -> ids.
bool parse_id_list(const std::string& s, std::vector<int32_t>* ids, std::string* error) {
  std::string token;
  auto flush = [&]() -> bool {
    if (token.empty()) return true;
    try {
      size_t used = 0;
      const long v = std::stol(token, &used);
      if (used != token.size() || v < INT32_MIN || v > INT32_MAX) throw std::out_of_range("id");
      ids->push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      *error = "--decode: expected a comma-separated list of integer ids, found '" + token + "'";
      return false;
    }
    token.clear();
    return true;
  };
  for (char c : s) {
    if (c == ',' || c == ' ' || c == '[' || c == ']' || c == '\t' || c == '\n') {
      if (!flush()) return false;
    } else {
      token.push_back(c);
    }
  }
  return flush();
}

void print_info(const Tokenizer& tok) {
  auto opt = [](std::optional<int32_t> v) { return v ? std::to_string(*v) : std::string("none"); };
  std::printf("vocab_size: %d\n", tok.vocab_size());
  std::printf("added_tokens: %zu\n", tok.added_tokens().size());
  std::printf("bos_token: %s (id %s)\n", tok.bos_token().c_str(), opt(tok.bos_token_id()).c_str());
  std::printf("eos_token: %s (id %s)\n", tok.eos_token().c_str(), opt(tok.eos_token_id()).c_str());
  std::printf("add_bos_token: %s\n", tok.add_bos_token() ? "true" : "false");
  std::printf("chat_templates:");
  for (const auto& t : tok.chat_templates()) std::printf(" %s (%zu bytes)", t.name.c_str(), t.source.size());
  std::printf("\n");
}

void run_tokenize(const TokenizeOptions& o, int* exit_code) {
  Result<std::unique_ptr<Tokenizer>> loaded =
      !o.model_dir.empty() ? Tokenizer::load_from_model_dir(o.model_dir)
                           : Tokenizer::load(o.tokenizer_json, "");
  if (!loaded.ok()) return fail(exit_code, loaded.error().to_string());
  const Tokenizer& tok = **loaded;
  const SpecialTokenMode mode =
      o.no_special ? SpecialTokenMode::kAsText : SpecialTokenMode::kRecognize;

  if (o.info) print_info(tok);
  if (!o.decode_ids.empty()) {
    std::vector<int32_t> ids;
    std::string error;
    if (!parse_id_list(o.decode_ids, &ids, &error)) return fail(exit_code, error);
    const std::string text = tok.decode(ids, o.skip_special);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    return;
  }

  std::string out;
  std::vector<int32_t> ids;
  if (!o.file.empty()) {
    std::ifstream file_in;
    std::istream* in = &std::cin;
    if (o.file != "-") {
      file_in.open(o.file, std::ios::binary);
      if (!file_in) return fail(exit_code, o.file + ": cannot open");
      in = &file_in;
    }
    std::string line;
    size_t line_no = 0;
    while (std::getline(*in, line)) {
      ++line_no;
      std::string text;
      if (o.jsonl) {
        nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (!j.is_string())
          return fail(exit_code, o.file + ":" + std::to_string(line_no) +
                                     ": expected a JSON string per line (--jsonl), found: " +
                                     line.substr(0, 80));
        text = j.get<std::string>();
      } else {
        text = std::move(line);
      }
      ids.clear();
      tok.encode_append(text, mode, &ids);
      print_ids(ids, o.jsonl, &out);
      if (out.size() > (1 << 20)) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        out.clear();
      }
    }
  } else if (!o.info || !o.text.empty()) {
    tok.encode_append(o.text, mode, &ids);
    print_ids(ids, o.jsonl, &out);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

void add_tokenize_command(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Encode text to token ids, or decode ids");
  auto* model = cmd->add_option("--model", opts->model_dir,
                                "model directory holding tokenizer.json (+ tokenizer_config.json)");
  auto* json = cmd->add_option("--tokenizer", opts->tokenizer_json, "a tokenizer.json file");
  model->excludes(json);
  auto* text = cmd->add_option("--text", opts->text, "the text to encode");
  auto* file = cmd->add_option("--file", opts->file,
                               "encode each line of this file ('-' for stdin); with --jsonl each "
                               "line is a JSON string");
  text->excludes(file);
  auto* decode = cmd->add_option("--decode", opts->decode_ids,
                                 "print the text of these ids, e.g. \"1,2,3\"");
  decode->excludes(text)->excludes(file);
  cmd->add_flag("--jsonl", opts->jsonl,
                "JSON lines: input lines of --file are JSON strings, output is one JSON array "
                "of ids per input");
  cmd->add_flag("--no-special", opts->no_special,
                "do not recognise special tokens in the text (encode their text as text)");
  cmd->add_flag("--skip-special", opts->skip_special, "with --decode: leave out special tokens");
  cmd->add_flag("--info", opts->info, "print vocabulary size, special tokens and templates");
  cmd->callback([opts, exit_code, model, json]() {
    if (model->count() == 0 && json->count() == 0) {
      fail(exit_code, "expected --model DIR or --tokenizer FILE.json");
      return;
    }
    run_tokenize(*opts, exit_code);
  });
}

}  // namespace agentserve::cli
