// Chat-template render time for a Claude-Code-sized request.
//
//   bench_template_render [--template FILE] [--iters N] [--dump-context FILE]
//
// --dump-context writes the request (the template's variables) as JSON, so that the peer,
// Jinja2 as transformers configures it, can render the very same input:
//   python3 -c 'import json,sys,time; sys.path.insert(0,"tests/template"); import jinja_oracle as o
//     e=o.make_environment(); t=e.from_string(open("tests/template/fixtures/qwen3.jinja").read())
//     c=json.load(open("ctx.json")); t0=time.perf_counter(); [t.render(**c) for _ in range(50)]
//     print((time.perf_counter()-t0)/50*1e3, "ms")'
//
// Builds, deterministically, what Claude Code sends after a long session: a ~10 KB system
// prompt, 24 tools whose JSON schemas total ~64 KB, and 50 turns of user message → assistant
// with tool calls (arguments as JSON objects) → tool results → assistant answer. Renders it
// through the Qwen3 chat template (tests/template/fixtures/qwen3.jinja by default) and prints
// the median and p90 render time, the output size, and the one-off costs (parse, building the
// context Value from JSON).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "text/template/template.h"

using agentserve::tmpl::Template;
using agentserve::tmpl::TemplateError;
using agentserve::tmpl::Value;
using nlohmann::ordered_json;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const char* const kWords[] = {
    "the", "file", "command", "returns", "output", "path", "when", "use", "this", "tool",
    "to", "search", "edit", "parameters", "must", "be", "absolute", "relative", "not", "allowed",
    "result", "lines", "pattern", "regex", "directory", "project", "user", "request", "always",
    "never", "prefer", "instead", "of", "running", "tests", "build", "commit", "changes",
};

std::string words(std::mt19937* rng, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += (i % 17 == 0) ? ".\n- " : " ";
    s += kWords[(*rng)() % std::size(kWords)];
  }
  return s + ".";
}

ordered_json make_tool(std::mt19937* rng, int i) {
  ordered_json props = ordered_json::object();
  const int nprops = 6 + static_cast<int>((*rng)() % 5);
  for (int p = 0; p < nprops; ++p) {
    ordered_json prop;
    switch (p % 4) {
      case 0:
        prop = {{"type", "string"}, {"description", words(rng, 28)}};
        break;
      case 1:
        prop = {{"type", "integer"}, {"description", words(rng, 14)}, {"minimum", 0}, {"maximum", 600000}};
        break;
      case 2:
        prop = {{"type", "string"}, {"enum", {"pending", "in_progress", "completed", "cancelled"}},
                {"description", words(rng, 10)}};
        break;
      default:
        prop = {{"type", "array"},
                {"description", words(rng, 12)},
                {"items", {{"type", "object"},
                           {"properties", {{"old_string", {{"type", "string"}, {"description", words(rng, 8)}}},
                                           {"new_string", {{"type", "string"}, {"description", words(rng, 8)}}},
                                           {"replace_all", {{"type", "boolean"}, {"default", false}}}}},
                           {"required", {"old_string", "new_string"}},
                           {"additionalProperties", false}}}};
    }
    props["param_" + std::to_string(p)] = prop;
  }
  return {{"type", "function"},
          {"function", {{"name", "Tool" + std::to_string(i)},
                        {"description", words(rng, 110)},
                        {"parameters", {{"type", "object"},
                                        {"properties", props},
                                        {"required", {"param_0", "param_1"}},
                                        {"additionalProperties", false},
                                        {"$schema", "http://json-schema.org/draft-07/schema#"}}}}}};
}

ordered_json make_request(size_t* schema_bytes) {
  std::mt19937 rng(20261127);
  ordered_json tools = ordered_json::array();
  *schema_bytes = 0;
  for (int i = 0; i < 24; ++i) {
    tools.push_back(make_tool(&rng, i));
    *schema_bytes += tools.back().dump().size();
  }
  ordered_json messages = ordered_json::array();
  messages.push_back({{"role", "system"}, {"content", "You are Claude Code.\n" + words(&rng, 1600)}});
  for (int turn = 0; turn < 50; ++turn) {
    messages.push_back({{"role", "user"}, {"content", words(&rng, 40 + rng() % 60)}});
    ordered_json calls = ordered_json::array();
    const int ncalls = 1 + static_cast<int>(rng() % 2);
    for (int c = 0; c < ncalls; ++c) {
      calls.push_back({{"id", "toolu_" + std::to_string(turn * 10 + c)},
                       {"type", "function"},
                       {"function", {{"name", "Tool" + std::to_string(rng() % 24)},
                                     {"arguments", {{"param_0", "/home/user/project/src/file_" + std::to_string(turn) + ".cpp"},
                                                    {"param_1", static_cast<int>(rng() % 1000)},
                                                    {"param_3", {{{"old_string", words(&rng, 6)}, {"new_string", words(&rng, 7)}}}}}}}}});
    }
    messages.push_back({{"role", "assistant"}, {"content", words(&rng, 12)}, {"tool_calls", calls}});
    for (int c = 0; c < ncalls; ++c)
      messages.push_back({{"role", "tool"}, {"tool_call_id", calls[c]["id"]},
                          {"content", words(&rng, 80 + rng() % 250)}});
    messages.push_back({{"role", "assistant"}, {"content", words(&rng, 30 + rng() % 40)}});
  }
  messages.push_back({{"role", "user"}, {"content", "Now run the tests and fix what fails."}});
  return {{"messages", messages}, {"tools", tools}, {"documents", nullptr},
          {"add_generation_prompt", true}, {"eos_token", "<|im_end|>"}, {"pad_token", "<|endoftext|>"}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = std::string(AGENTSERVE_SOURCE_DIR) + "/tests/template/fixtures/qwen3.jinja";
  int iters = 300;
  std::string dump_path;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--template") && i + 1 < argc) path = argv[++i];
    else if (!std::strcmp(argv[i], "--iters") && i + 1 < argc) iters = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--dump-context") && i + 1 < argc) dump_path = argv[++i];
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string source = ss.str();

  size_t schema_bytes = 0;
  const ordered_json request = make_request(&schema_bytes);
  if (!dump_path.empty()) std::ofstream(dump_path, std::ios::binary) << request.dump();

  double t0 = now_s();
  auto parsed = Template::parse(source, "qwen3");
  const double parse_ms = (now_s() - t0) * 1e3;
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s\n", parsed.error().to_string().c_str());
    return 1;
  }
  t0 = now_s();
  const Value ctx = Value::from_json(request);
  const double build_ms = (now_s() - t0) * 1e3;

  std::string out;
  TemplateError err;
  std::vector<double> times;
  for (int i = 0; i < iters + 10; ++i) {
    t0 = now_s();
    const bool ok = parsed->render(ctx, &out, &err);
    const double dt = (now_s() - t0) * 1e3;
    if (!ok) {
      std::fprintf(stderr, "render failed: %s\n", err.to_string().c_str());
      return 1;
    }
    if (i >= 10) times.push_back(dt);  // the first renders warm caches and the allocator
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  const double p90 = times[times.size() * 9 / 10];
  std::printf("template %s: %zu tools (%.1f KB of schemas), %zu messages\n", path.c_str(),
              request["tools"].size(), schema_bytes / 1024.0, request["messages"].size());
  std::printf("render: median %.3f ms, p90 %.3f ms, min %.3f ms over %d renders; output %zu bytes\n",
              median, p90, times.front(), iters, out.size());
  std::printf("one-off: parse %.3f ms, context from JSON %.3f ms\n", parse_ms, build_ms);
  return 0;
}
