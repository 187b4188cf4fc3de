// What the engine tests that run a real tiny model share: writing and loading the model, a
// backend with exact numerics, and one greedy request driven to the end.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "engine/engine.h"
#include "model/test_model.h"
#include "model/weights.h"

namespace agentserve::test {

// The tiny Qwen3 test model with `seed`, written into `dir` and loaded; nullptr (with a test
// failure) when that fails.
inline std::unique_ptr<LoadedModel> make_tiny_qwen3(const std::string& dir, uint64_t seed) {
  auto source = find_tokenizer_source("qwen3", "");
  if (!source.ok()) {
    ADD_FAILURE() << source.error().to_string();
    return nullptr;
  }
  if (Status st = write_test_model(TestModelSpec{"qwen3", "tiny", "qwen3", seed}, dir, *source, nullptr);
      !st.ok()) {
    ADD_FAILURE() << st.error().to_string();
    return nullptr;
  }
  auto model = load_model(dir);
  if (!model.ok()) {
    ADD_FAILURE() << model.error().to_string();
    return nullptr;
  }
  return std::move(*model);
}

// f32 KV and f32 prefill: pages computed in a decode step and reused as prompt differ from a
// fresh prefill only by summation order, far below any greedy margin, so cached and recomputed
// runs give the same greedy tokens.
inline std::unique_ptr<CpuBackend> exact_backend(const LoadedModel& model, int64_t kv_tokens) {
  CpuBackendOptions o;
  o.kv_cache_tokens = kv_tokens;
  o.kv_dtype = DType::kF32;
  o.prefill_precision = cpu::MatmulPrecision::kF32;
  auto b = CpuBackend::create(model, o);
  EXPECT_TRUE(b.ok());
  return b.ok() ? std::move(*b) : nullptr;
}

struct GreedyRun {
  std::vector<int32_t> tokens;
  Usage usage;
};

// fixed_length_greedy_request, stepped until the engine idles.
inline GreedyRun run_greedy(Engine& engine, const std::vector<int32_t>& prompt, int32_t n) {
  GenerationRequest r = fixed_length_greedy_request(prompt, n);
  auto events = r.events;
  engine.submit(std::move(r));
  engine.run_until_idle();
  GreedyRun out;
  while (auto e = events->try_pop()) {
    if (e->kind == EngineEvent::Kind::kToken) out.tokens.push_back(e->sample.token);
    else out.usage = e->usage;
  }
  EXPECT_EQ(static_cast<int32_t>(out.tokens.size()), n);
  return out;
}

}  // namespace agentserve::test
