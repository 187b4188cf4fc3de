// Seeded random model outputs for the parser robustness test (fuzz_test.cpp): a small grammar
// per tool-call format that mixes plain text (ASCII, CJK, emoji, whitespace runs and the
// characters parsers look at), the format's markers (whole, cut, misplaced, repeated),
// well-formed calls (known, unknown and invalid names; nested JSON arguments; Qwen3-Coder values
// of every schema type; harmony messages on every channel) and corruptions of the result
// (truncation, a deleted or duplicated byte range, two outputs spliced).
//
// The generator uses its own modulo arithmetic on mt19937 (whose output is fixed by the
// standard) rather than std::uniform_int_distribution (whose is not), so that a seed printed by
// a failure reproduces on every standard library.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tools/tool_parser.h"

namespace agentserve::tools::testing {

class OutputGen {
 public:
  OutputGen(ToolFormat format, uint32_t seed) : format_(format), rng_(seed) {}

  // One model output: a few units of text, markers and calls, maybe corrupted.
  std::string output() {
    std::string out = units();
    const size_t corruptions = chance(40) ? 1 + below(3) : 0;
    for (size_t i = 0; i < corruptions; ++i) corrupt(&out);
    return out;
  }

  // The request's tools for the format: Qwen3-Coder's schemas type every value kind.
  static std::vector<ToolSpec> tools(ToolFormat format);

 private:
  size_t below(size_t n) { return n == 0 ? 0 : rng_() % n; }
  bool chance(unsigned percent) { return below(100) < percent; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

  std::string units() {
    std::string out;
    if (format_ == ToolFormat::kHarmony) {
      const size_t n = 1 + below(5);
      for (size_t i = 0; i < n; ++i) out += chance(85) ? harmony_message(i == 0) : noise();
      return out;
    }
    // Llama 3 calls only count at the start: most outputs begin with one.
    if (format_ == ToolFormat::kLlama3Json && chance(70)) out += llama3_call();
    const size_t n = 1 + below(6);
    for (size_t i = 0; i < n; ++i) {
      const size_t r = below(100);
      if (r < 35) {
        out += text();
      } else if (r < 75) {
        out += call();
      } else if (r < 90) {
        out += marker_piece();
      } else {
        out += whitespace();
      }
    }
    return out;
  }

  void corrupt(std::string* out) {
    const size_t n = out->size();
    switch (below(4)) {
      case 0:  // truncated anywhere (generation ends mid-marker, mid-character)
        out->resize(below(n + 1));
        return;
      case 1: {  // a byte range deleted
        const size_t at = below(n + 1);
        out->erase(at, below(std::min<size_t>(n - at, 24) + 1));
        return;
      }
      case 2: {  // a byte range duplicated in place (a model repeating itself)
        const size_t at = below(n + 1);
        const std::string piece = out->substr(at, below(std::min<size_t>(n - at, 40) + 1));
        out->insert(at, piece);
        return;
      }
      default: {  // spliced with another output
        const std::string other = units();
        *out = out->substr(0, below(n + 1)) + other.substr(below(other.size() + 1));
        return;
      }
    }
  }

  // --- text -------------------------------------------------------------------------------
  std::string whitespace() {
    static const std::vector<std::string> kWs = {" ", "  ", "\n", "\n\n", "\t", "\r\n", " \n\t "};
    return pick(kWs);
  }
  std::string word() {
    static const std::vector<std::string> kWords = {
        "hello",      "the",      "file",     "x",           "a < b", "if (a) {", "}",   "[1, 2]",
        "\"quoted\"", "中文注释", "日本語",   "👩‍💻", "🇯🇵",    "café",     "<",   "{",
        "[",          "\"",       ">",        "|",           "<|",    "</",       "]",   ":",
        ";",          "name",     "\"name\"", "{\"a\": 1}",  "\\",    "to=",      "json"};
    return pick(kWords);
  }
  std::string text() {
    std::string s;
    const size_t n = 1 + below(8);
    for (size_t i = 0; i < n; ++i) s += chance(30) ? whitespace() : word();
    return s;
  }
  std::string noise() { return chance(50) ? text() : marker_piece(); }

  // A marker of the format, whole or cut, possibly twice.
  std::string marker_piece() {
    std::string m = pick(markers());
    if (chance(30)) m.resize(below(m.size()));
    if (chance(15)) m += m;
    return m;
  }
  const std::vector<std::string>& markers() const;

  // --- JSON -------------------------------------------------------------------------------
  std::string json_string_body() {
    static const std::vector<std::string> kParts = {"a",       "path/to/file.c",
                                                    " ",       "\n",
                                                    "\t",      "\\n",
                                                    "\\\"",    "\\\\",
                                                    "\\u00e9", "\\ud83d\\ude00",
                                                    "漢字",    "👨‍👩‍👧",
                                                    "<",       "{",
                                                    "}",       "[",
                                                    "]",       ",",
                                                    ":",       "</div>",
                                                    "<|x|>"};
    std::string s;
    const size_t n = below(6);
    for (size_t i = 0; i < n; ++i) s += chance(10) ? pick(markers()) : pick(kParts);
    return s;
  }
  std::string sep() {
    static const std::vector<std::string> kSeps = {", ", ",", ",\n  ", " , "};
    return pick(kSeps);
  }
  std::string json_value(int depth) {
    static const std::vector<std::string> kScalars = {
        "0", "-1", "3.25", "1e5", "-2.5e-3", "12345678901234567890", "true", "false", "null"};
    const size_t r = below(10);
    if (depth < 3 && r < 2) return json_object(depth + 1);
    if (depth < 3 && r < 4) {
      std::string s = "[";
      const size_t n = below(4);
      for (size_t i = 0; i < n; ++i) s += (i ? sep() : "") + json_value(depth + 1);
      return s + "]";
    }
    if (r < 7) return "\"" + json_string_body() + "\"";
    return pick(kScalars);
  }
  std::string json_object(int depth = 0) {
    static const std::vector<std::string> kKeys = {"path", "content", "q", "日本", "a b", "", "x"};
    std::string s = chance(20) ? "{ " : "{";
    const size_t n = below(4);
    for (size_t i = 0; i < n; ++i)
      s += (i ? sep() : "") + ("\"" + pick(kKeys) + "\": ") + json_value(depth);
    return s + "}";
  }

  // --- calls ------------------------------------------------------------------------------
  std::string name() {
    static const std::vector<std::string> kNames = {
        "write_file", "search",  "read_file", "configure", "run",       "get_weather",
        "rm_rf",      "a.b-c_d", "查询",      "",          "two words", "tab\tname"};
    if (chance(3)) return std::string(300, 'n');  // longer than any valid name
    return pick(kNames);
  }
  std::string call();
  std::string json_call(bool llama3);
  std::string llama3_call();
  std::string qwen3_call();
  std::string qwen3_value(const std::string& param);
  std::string harmony_message(bool first);

  ToolFormat format_;
  std::mt19937 rng_;
};

}  // namespace agentserve::tools::testing
