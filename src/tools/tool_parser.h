// Tool calls out of generated text: the formats each model family writes, detected from its
// chat template, parsed incrementally as text arrives so that the API sees a call begin as soon
// as its name is complete and its arguments as they are generated.
//
// The parser sits after the detokenizer and the stop strings: it gets the answer text of one
// turn (never the inside of a <think> block — a call written while reasoning is not a call) in
// pieces of any size, and turns it into ToolEvents. For gpt-oss (harmony) it also splits the
// analysis channel (reasoning) from the final channel, so it runs even without tools.
//
// Guarantees, for every format and every way the text is cut into pieces:
// - no marker text (<tool_call>, [TOOL_CALLS], <|python_tag|>, ...) ever reaches a kText event
//   of a call that parsed; text before, between and after calls is kText, in order;
// - for a call, kCallBegin (name) comes first, then kCallArgs fragments whose concatenation is
//   the arguments as one JSON object text, then kCallEnd; indices count from 0 per turn;
// - nothing generated is lost: output that breaks its format comes back as kText (with a
//   warning in the log), and a call cut off by the end of generation ends with
//   complete = false and its text in `raw`.
// No JSON past this layer toward the engine; the API encoders turn events into wire frames.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace agentserve::tools {

enum class ToolFormat {
  kNone,         // the template has no tool-call format we know: calls are not parsed
  kHermes,       // Hermes / Qwen2.5 / Qwen3: <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>
  kQwen3Coder,   // <tool_call>\n<function=NAME>\n<parameter=P>\nvalue\n</parameter>\n</function>\n</tool_call>
  kLlama3Json,   // Llama 3.x: {"name": ..., "parameters": {...}}, optionally after <|python_tag|>
  kMistral,      // [TOOL_CALLS][{"name": ..., "arguments": {...}}, ...] or [TOOL_CALLS]NAME[ARGS]{...}
  kDeepSeekV31,  // <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>...<｜tool▁calls▁end｜>
  kHarmony,      // gpt-oss: <|channel|>commentary to=functions.NAME <|constrain|>json<|message|>{...}<|call|>
};

// "none", "hermes", "qwen3_coder", "llama3_json", "mistral", "deepseek_v3_1", "harmony".
const char* format_name(ToolFormat format);
std::optional<ToolFormat> format_from_name(std::string_view name);
// Every name format_from_name accepts, for help texts and error messages.
std::string format_names();

// Whether the format's parser reads the tools' parameter schemas (Qwen3-Coder types its values
// by them; JSON formats carry typed values already). Others need only the names.
bool uses_parameter_schemas(ToolFormat format);

// The format a chat template's source text teaches its model (kNone when it teaches none).
ToolFormat detect_format(std::string_view template_source);

// What a parser knows of the request's tools: the name and the `parameters` JSON Schema
// (Qwen3-Coder's values are typed by it: a string parameter stays raw text, numbers, booleans,
// arrays and objects are parsed).
struct ToolSpec {
  std::string name;
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();
};

struct ToolEvent {
  enum class Kind {
    kText,       // content (text)
    kReasoning,  // reasoning (harmony's analysis channel) (text)
    kCallBegin,  // a call starts: its name (text) is complete
    kCallArgs,   // a fragment of the call's arguments JSON text (text)
    kCallEnd,    // the call is over (complete, raw)
  };
  Kind kind = Kind::kText;
  int index = -1;  // kCallBegin / kCallArgs / kCallEnd: the call's number in this turn
  std::string text;
  // kCallEnd: false when the call did not finish (generation ended inside it) or broke its
  // format after it had begun. The fragments sent so far then may not parse; `raw` holds the
  // call's generated text, markers included (and the whitespace before it that was dropped as
  // formatting), so that a non-streaming response can return it as content instead of a call.
  bool complete = true;
  std::string raw;

  bool operator==(const ToolEvent&) const = default;
};

struct ParserOptions {
  ToolFormat format = ToolFormat::kNone;
  // Calls are parsed only when this is true (the request has tools and tool_choice is not
  // "none"); otherwise everything is text (harmony still separates its channels).
  bool parse_calls = true;
  std::vector<ToolSpec> tools;
};

class ToolParser {
 public:
  virtual ~ToolParser() = default;
  // The next piece of generated text (any size, may split UTF-8 characters and markers).
  virtual void push(std::string_view text, std::vector<ToolEvent>* out) = 0;
  // Generation ended: release what was held back; a call still open ends with complete=false.
  virtual void finish(std::vector<ToolEvent>* out) = 0;
};

// A parser for one generation. For kNone (or parse_calls false, except harmony), a
// pass-through that emits every piece as kText.
std::unique_ptr<ToolParser> make_parser(const ParserOptions& options);

// Collects the events of one turn for a non-streaming response.
struct ParsedCall {
  std::string name;
  std::string arguments;  // the JSON text (concatenated kCallArgs)
};
struct ParsedTurn {
  std::string content;
  std::string reasoning;
  std::vector<ParsedCall> calls;
};
class TurnAccumulator {
 public:
  void add(const ToolEvent& event);
  // An incomplete call's `raw` text goes into content in place of the call.
  ParsedTurn take();

 private:
  ParsedTurn turn_;
  std::vector<int> call_slot_;  // event index → position in turn_.calls (-1: dropped to text)
};

}  // namespace agentserve::tools
