// A weight or activation as a view: dtype, shape and bytes that someone else owns (an mmap of
// a safetensors file, a backend buffer). Kernels dispatch on dtype; quantized dtypes will carry
// their scales and biases in `quant` without changing the model definition.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor/dtype.h"

namespace agentserve {

struct QuantParams {
  // Reserved for block-quantized weights (MLX affine: scales/biases per group of `group_size`
  // along the input dimension; GGUF: blocks carry their own scales). Empty for float dtypes.
  const void* scales = nullptr;
  const void* biases = nullptr;
  int32_t group_size = 0;
  int32_t bits = 0;
};

struct TensorView {
  static constexpr int kMaxRank = 4;

  DType dtype = DType::kF32;
  int rank = 0;
  std::array<int64_t, kMaxRank> shape{};  // row-major, outermost first (PyTorch order)
  const void* data = nullptr;
  size_t num_bytes = 0;
  QuantParams quant;

  bool empty() const { return data == nullptr; }
  int64_t dim(int i) const { return shape[static_cast<size_t>(i)]; }
  int64_t num_elements() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= shape[static_cast<size_t>(i)];
    return n;
  }
  template <class T>
  const T* as() const { return static_cast<const T*>(data); }

  std::string shape_string() const;  // "[1024, 4096]"
};

}  // namespace agentserve
