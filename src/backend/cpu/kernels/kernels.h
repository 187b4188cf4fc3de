// The CPU compute kernels of the transformer forward pass. Each family has its own header
// with its contract; every optimised kernel has a `_reference` twin with the same signature
// (plain C++, double accumulation) that the tests in tests/unit/cpu compare it with on every
// CPU tier. Kernels dispatch at run time on active_cpu_tier() (base/cpu_features.h).
//
//   matmul.h       y = x · Wᵀ (+ bias): GEMV for decode, GEMM (f32 / bf16 / split bf16) for prefill
//   rms_norm.h     RMS norm (per token, or per head for q/k norm)
//   rope.h         rotary embedding, rotate_half pairing
//   attention.h    paged KV store + causal GQA attention over a mixed batch
//   elementwise.h  residual add, bias add, SiLU-gated product, embedding lookup, bf16 rounding
#pragma once

#include "backend/cpu/kernels/attention.h"
#include "backend/cpu/kernels/elementwise.h"
#include "backend/cpu/kernels/matmul.h"
#include "backend/cpu/kernels/rms_norm.h"
#include "backend/cpu/kernels/rope.h"
