// Weights are views of any float dtype: a model stored as f32 or f16 (converted exactly from
// the bf16 test model) must produce the logits of the bf16 original.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "backend/cpu/cpu_backend.h"
#include "kv/page_pool.h"
#include "model/safetensors.h"
#include "model/safetensors_writer.h"
#include "model/test_model.h"
#include "model/weights.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;

// Copies the model directory with every tensor converted to `dtype`.
void convert_model(const std::string& from, const std::string& to, DType dtype) {
  fs::create_directories(to);
  for (const char* f : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(fs::path(from) / f, fs::path(to) / f, fs::copy_options::overwrite_existing);
  auto src = SafetensorsFile::open((fs::path(from) / "model.safetensors").string());
  ASSERT_TRUE(src.ok());
  std::vector<TensorToWrite> tensors;
  for (const auto& [name, entry] : src->tensors()) {
    TensorToWrite t;
    t.name = name;
    t.dtype = dtype;
    for (int i = 0; i < entry.view.rank; ++i) t.shape.push_back(entry.view.dim(i));
    const uint16_t* bf16 = entry.view.as<uint16_t>();
    t.fill = [bf16, dtype](int64_t first, int64_t count, void* out) {
      for (int64_t i = 0; i < count; ++i) {
        const float v = bf16_to_f32(bf16[first + i]);
        if (dtype == DType::kF32) static_cast<float*>(out)[i] = v;
        else static_cast<uint16_t*>(out)[i] = f32_to_f16(v);
      }
    };
    tensors.push_back(std::move(t));
  }
  std::vector<const TensorToWrite*> ptrs;
  for (const auto& t : tensors) ptrs.push_back(&t);
  ASSERT_TRUE(write_safetensors((fs::path(to) / "model.safetensors").string(), ptrs, nullptr).ok());
}

std::vector<float> prompt_logits(const std::string& dir, const std::vector<int32_t>& ids) {
  auto model = load_model(dir);
  EXPECT_TRUE(model.ok()) << model.error().to_string();
  CpuBackendOptions options;
  options.kv_dtype = DType::kF32;
  options.prefill_precision = cpu::MatmulPrecision::kF32;
  options.kv_cache_tokens = 256;
  auto backend = CpuBackend::create(**model, options);
  EXPECT_TRUE(backend.ok());
  PagePool pool((*backend)->kv_geometry().num_pages);
  std::vector<int32_t> pages;
  EXPECT_TRUE(pool.allocate(pool.num_pages(), &pages));
  Batch batch;
  batch.add_sequence(ids.data(), static_cast<int32_t>(ids.size()), static_cast<int32_t>(ids.size()),
                     pages, false);
  for (int32_t i = 0; i < batch.num_tokens(); ++i) batch.logit_rows.push_back(i);
  std::vector<float> logits;
  EXPECT_TRUE((*backend)->forward(batch, &logits).ok());
  return logits;
}

TEST(WeightDtypes, F32AndF16CopiesGiveTheBf16Logits) {
  const fs::path root = fs::temp_directory_path() / ("as_dtype_" + std::to_string(::getpid()));
  auto source = find_tokenizer_source("qwen3", "");
  ASSERT_TRUE(source.ok()) << source.error().to_string();
  for (const char* arch : {"qwen2", "qwen3", "llama"}) {
    SCOPED_TRACE(arch);
    const std::string bf16_dir = (root / arch / "bf16").string();
    ASSERT_TRUE(write_test_model(TestModelSpec{arch, "tiny", "qwen3", 5}, bf16_dir, *source, nullptr).ok());
    convert_model(bf16_dir, (root / arch / "f32").string(), DType::kF32);
    convert_model(bf16_dir, (root / arch / "f16").string(), DType::kF16);
    const std::vector<int32_t> ids = {785, 6722, 315, 9625, 374, 12095, 11, 323, 1181, 279, 25, 264};
    const auto ref = prompt_logits(bf16_dir, ids);
    for (const char* variant : {"f32", "f16"}) {
      const auto got = prompt_logits((root / arch / variant).string(), ids);
      ASSERT_EQ(got.size(), ref.size());
      double worst = 0, scale = 0;
      for (size_t i = 0; i < ref.size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::fabs(got[i] - ref[i])));
        scale = std::max(scale, static_cast<double>(std::fabs(ref[i])));
      }
      std::printf("  %s %s: max |logit - bf16 logit| = %.2e (logit scale %.2f)\n", arch, variant,
                  worst, scale);
      // f32 holds bf16 exactly; f16 holds these values exactly except the smallest ones.
      EXPECT_LE(worst, std::string(variant) == "f32" ? 1e-5 : 1e-4);
    }
  }
  fs::remove_all(root);
}

}  // namespace
}  // namespace agentserve
