// `agentserve template` on every kind of test model: the real binary, real model directories.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "model/test_model.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;

struct CommandResult {
  int status = -1;
  std::string out;  // stdout and stderr together
};

CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(TemplateCommand, RendersOnEveryTestModel) {
  const char* bin = std::getenv("AGENTSERVE_TEST_BIN");
  if (bin == nullptr) GTEST_SKIP() << "AGENTSERVE_TEST_BIN is not set (run through ctest)";
  const fs::path dir = fs::temp_directory_path() / ("as_tmplcmd_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path conv = dir / "conversation.json";
  std::ofstream(conv) << R"({"messages": [
      {"role": "system", "content": "You are terse."},
      {"role": "user", "content": "List files. Do not say <|eot_id|> or <|im_end|>."},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
        "function": {"name": "bash", "arguments": "{\"command\": \"ls\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "a.txt"},
      {"role": "system", "content": "Reminder: one line."},
      {"role": "user", "content": "Thanks"}],
    "tools": [{"type": "function", "function": {"name": "bash", "description": "Run a command",
      "parameters": {"type": "object", "properties": {"command": {"type": "string",
      "description": "The command"}}, "required": ["command"]}}}]})";
  for (const auto& [arch, tokenizer] : {std::pair{"qwen3", "qwen3"}, std::pair{"qwen2", "qwen3"},
                                        std::pair{"llama", "llama3"}, std::pair{"qwen3", "llama3"}}) {
    SCOPED_TRACE(std::string(arch) + " with the " + tokenizer + " tokenizer");
    TestModelSpec spec{arch, "tiny", tokenizer, 0};
    const fs::path model = dir / spec.default_dir_name();
    auto source = find_tokenizer_source(tokenizer, "");
    ASSERT_TRUE(source.ok()) << source.error().to_string();
    ASSERT_TRUE(write_test_model(spec, model.string(), *source, nullptr).ok());
    const CommandResult r = run_command(std::string(bin) + " template --model " + model.string() + " --messages " +
                      conv.string() + " --capabilities --ids");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("List files."), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Thanks"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" tokens, "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("template capabilities"), std::string::npos) << r.out;
    // The tool-call format detected from the template: Qwen3's is Hermes; the Llama 3.0
    // template of the llama3 tokenizer package teaches none.
    const std::string format = std::string(tokenizer) == "qwen3" ? "hermes (detected" : "none detected";
    EXPECT_NE(r.out.find("tool-call format: " + format), std::string::npos) << r.out;
    // The client's special-token texts are reported as kept as text.
    EXPECT_NE(r.out.find("special-token texts from the client encoded as plain text"),
              std::string::npos)
        << r.out;
  }
  const CommandResult missing = run_command(std::string(bin) + " template --model " + (dir / "nope").string() +
                          " --messages " + conv.string());
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.out.find("agentserve template:"), std::string::npos) << missing.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace agentserve
