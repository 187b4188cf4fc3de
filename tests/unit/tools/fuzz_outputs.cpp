// The per-format halves of the output grammar of fuzz_outputs.h.
#include "fuzz_outputs.h"

#include <nlohmann/json.hpp>

namespace agentserve::tools::testing {

std::vector<ToolSpec> OutputGen::tools(ToolFormat format) {
  using Json = nlohmann::ordered_json;
  std::vector<ToolSpec> t = {{"write_file", Json::parse(R"({"type": "object", "properties": {
      "path": {"type": "string"}, "content": {"type": "string"}}})")},
                             {"search", Json::object()},
                             {"read_file", Json::object()},
                             {"run", Json::object()}};
  if (format == ToolFormat::kQwen3Coder) {
    t.push_back({"configure", Json::parse(R"({"type": "object", "properties": {
        "count": {"type": "integer"}, "ratio": {"type": "number"}, "force": {"type": "boolean"},
        "nothing": {"type": "null"}, "options": {"type": "object"}, "tags": {"type": "array"},
        "mode": {"enum": ["fast", "slow"]}, "limit": {"anyOf": [{"type": "integer"},
        {"type": "null"}]}, "level": {"type": ["integer", "string"]},
        "weight": {"oneOf": [{"type": "number"}, {"type": "boolean"}]},
        "anything": {"type": "any"}}})")});
  }
  return t;
}

const std::vector<std::string>& OutputGen::markers() const {
  static const std::vector<std::string> kHermes = {"<tool_call>", "</tool_call>"};
  static const std::vector<std::string> kQwen = {
      "<tool_call>", "</tool_call>", "<function=", "</function>", "<parameter=", "</parameter>"};
  static const std::vector<std::string> kLlama = {"<|python_tag|>", "{", "}", ";"};
  static const std::vector<std::string> kMistral = {"[TOOL_CALLS]", "[ARGS]", "[CALL_ID]", "[",
                                                    "]"};
  static const std::vector<std::string> kDeepSeek = {"<｜tool▁calls▁begin｜>",
                                                     "<｜tool▁call▁begin｜>",
                                                     "<｜tool▁sep｜>",
                                                     "<｜tool▁call▁end｜>",
                                                     "<｜tool▁calls▁end｜>",
                                                     "```json",
                                                     "```",
                                                     "function"};
  static const std::vector<std::string> kHarmony = {
      "<|start|>",  "<|end|>",   "<|message|>", "<|channel|>",    "<|constrain|>", "<|call|>",
      "<|return|>", "assistant", "analysis",    " to=functions.", "final",         " json"};
  switch (format_) {
    case ToolFormat::kQwen3Coder:
      return kQwen;
    case ToolFormat::kLlama3Json:
      return kLlama;
    case ToolFormat::kMistral:
      return kMistral;
    case ToolFormat::kDeepSeekV31:
      return kDeepSeek;
    case ToolFormat::kHarmony:
      return kHarmony;
    default:
      return kHermes;
  }
}

// {"name": ..., "arguments": ...} in the spellings models use: alias key, name last, arguments
// as a string holding JSON, no arguments, extra members, a non-string name.
std::string OutputGen::json_call(bool llama3) {
  const std::string n = nlohmann::json(name()).dump();
  std::string args = json_object();
  if (chance(10)) args = nlohmann::json(args).dump();  // a string holding the JSON
  if (chance(5)) args = json_value(2);                 // not an object at all
  const std::string key = llama3 || chance(20) ? "\"parameters\"" : "\"arguments\"";
  std::string members;
  switch (below(6)) {
    case 0:
      members = key + ": " + args + ", \"name\": " + n;
      break;
    case 1:
      members = "\"name\": " + n;
      break;
    case 2:
      members = "\"type\": \"function\", \"name\": " + n + ", " + key + ": " + args;
      break;
    case 3:
      members = "\"name\": " + (chance(50) ? std::string("42") : n) + ", " + key + ": " + args +
                ", \"id\": \"a1b2c3d4e\"";
      break;
    default:
      members = "\"name\": " + n + ", " + key + ": " + args;
  }
  return "{" + members + "}";
}

std::string OutputGen::llama3_call() {
  std::string s = chance(30) ? "<|python_tag|>" : "";
  const size_t n = 1 + below(3);
  for (size_t i = 0; i < n; ++i) {
    if (i) s += chance(50) ? "; " : "\n";
    s += chance(85) ? json_call(true) : json_object();  // or a JSON answer, no call
  }
  return s;
}

std::string OutputGen::call() {
  switch (format_) {
    case ToolFormat::kHermes: {
      std::string s = "<tool_call>\n" + json_call(false);
      if (chance(85)) s += "\n</tool_call>";
      return s;
    }
    case ToolFormat::kQwen3Coder:
      return qwen3_call();
    case ToolFormat::kLlama3Json:
      return llama3_call();
    case ToolFormat::kMistral: {
      if (chance(50)) {
        std::string s = "[TOOL_CALLS][";
        const size_t n = below(3) + (chance(90) ? 1 : 0);
        for (size_t i = 0; i < n; ++i) s += (i ? ", " : "") + json_call(false);
        return s + "]";
      }
      std::string s = "[TOOL_CALLS]" + name();
      if (chance(40)) s += "[CALL_ID]" + std::string(chance(90) ? "abc123def" : "x y");
      return s + "[ARGS]" + json_object();
    }
    case ToolFormat::kDeepSeekV31: {
      std::string s = chance(80) ? "<｜tool▁calls▁begin｜>" : "";
      const size_t n = 1 + below(3);
      for (size_t i = 0; i < n; ++i) {
        s += "<｜tool▁call▁begin｜>";
        if (chance(30)) {  // V3: the type, then the name and a fenced object
          s += "function<｜tool▁sep｜>" + name() + "\n```json\n" + json_object() + "\n```";
        } else {
          s += name() + "<｜tool▁sep｜>" + json_object();
        }
        if (chance(90)) s += "<｜tool▁call▁end｜>";
      }
      if (chance(80)) s += "<｜tool▁calls▁end｜>";
      return s;
    }
    default:
      return text();
  }
}

// Every schema type of the "configure" tool, values that fit and some that do not, and file
// bodies that mention the tags mid-line.
std::string OutputGen::qwen3_value(const std::string& param) {
  static const std::vector<std::string> kAny = {"42",
                                                "-7",
                                                "3.5",
                                                "1e3",
                                                "true",
                                                "False",
                                                "None",
                                                "null",
                                                "fast",
                                                "[1, \"a\", {}]",
                                                "{\"k\": [true, null]}",
                                                "not a number",
                                                "",
                                                " 12 ",
                                                "{\"broken\": "};
  static const std::vector<std::string> kBody = {
      "line one\nline two", "a < b && c > d",       "see </function> inline",
      "x <parameter=y> z",  "\t\"quoted\" \\ back", "中文 👩‍💻",
      "</parameter",        "<tool_call>",          "\n\n"};
  if (param == "content" || param == "path" || chance(30)) {
    std::string v;
    const size_t n = 1 + below(3);
    for (size_t i = 0; i < n; ++i) v += pick(kBody);
    return v;
  }
  return chance(60) ? pick(kAny) : json_value(1);
}

std::string OutputGen::qwen3_call() {
  static const std::vector<std::string> kParams = {
      "path", "content", "count", "ratio", "force",  "nothing",  "options",
      "tags", "mode",    "limit", "level", "weight", "anything", "unknown"};
  std::string s = chance(80) ? "<tool_call>\n" : "";
  const size_t functions = chance(85) ? 1 : 2;
  for (size_t f = 0; f < functions; ++f) {
    s += "<function=" + (chance(50) ? std::string("configure") : name()) + ">\n";
    const size_t n = below(4);
    for (size_t i = 0; i < n; ++i) {
      const std::string p = chance(5) ? "" : pick(kParams);
      s += "<parameter=" + p + ">\n" + qwen3_value(p) + "\n";
      if (chance(85)) s += "</parameter>\n";
    }
    s += "</function>\n";
  }
  if (chance(85)) s += "</tool_call>";
  return s;
}

// One harmony message: opener, header (channel, recipient before or after it, content type),
// body, terminator; each part sometimes missing.
std::string OutputGen::harmony_message(bool first) {
  static const std::vector<std::string> kChannels = {"analysis", "commentary", "final", "weird"};
  static const std::vector<std::string> kTypes = {"", " json", " <|constrain|>json",
                                                  "<|constrain|>json"};
  static const std::vector<std::string> kEnds = {"<|end|>", "<|call|>", "<|return|>", ""};
  std::string s;
  if (!first) s += chance(85) ? "<|start|>assistant" : "";
  const bool call = chance(40);
  const std::string recipient = " to=" + (chance(90) ? "functions." + name() : name());
  const bool recipient_first = chance(50);
  if (call && recipient_first) s += recipient;
  s += "<|channel|>" + pick(kChannels);
  if (call && !recipient_first) s += recipient;
  s += pick(kTypes);
  if (chance(95)) s += "<|message|>";
  s += call && chance(85) ? json_object() : text();
  s += pick(kEnds);
  return s;
}

}  // namespace agentserve::tools::testing
