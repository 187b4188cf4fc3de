// Private to the rms_norm family: per-ISA rows (see matmul_internal.h for why no std:: types).
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace agentserve::cpu::detail {

void rms_norm_rows_avx512(const float* x, int64_t row_begin, int64_t row_end, int64_t n,
                          const void* w, DType w_dtype, float eps, float* out);

}  // namespace agentserve::cpu::detail
