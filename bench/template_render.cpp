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

#include "claude_code_request.h"
#include "text/template/template.h"

using agentserve::tmpl::Template;
using agentserve::tmpl::TemplateError;
using agentserve::tmpl::Value;
using nlohmann::ordered_json;
using agentserve::bench::make_request;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
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
