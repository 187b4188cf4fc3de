// agentserve generate: stream a completion of a raw prompt to stdout.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "cli/runtime.h"
#include "text/tokenizer/tokenizer.h"

namespace agentserve::cli {
namespace {

struct GenerateArgs {
  RuntimeOptions runtime;
  std::string prompt;
  int32_t max_tokens = 128;
  SamplingParams sampling;
  int64_t seed = -1;
  bool ignore_eos = false;
  bool no_stats = false;
};

int run_generate(const GenerateArgs& a) {
  auto loaded = load_runtime(a.runtime);
  if (!loaded.ok()) return report_error("generate", loaded.error());
  Runtime& rt = **loaded;

  GenerationRequest req;
  req.id = 1;
  // The prompt is the caller's own text: template markup in it is honoured, as with a
  // completions API. (Chat messages go through the chat template once that layer exists.)
  req.prompt = rt.tokenizer->encode(a.prompt, SpecialTokenMode::kRecognize);
  if (rt.tokenizer->add_bos_token() && rt.tokenizer->bos_token_id().has_value() &&
      (req.prompt.empty() || req.prompt.front() != *rt.tokenizer->bos_token_id()))
    req.prompt.insert(req.prompt.begin(), *rt.tokenizer->bos_token_id());
  req.sampling = a.sampling;
  if (a.seed >= 0) {
    req.sampling.seed = static_cast<uint64_t>(a.seed);
    req.sampling.has_seed = true;
  }
  req.stop.max_new_tokens = a.max_tokens;
  req.stop.stop_token_ids = rt.stop_token_ids;
  req.stop.ignore_stop_tokens = a.ignore_eos;
  const size_t prompt_tokens = req.prompt.size();

  StreamingDetokenizer detok(*rt.tokenizer, /*skip_special_tokens=*/false);
  const auto start = std::chrono::steady_clock::now();
  auto first_token = start;
  int32_t generated = 0;
  auto finish = run_to_completion(*rt.engine, std::move(req), [&](const SampleResult& sample) {
    if (generated++ == 0) first_token = std::chrono::steady_clock::now();
    const std::string text = detok.push(sample.token);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  });
  const std::string tail = detok.flush();
  std::fwrite(tail.data(), 1, tail.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  const auto end = std::chrono::steady_clock::now();
  if (!finish.ok()) return report_error("generate", finish.error());
  if (!a.no_stats) {
    const double prefill = std::chrono::duration<double>(first_token - start).count();
    const double decode = std::chrono::duration<double>(end - first_token).count();
    std::fprintf(stderr,
                 "\n[%zu prompt tokens in %.2f s (%.1f tok/s); %d generated, %.1f tok/s; "
                 "finish: %s]\n",
                 prompt_tokens, prefill, static_cast<double>(prompt_tokens) / prefill, generated,
                 generated > 1 ? (generated - 1) / decode : 0.0, finish_reason_name(finish->reason));
  }
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("generate", "Stream a completion of a prompt to stdout");
  auto a = std::make_shared<GenerateArgs>();
  add_runtime_options(cmd, &a->runtime);
  cmd->add_option("-p,--prompt", a->prompt, "Prompt text")->required();
  cmd->add_option("-n,--max-tokens", a->max_tokens, "Tokens to generate")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  a->sampling.temperature = 0.7f;
  cmd->add_option("--temp", a->sampling.temperature, "Temperature (0 = greedy)")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--top-k", a->sampling.top_k, "Top-k (0 = off)")->capture_default_str();
  cmd->add_option("--top-p", a->sampling.top_p, "Top-p")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--min-p", a->sampling.min_p, "Min-p")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--repeat-penalty", a->sampling.repetition_penalty, "Repetition penalty (1 = off)")
      ->check(CLI::Range(0.01, 100.0))
      ->capture_default_str();
  cmd->add_option("--presence-penalty", a->sampling.presence_penalty, "Presence penalty")
      ->check(CLI::Range(-2.0, 2.0))
      ->capture_default_str();
  cmd->add_option("--frequency-penalty", a->sampling.frequency_penalty, "Frequency penalty")
      ->check(CLI::Range(-2.0, 2.0))
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "Sampling seed (default: random)");
  cmd->add_flag("--ignore-eos", a->ignore_eos, "Generate all tokens even past end-of-sequence");
  cmd->add_flag("--no-stats", a->no_stats, "Do not print timing to stderr");
  cmd->callback([a, exit_code] { *exit_code = run_generate(*a); });
}

}  // namespace agentserve::cli
