// Randomized robustness test of every tool-call parser: thousands of seeded outputs of the
// grammar in fuzz_outputs.h per format, each fed whole, one byte at a time and in random cuts,
// with parse_calls on and off, against invariants that hold for any input (not expected events:
// those are the golden tests'). A failing input is shrunk (byte ranges deleted while it still
// fails) and printed with its seed; AGENTSERVE_FUZZ_OUTPUTS / AGENTSERVE_FUZZ_SEED search more.
//
// The invariants (numbers as in the failure messages):
//  1. no exception, and a bounded time per input (a hang shows as that input's time);
//  2. chunking invariance: the normalized events (tool_test_util.h) of every cut are the same;
//  3. a well-formed stream: calls numbered 0, 1, 2, ... in order, each kCallBegin, kCallArgs*,
//     exactly one kCallEnd, nothing else while a call is open, text events without an index;
//     and (call_stream_parser.h) every name a valid one;
//  4. arguments: a complete call's concatenated kCallArgs parse to a JSON object; so do an
//     incomplete call's when it broke (the closing fragment precedes its kCallEnd). Only a call
//     cut off by the end of generation goes without one: its kCallEnd is then the stream's last
//     event, its raw text runs to the end of the input, and its arguments are a prefix of a JSON
//     object. Every incomplete call's raw is text of the input;
//  5. with parse_calls false (harmony excepted), or an input without the format's call markers
//     (Llama 3: not starting with '{' or <|python_tag|>; harmony: none of its markers and not
//     starting with a recipient, "to=", which begins the first header), the output is the
//     input, unchanged, as one text;
//  6. nothing is lost (JSON formats and Qwen3-Coder): the content a TurnAccumulator collects
//     (text plus the raw text of incomplete calls) equals, ignoring whitespace, the input minus
//     the source of each complete call and minus the formatting the parsers document dropping
//     after a call (see after_call()). A call's source starts at the first non-space byte after
//     the content before it, which must be one of the format's call openers, and ends with its
//     '}' (Qwen3-Coder: </function>) no later than the byte whose arrival emitted its kCallEnd
//     in the byte-at-a-time run (see NothingLost for why not exactly there). For harmony, whose
//     headers are dropped by design, content and reasoning are each in input order (a
//     subsequence of the input, whitespace ignored);
//  7. no marker of a complete call reaches kText: implied by 6, which leaves every byte of a
//     complete call's source out of the content.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "base/log.h"
#include "fuzz_outputs.h"
#include "tool_test_util.h"
#include "tools/call_stream_parser.h"
#include "tools/text_scan.h"
#include "tools/tool_parser.h"

namespace agentserve::tools::testing {
namespace {

constexpr std::string_view kDsCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kDsCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kDsCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kDsCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kPythonTag = "<|python_tag|>";

std::string non_ws(std::string_view s) {
  std::string out;
  for (char c : s)
    if (!is_format_space(c)) out += c;
  return out;
}
std::string json_quoted(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The strings whose presence lets a parser see a call (invariant 5).
std::vector<std::string_view> call_markers(ToolFormat f) {
  switch (f) {
    case ToolFormat::kHermes:
      return {"<tool_call>"};
    case ToolFormat::kQwen3Coder:
      return {"<tool_call>", "<function="};
    case ToolFormat::kMistral:
      return {"[TOOL_CALLS]"};
    case ToolFormat::kDeepSeekV31:
      return {kDsCallsBegin, kDsCallBegin};
    case ToolFormat::kHarmony:
      return {"<|start|>",     "<|end|>",  "<|message|>", "<|channel|>",
              "<|constrain|>", "<|call|>", "<|return|>"};
    default:
      return {};
  }
}

// --- running ------------------------------------------------------------------------------
struct Trace {
  std::vector<ToolEvent> events;
  std::vector<size_t> offsets;  // per event: input bytes pushed when it came out
};

Trace run(const ParserOptions& options, const std::vector<std::string>& pieces) {
  auto parser = make_parser(options);
  Trace r;
  size_t pushed = 0;
  auto take = [&](std::vector<ToolEvent>& got) {
    for (auto& e : got) {
      r.events.push_back(std::move(e));
      r.offsets.push_back(pushed);
    }
  };
  for (const auto& p : pieces) {
    std::vector<ToolEvent> got;
    parser->push(p, &got);
    pushed += p.size();
    take(got);
  }
  std::vector<ToolEvent> got;
  parser->finish(&got);  // exactly once, at the end
  take(got);
  return r;
}

// --- invariants 3 and 4 -----------------------------------------------------------------------
// A prefix of some JSON object text: nlohmann's parser fails only at the end of the input.
struct PrefixSax : nlohmann::json_sax<nlohmann::json> {
  size_t error_at = 0;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t at, const std::string&,
                   const nlohmann::detail::exception&) override {
    error_at = at;
    return false;
  }
};
bool is_object_prefix(const std::string& text) {
  const size_t first = skip_format_space(text, 0);
  if (first < text.size() && text[first] != '{') return false;
  PrefixSax sax;
  // A position past the last byte: the parser ran out of input, no byte was wrong.
  return nlohmann::json::sax_parse(text, &sax) || sax.error_at > text.size();
}
bool is_object(const std::string& text) {
  const auto v = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return v.is_object();
}

std::string check_stream(ToolFormat f, const std::string& input, const Trace& r) {
  const auto& ev = r.events;
  int next = 0, open = -1;
  std::map<int, std::string> args;
  for (size_t i = 0; i < ev.size(); ++i) {
    const ToolEvent& e = ev[i];
    const std::string at = " (event " + std::to_string(i) + ")";
    switch (e.kind) {
      case Kind::kText:
      case Kind::kReasoning:
        if (e.index != -1) return "3: a text event with an index" + at;
        if (open >= 0) return "3: text inside open call " + std::to_string(open) + at;
        break;
      case Kind::kCallBegin:
        if (open >= 0) return "3: a call begins inside call " + std::to_string(open) + at;
        if (e.index != next)
          return "3: call index " + std::to_string(e.index) + " out of order" + at;
        if (f != ToolFormat::kHarmony ? !is_valid_call_name(e.text) : e.text.empty())
          return "3: invalid name " + json_quoted(e.text) + at;
        open = next++;
        break;
      case Kind::kCallArgs:
        if (e.index != open || open < 0) return "3: arguments outside their call" + at;
        args[e.index] += e.text;
        break;
      case Kind::kCallEnd: {
        if (e.index != open || open < 0) return "3: an end outside its call" + at;
        open = -1;
        const std::string& a = args[e.index];
        if (e.complete) {
          if (!is_object(a))
            return "4: complete call's arguments do not parse: " + json_quoted(a) + at;
          break;
        }
        if (input.find(e.raw) == std::string::npos)
          return "4: raw is not text of the input: " + json_quoted(e.raw) + at;
        if (is_object(a)) break;  // broke, closed by its last fragment (or cut after the '}')
        const bool cut_off = i + 1 == ev.size() && input.ends_with(e.raw);
        if (!cut_off) return "4: broken call's arguments do not parse: " + json_quoted(a) + at;
        if (!is_object_prefix(a))
          return "4: cut-off call's arguments are no JSON object prefix: " + json_quoted(a) + at;
        break;
      }
    }
  }
  if (open >= 0) return "3: call " + std::to_string(open) + " never ends";
  return "";
}

// --- invariant 6 ------------------------------------------------------------------------------
// Where the content after a complete call resumes: the formatting each parser skips after a
// call (a closing tag, list punctuation, DeepSeek's fence and end markers; a cut-off tail of
// those at the end of the input). `list` (Mistral): the call was an element of a [...] list;
// `element_next`: a ',' was skipped, so the next element's '{' opens a call.
size_t after_call(ToolFormat f, std::string_view in, size_t pos, bool* list, bool* element_next,
                  bool content_follows) {
  *element_next = false;
  const size_t p = skip_format_space(in, pos);
  const std::string_view rest = in.substr(p);
  switch (f) {
    case ToolFormat::kHermes:
      if (rest.starts_with("</tool_call>")) return p + 12;
      if (std::string_view("</tool_call>").starts_with(rest)) return in.size();
      return pos;
    case ToolFormat::kQwen3Coder:
      return rest.starts_with("</tool_call>") ? p + 12 : pos;
    case ToolFormat::kMistral:
      if (!*list || rest.empty()) return pos;
      if (rest[0] == ',') {
        *element_next = true;
        return p + 1;
      }
      *list = false;
      return rest[0] == ']' ? p + 1 : pos;
    case ToolFormat::kLlama3Json: {
      // ';' between calls is held like whitespace: dropped before a call or the end, text when
      // text follows it.
      if (content_follows) return pos;
      size_t q = p;
      while (q < in.size() && (is_format_space(in[q]) || in[q] == ';')) ++q;
      return q;
    }
    case ToolFormat::kDeepSeekV31: {
      size_t q = p;
      if (rest.starts_with("```")) q = skip_format_space(in, q + 3);
      const std::string_view tail = in.substr(q);
      if (tail.starts_with(kDsCallEnd)) {
        q = skip_format_space(in, q + kDsCallEnd.size());
        const std::string_view next = in.substr(q);
        if (next.starts_with(kDsCallsEnd)) return q + kDsCallsEnd.size();
        // A cut-off marker at the end (a whole <｜tool▁call▁begin｜> opens a call).
        if (next.size() < kDsCallBegin.size() &&
            (kDsCallBegin.starts_with(next) || kDsCallsEnd.starts_with(next)))
          return in.size();
        return q;
      }
      if (kDsCallEnd.starts_with(tail) || std::string_view("```").starts_with(tail))
        return in.size();
      return pos;
    }
    default:
      return pos;
  }
}

bool opens_call(ToolFormat f, std::string_view rest, bool element_next) {
  switch (f) {
    case ToolFormat::kHermes:
      return rest.starts_with("<tool_call>");
    case ToolFormat::kQwen3Coder:
      return rest.starts_with("<tool_call>") || rest.starts_with("<function=");
    case ToolFormat::kMistral:
      return rest.starts_with("[TOOL_CALLS]") || (element_next && rest.starts_with("{"));
    case ToolFormat::kLlama3Json:
      return rest.starts_with("{") || rest.starts_with(kPythonTag);
    case ToolFormat::kDeepSeekV31:
      return rest.starts_with(kDsCallsBegin) || rest.starts_with(kDsCallBegin);
    default:
      return false;
  }
}

// Whether a complete call's source can end just before byte `end`: its arguments object (or
// the envelope) closes with '}', a Qwen3-Coder call with </function>.
bool can_end_call(ToolFormat f, std::string_view in, size_t end) {
  if (f == ToolFormat::kQwen3Coder) return in.substr(0, end).ends_with("</function>");
  return end > 0 && in[end - 1] == '}';
}

// Splits the input into content segments and complete calls' sources, as described at the top
// (invariant 6). The byte whose arrival emitted a kCallEnd bounds where the call's source ends:
// it is that byte unless the parser held the call's bytes for a while (Mistral waits up to 64
// bytes for [ARGS] after [CALL_ID], then reads what it held, calls included), so every earlier
// end the format allows is tried too, first to last.
class NothingLost {
 public:
  NothingLost(ToolFormat f, std::string_view in, std::vector<std::string> content,
              std::vector<size_t> ends)
      : f_(f), in_(in), content_(std::move(content)), ends_(std::move(ends)) {}

  std::string check() {
    if (segment(0, 0, false, false)) return "";
    return error_;
  }

 private:
  bool fail(size_t pos, std::string why) {
    if (error_.empty() || pos >= error_pos_) error_ = std::move(why), error_pos_ = pos;
    return false;
  }

  bool segment(size_t k, size_t pos, bool list, bool element_next) {
    if (!tried_.insert({k, pos, list, element_next}).second) return false;
    const std::string& content = content_[k];
    if (k > 0) pos = after_call(f_, in_, pos, &list, &element_next, !content.empty());
    for (char c : content) {
      pos = skip_format_space(in_, pos);
      if (pos >= in_.size() || in_[pos] != c)
        return fail(pos, "6: content of segment " + std::to_string(k) + " (" +
                             json_quoted(content) + ") differs from the input at byte " +
                             std::to_string(pos));
      ++pos;
    }
    pos = skip_format_space(in_, pos);
    if (k + 1 == content_.size()) {
      return pos == in_.size() || fail(pos, "6: input from byte " + std::to_string(pos) +
                                                " is missing from the content");
    }
    const std::string_view rest = in_.substr(pos);
    if (!opens_call(f_, rest, element_next))
      return fail(pos, "6: complete call " + std::to_string(k) + " would start at byte " +
                           std::to_string(pos) + ", which opens no call: text lost before it?");
    if (f_ == ToolFormat::kMistral)  // "[TOOL_CALLS]" (12 bytes) then '[' opens a list
      list = rest.starts_with("{") || in_.substr(skip_format_space(in_, pos + 12)).starts_with("[");
    for (size_t end = pos + 1; end <= ends_[k]; ++end)
      if (can_end_call(f_, in_, end) && segment(k + 1, end, list, false)) return true;
    return fail(pos, "6: complete call " + std::to_string(k) + " from byte " + std::to_string(pos) +
                         " has no end that leaves the content after it");
  }

  ToolFormat f_;
  std::string_view in_;
  std::vector<std::string> content_;  // without whitespace
  std::vector<size_t> ends_;
  std::set<std::tuple<size_t, size_t, bool, bool>> tried_;  // (k, pos, ...) that failed
  std::string error_;
  size_t error_pos_ = 0;
};

std::string check_nothing_lost(ToolFormat f, const std::string& in, const Trace& bytes) {
  // The content between complete calls, in order, and when each complete call ended.
  std::set<int> complete;
  std::vector<size_t> ends;
  for (size_t i = 0; i < bytes.events.size(); ++i) {
    const ToolEvent& e = bytes.events[i];
    if (e.kind == Kind::kCallEnd && e.complete) {
      complete.insert(e.index);
      ends.push_back(bytes.offsets[i]);
    }
  }
  std::vector<std::string> segments(1);
  for (const ToolEvent& e : bytes.events) {
    if (e.kind == Kind::kText) segments.back() += e.text;
    if (e.kind == Kind::kCallBegin && complete.count(e.index)) segments.emplace_back();
    if (e.kind == Kind::kCallEnd && !e.complete) segments.back() += e.raw;
  }
  for (std::string& s : segments) s = non_ws(s);
  return NothingLost(f, in, std::move(segments), std::move(ends)).check();
}

// Harmony: what comes out is in the order it was written.
std::string check_in_order(const std::string& in, const Trace& r) {
  std::string content, reasoning;
  for (const ToolEvent& e : r.events) {
    if (e.kind == Kind::kText) content += e.text;
    if (e.kind == Kind::kReasoning) reasoning += e.text;
    if (e.kind == Kind::kCallEnd) content += e.raw;
  }
  const std::string all = non_ws(in);
  for (const std::string* s : {&content, &reasoning}) {
    size_t p = 0;
    for (char c : non_ws(*s)) {
      p = all.find(c, p);
      if (p == std::string::npos)
        return "6: output not a subsequence of the input: " + json_quoted(*s);
      ++p;
    }
  }
  return "";
}

// --- invariant 5 ------------------------------------------------------------------------------
bool output_is_input(ToolFormat f, bool parse_calls, const std::string& in) {
  if (!parse_calls && f != ToolFormat::kHarmony) return true;
  if (f == ToolFormat::kLlama3Json) {
    const std::string_view rest = std::string_view(in).substr(skip_format_space(in, 0));
    return !rest.starts_with("{") && !rest.starts_with(kPythonTag);
  }
  for (std::string_view m : call_markers(f))
    if (in.find(m) != std::string::npos) return false;
  if (f == ToolFormat::kHarmony) {
    // The generation prompt ends with <|start|>assistant: " to=functions.x" at the very start
    // is a header (cut off by the end of generation, it is left out).
    const std::string_view h = std::string_view(in).substr(in.starts_with(" ") ? 1 : 0);
    if (h.starts_with("to=")) return false;
  }
  return true;
}

// --- one input ------------------------------------------------------------------------------
struct Limits {
  double max_seconds_per_input = 2.0;
};

std::string check_input(ToolFormat f, const std::string& in, uint32_t seed) {
  const auto start = std::chrono::steady_clock::now();
  try {
    for (bool parse_calls : {true, false}) {
      ParserOptions o;
      o.format = f;
      o.parse_calls = parse_calls;
      o.tools = OutputGen::tools(f);
      const std::string mode = parse_calls ? " [parse_calls]" : " [no parse_calls]";
      std::vector<std::string> bytes;
      for (char c : in) bytes.emplace_back(1, c);
      const Trace whole = run(o, {in});
      const Trace one = run(o, bytes);
      const auto expected = normalized(whole.events);
      for (const Trace* r : {&whole, &one})
        if (auto err = check_stream(f, in, *r); !err.empty()) return err + mode;
      if (normalized(one.events) != expected)
        return "2: one byte at a time differs from whole" + mode + "\n whole:\n" +
               describe(expected) + " bytes:\n" + describe(normalized(one.events));
      for (size_t max : {3, 17, 64}) {
        const Trace cut = run(o, random_pieces(in, seed * 31 + static_cast<uint32_t>(max), max));
        if (auto err = check_stream(f, in, cut); !err.empty()) return err + mode;
        if (normalized(cut.events) != expected)
          return "2: cut at most " + std::to_string(max) + " bytes differs from whole" + mode +
                 "\n whole:\n" + describe(expected) + " cut:\n" + describe(normalized(cut.events));
      }
      if (output_is_input(f, parse_calls, in)) {
        const std::vector<ToolEvent> same =
            in.empty() ? std::vector<ToolEvent>{} : std::vector<ToolEvent>{text_ev(in)};
        if (expected != same) return "5: the output is not the input" + mode;
      }
      if (parse_calls) {
        const std::string err =
            f == ToolFormat::kHarmony ? check_in_order(in, one) : check_nothing_lost(f, in, one);
        if (!err.empty()) return err + mode + "\n events:\n" + describe(normalized(one.events));
      }
    }
  } catch (const std::exception& e) {
    return std::string("1: exception: ") + e.what();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (seconds > Limits{}.max_seconds_per_input)
    return "1: took " + std::to_string(seconds) + " s for " + std::to_string(in.size()) + " bytes";
  return "";
}

// Deletes byte ranges, halving their length, while the input still fails.
std::string shrink(ToolFormat f, std::string in, uint32_t seed) {
  int budget = 4000;
  for (size_t len = in.size() / 2; len >= 1 && budget > 0; len = len > 1 ? len / 2 : 0) {
    for (size_t at = 0; at + len <= in.size() && budget > 0;) {
      std::string smaller = in.substr(0, at) + in.substr(at + len);
      --budget;
      if (!check_input(f, smaller, seed).empty()) {
        in = std::move(smaller);
      } else {
        ++at;
      }
    }
  }
  return in;
}

void fuzz(ToolFormat f, uint32_t first_seed, int count) {
  // Broken calls are logged as warnings: thousands of them would only slow the test down.
  struct Quiet {
    LogLevel was = log_level();
    Quiet() { set_log_level(LogLevel::kError); }
    ~Quiet() { set_log_level(was); }
  } quiet;
  size_t bytes = 0;
  int with_complete = 0, with_incomplete = 0, without_calls = 0;
  for (int i = 0; i < count; ++i) {
    const uint32_t seed = first_seed + static_cast<uint32_t>(i);
    OutputGen gen(f, seed);
    const std::string in = gen.output();
    bytes += in.size();
    const std::string err = check_input(f, in, seed);
    if (!err.empty()) {
      const std::string small = shrink(f, in, seed);
      ADD_FAILURE() << format_name(f) << " seed " << seed << ": " << err.substr(0, err.find('\n'))
                    << "\n input (" << in.size() << " bytes): " << json_quoted(in)
                    << "\n shrunk: " << json_quoted(small)
                    << "\n shrunk fails with: " << check_input(f, small, seed);
      return;  // one minimized failure per format is enough to act on
    }
    // What the grammar reached, so that a change to it cannot quietly stop testing calls.
    ParserOptions o;
    o.format = f;
    o.tools = OutputGen::tools(f);
    bool complete = false, incomplete = false;
    for (const ToolEvent& e : run(o, {in}).events) {
      if (e.kind != Kind::kCallEnd) continue;
      (e.complete ? complete : incomplete) = true;
    }
    with_complete += complete;
    with_incomplete += incomplete;
    without_calls += !complete && !incomplete;
  }
  std::printf(
      "%s: %d outputs (%zu bytes): %d with complete calls, %d with incomplete ones, %d "
      "without calls\n",
      format_name(f), count, bytes, with_complete, with_incomplete, without_calls);
  EXPECT_GE(with_complete, count / 4);
  EXPECT_GE(with_incomplete, count / 20);
  EXPECT_GE(without_calls, count / 20);
}

// The outputs per format; AGENTSERVE_FUZZ_OUTPUTS and AGENTSERVE_FUZZ_SEED (added to each
// format's first seed) run a longer or a different search by hand.
int outputs() {
  const char* n = std::getenv("AGENTSERVE_FUZZ_OUTPUTS");
  return n ? std::atoi(n) : 2500;
}
uint32_t seed(uint32_t first) {
  const char* s = std::getenv("AGENTSERVE_FUZZ_SEED");
  return first + (s ? static_cast<uint32_t>(std::strtoul(s, nullptr, 10)) : 0);
}

TEST(ToolParserFuzz, Hermes) {
  fuzz(ToolFormat::kHermes, seed(1000), outputs());
}
TEST(ToolParserFuzz, Qwen3Coder) {
  fuzz(ToolFormat::kQwen3Coder, seed(2000), outputs());
}
TEST(ToolParserFuzz, Llama3Json) {
  fuzz(ToolFormat::kLlama3Json, seed(3000), outputs());
}
TEST(ToolParserFuzz, Mistral) {
  fuzz(ToolFormat::kMistral, seed(4000), outputs());
}
TEST(ToolParserFuzz, DeepSeekV31) {
  fuzz(ToolFormat::kDeepSeekV31, seed(5000), outputs());
}
TEST(ToolParserFuzz, Harmony) {
  fuzz(ToolFormat::kHarmony, seed(6000), outputs());
}

}  // namespace
}  // namespace agentserve::tools::testing
