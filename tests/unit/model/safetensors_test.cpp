#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/mmap_file.h"
#include "model/safetensors.h"
#include "model/safetensors_writer.h"
#include "tensor/dtype.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("as_st_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static TensorToWrite ramp(const std::string& name, DType dtype, std::vector<int64_t> shape) {
    TensorToWrite t;
    t.name = name;
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.fill = [dtype](int64_t first, int64_t count, void* out) {
      for (int64_t i = 0; i < count; ++i) {
        const float v = static_cast<float>(first + i) * 0.5f;
        if (dtype == DType::kF32) static_cast<float*>(out)[i] = v;
        else if (dtype == DType::kBF16) static_cast<uint16_t*>(out)[i] = f32_to_bf16(v);
        else static_cast<uint16_t*>(out)[i] = f32_to_f16(v);
      }
    };
    return t;
  }

  fs::path dir_;
};

TEST_F(SafetensorsTest, WriteThenReadAllDtypes) {
  auto a = ramp("a", DType::kBF16, {3, 5});
  auto b = ramp("b.weight", DType::kF32, {7});
  auto c = ramp("c", DType::kF16, {2, 2, 2});
  const std::string path = (dir_ / "model.safetensors").string();
  ASSERT_TRUE(write_safetensors(path, {&a, &b, &c}, nullptr).ok());
  auto file = SafetensorsFile::open(path);
  ASSERT_TRUE(file.ok()) << file.error().to_string();
  ASSERT_EQ(file->tensors().size(), 3u);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  const TensorView& va = file->tensors().at("a").view;
  EXPECT_EQ(va.dtype, DType::kBF16);
  EXPECT_EQ(va.shape_string(), "[3, 5]");
  EXPECT_EQ(bf16_to_f32(va.as<uint16_t>()[14]), 7.0f);
  EXPECT_EQ(file->tensors().at("b.weight").view.as<float>()[6], 3.0f);
  EXPECT_EQ(f16_to_f32(file->tensors().at("c").view.as<uint16_t>()[5]), 2.5f);
  // Data begins 8-byte aligned.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(va.data) % 8, 0u);
}

TEST_F(SafetensorsTest, TruncatedFileIsAFormatErrorNamingTheTensor) {
  auto a = ramp("big", DType::kF32, {1000});
  const std::string path = (dir_ / "model.safetensors").string();
  ASSERT_TRUE(write_safetensors(path, {&a}, nullptr).ok());
  fs::resize_file(path, fs::file_size(path) - 100);
  auto file = SafetensorsFile::open(path);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().kind, ErrorKind::kFormat);
  EXPECT_NE(file.error().message.find(path), std::string::npos);
  EXPECT_NE(file.error().message.find("'big'"), std::string::npos);
  EXPECT_NE(file.error().message.find("truncated"), std::string::npos);

  fs::resize_file(path, 5);
  auto tiny = SafetensorsFile::open(path);
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.error().message.find("truncated"), std::string::npos);
}

TEST_F(SafetensorsTest, RejectsBadHeaders) {
  auto write_raw = [&](const std::string& header, size_t data_bytes) {
    const std::string path = (dir_ / "x.safetensors").string();
    std::ofstream out(path, std::ios::binary);
    uint64_t n = header.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << header << std::string(data_bytes, '\0');
    return path;
  };
  struct Case {
    std::string header;
    size_t data;
    std::string expect;
  };
  const Case cases[] = {
      {"not json", 0, "not a JSON object"},
      {R"({"t": {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}})", 8, "F64"},
      {R"({"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8, "needs 12 bytes"},
      {R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8, "hole"},
      {R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8, "cover"},
      {R"({"t": {"dtype": "F32", "shape": [1]}})", 4, "lacks"},
  };
  for (const Case& c : cases) {
    auto f = SafetensorsFile::open(write_raw(c.header, c.data));
    ASSERT_FALSE(f.ok()) << c.header;
    EXPECT_NE(f.error().message.find(c.expect), std::string::npos)
        << c.header << " -> " << f.error().message;
  }
}

TEST_F(SafetensorsTest, ShardedDirectoryAndMissingShard) {
  auto a = ramp("a", DType::kBF16, {4});
  auto b = ramp("b", DType::kBF16, {4});
  ASSERT_TRUE(write_safetensors((dir_ / "model-00001-of-00002.safetensors").string(), {&a}, nullptr).ok());
  ASSERT_TRUE(write_safetensors((dir_ / "model-00002-of-00002.safetensors").string(), {&b}, nullptr).ok());
  ASSERT_TRUE(write_file_atomic((dir_ / "model.safetensors.index.json").string(),
                                R"({"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                                    "b": "model-00002-of-00002.safetensors"}})").ok());
  auto store = TensorStore::open_model_dir(dir_.string());
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  ASSERT_NE((*store)->find("a"), nullptr);
  ASSERT_NE((*store)->find("b"), nullptr);
  EXPECT_EQ((*store)->total_bytes(), 16u);

  fs::remove(dir_ / "model-00002-of-00002.safetensors");
  auto broken = TensorStore::open_model_dir(dir_.string());
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(broken.error().message.find("model-00002-of-00002.safetensors"), std::string::npos);

  fs::remove_all(dir_);
  fs::create_directories(dir_);
  auto empty = TensorStore::open_model_dir(dir_.string());
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("model.safetensors"), std::string::npos);
}

}  // namespace
}  // namespace agentserve
