#include "cli/model_arg.h"

#include <cstdio>
#include <filesystem>

#include "base/log.h"
#include "base/paths.h"
#include "base/progress.h"
#include "model/test_model.h"

namespace agentserve::cli {

Result<std::string> resolve_model_dir(const std::string& model_arg) {
  if (!model_arg.empty()) return model_arg;
  TestModelSpec spec;  // qwen3 / small / qwen3 tokenizer / seed 0
  const std::string dir = user_cache_dir() + "/models/" + spec.default_dir_name();
  if (test_model_is_complete(spec, dir)) return dir;
  AS_LOG_INFO("no --model given: making the default test model (Qwen3-0.6B shape, seeded random "
              "weights, real Qwen3 tokenizer) in {}", dir);
  AS_ASSIGN_OR_RETURN(std::string tokenizer_dir, find_tokenizer_source(spec.tokenizer, ""));
  std::unique_ptr<Progress> bar;
  AS_TRY(write_test_model(spec, dir, tokenizer_dir, [&](uint64_t done, uint64_t total) {
    if (!bar) bar = std::make_unique<Progress>("writing weights", total);
    bar->update(done);
  }));
  if (bar) bar->finish();
  return dir;
}

int report_error(const char* command, const Error& error) {
  std::fprintf(stderr, "agentserve %s: %s\n", command, error.message.c_str());
  return 1;
}

}  // namespace agentserve::cli
