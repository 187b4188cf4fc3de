// A Claude-Code-sized request, built deterministically (shared by the template and chat-layer
// render benchmarks): a ~10 KB system prompt, 24 tools whose JSON schemas total ~64 KB, and 50
// turns of user message → assistant with tool calls (arguments as JSON objects) → tool results
// → assistant answer. Returned as the template's variables (messages, tools, ...).
#pragma once

#include <nlohmann/json.hpp>

#include <random>
#include <string>

namespace agentserve::bench {

using nlohmann::ordered_json;

inline const char* const kWords[] = {
    "the", "file", "command", "returns", "output", "path", "when", "use", "this", "tool",
    "to", "search", "edit", "parameters", "must", "be", "absolute", "relative", "not", "allowed",
    "result", "lines", "pattern", "regex", "directory", "project", "user", "request", "always",
    "never", "prefer", "instead", "of", "running", "tests", "build", "commit", "changes",
};

inline std::string words(std::mt19937* rng, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += (i % 17 == 0) ? ".\n- " : " ";
    s += kWords[(*rng)() % std::size(kWords)];
  }
  return s + ".";
}

inline ordered_json make_tool(std::mt19937* rng, int i) {
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

inline ordered_json make_request(size_t* schema_bytes) {
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

}  // namespace agentserve::bench
