// Writing safetensors files, streamed: tensor bytes are produced chunk by chunk by a callback,
// so multi-gigabyte models never sit in memory. Used by make-test-model.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/error.h"
#include "tensor/dtype.h"

namespace agentserve {

struct TensorToWrite {
  std::string name;
  DType dtype = DType::kBF16;
  std::vector<int64_t> shape;
  // Fills elements [first, first + count) of the tensor (row-major) into `out`.
  std::function<void(int64_t first, int64_t count, void* out)> fill;

  int64_t num_elements() const;
  uint64_t num_bytes() const { return static_cast<uint64_t>(num_elements()) * dtype_size(dtype); }
};

// Writes one file: header (tensors in the given order, 8-byte aligned, "__metadata__" first),
// then the data. `on_bytes` is called with the bytes written so far (for progress).
Status write_safetensors(const std::string& path, const std::vector<const TensorToWrite*>& tensors,
                         const std::function<void(uint64_t)>& on_bytes);

}  // namespace agentserve
