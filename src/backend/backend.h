// The interface every compute backend (CPU now, CUDA next) implements. A backend owns its
// device memory: the weights it computes with and the KV page pool. kv/ hands out page ids
// and never touches the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backend/batch.h"
#include "base/error.h"
#include "tensor/dtype.h"

namespace agentserve {

// Geometry of the KV page pool. One page holds `page_size` consecutive positions of one
// sequence for every layer, K and V: page_bytes = 2 * num_layers * num_kv_heads * page_size *
// head_dim * dtype_size(dtype). Where a backend keeps those bytes is its own choice (the CPU
// backend is layer-major, [layer][page][kv][head][slot][dim], so that attention streams one
// layer's K/V of consecutive pages as one range); export_page hands them out as one
// contiguous buffer laid out [layer][kv][head][slot][dim], which import_page takes back.
struct KvGeometry {
  int32_t page_size = 16;
  int32_t num_pages = 0;
  int32_t num_layers = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  DType dtype = DType::kBF16;

  size_t page_bytes() const {
    return 2ull * num_layers * num_kv_heads * page_size * head_dim * dtype_size(dtype);
  }
};

class Backend {
 public:
  virtual ~Backend() = default;

  virtual std::string name() const = 0;           // "cpu (avx512bf16, 2 threads)"
  virtual const KvGeometry& kv_geometry() const = 0;
  virtual int32_t vocab_size() const = 0;

  // Runs the model over `batch`: writes every token's K/V into its page, and fills `logits`
  // with [batch.logit_rows.size(), vocab_size()] f32 rows in logit_rows order.
  virtual Status forward(const Batch& batch, std::vector<float>* logits) = 0;

  // Page-level operations for copy-on-write of a shared partial page and the RAM/disk tiers.
  virtual void copy_page(int32_t src_page, int32_t dst_page) = 0;
  virtual void export_page(int32_t page, void* host_dst) const = 0;    // kv_geometry().page_bytes()
  virtual void import_page(int32_t page, const void* host_src) = 0;
};

}  // namespace agentserve
