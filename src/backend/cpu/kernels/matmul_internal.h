// Private to the matmul family: the seam between the dispatcher (matmul.cpp, baseline ISA,
// owns threads and scratch) and the per-ISA kernels (matmul_<isa>.cpp). The ISA files see only
// raw pointers and ranges, never std:: containers or the thread pool, so that no template
// instantiated with AVX-512 flags can leak into baseline code through the linker.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace agentserve::cpu::detail {

struct MatmulProblem {
  const float* x = nullptr;  // [m, k] f32 row-major (for the f32 GEMM possibly a rounded copy)
  int64_t m = 0, k = 0, n = 0;
  const void* w = nullptr;  // [n, k] row-major, w_dtype
  DType w_dtype = DType::kBF16;
  const float* bias = nullptr;  // [n] or null
  float* y = nullptr;           // [m, n]
};

// bf16 activations packed once per call, shared read-only by every thread.
struct PackedActivations {
  const uint16_t* hi = nullptr;  // bf16(x)
  const uint16_t* lo = nullptr;  // bf16(x - hi); null unless kBf16Split
  int64_t k_padded = 0;          // row length in bf16 elements (zero-padded past k)
};

// --- Activation packing to bf16 (RNE; lo = bf16(x - hi) when lo != null), AVX-512. ---
// Rows layout: [rows, k_padded], zero-padded past k.
void pack_x_rows_avx512(const float* x, int64_t k, int64_t k_padded, int64_t row_begin,
                        int64_t row_end, uint16_t* hi, uint16_t* lo);
// AMX tile layout (see gemm_bf16_amx below) for tile rows [tile_begin, tile_end).
void pack_x_tiles_avx512(const float* x, int64_t m, int64_t k, int64_t k_padded, int64_t tile_begin,
                         int64_t tile_end, uint16_t* hi, uint16_t* lo);

// --- GEMV: m <= kGemvMaxRows, output columns [n_begin, n_end). ---
// Scratch: gemv_scratch_bytes(m, k) bytes, 64-byte aligned.
inline size_t gemv_scratch_bytes(int64_t m, int64_t k) {
  return static_cast<size_t>(m) * static_cast<size_t>((k + 31) / 32 * 32) * sizeof(float) + 64;
}
void gemv_avx512(const MatmulProblem& p, int64_t n_begin, int64_t n_end, void* scratch);
void gemv_avx2(const MatmulProblem& p, int64_t n_begin, int64_t n_end, void* scratch);

// --- f32 GEMM (W widened exactly): block [m_begin, m_end) x [n_begin, n_end). ---
// n_begin must be a multiple of the kernel's panel width (gemm_panel_width).
size_t gemm_f32_avx512_scratch_bytes();
void gemm_f32_avx512(const MatmulProblem& p, int64_t m_begin, int64_t m_end, int64_t n_begin,
                     int64_t n_end, void* scratch);
size_t gemm_f32_avx2_scratch_bytes();
void gemm_f32_avx2(const MatmulProblem& p, int64_t m_begin, int64_t m_end, int64_t n_begin,
                   int64_t n_end, void* scratch);

// --- bf16 GEMM with vdpbf16ps; activations as bf16 rows [m, k_padded], k_padded even. ---
size_t gemm_bf16_avx512bf16_scratch_bytes();
void gemm_bf16_avx512bf16(const MatmulProblem& p, const PackedActivations& xa, int64_t m_begin,
                          int64_t m_end, int64_t n_begin, int64_t n_end, void* scratch);

// --- bf16 GEMM with AMX tiles; activations packed in 16x32 tiles:
//     tile (mt, kb) at element offset (mt * k_padded / 32 + kb) * 512, row r = x[mt*16 + r,
//     kb*32 .. kb*32+31]; k_padded a multiple of 32, rows past m zero. m_begin multiple of 16.
size_t gemm_bf16_amx_scratch_bytes(int64_t k_padded);
void gemm_bf16_amx(const MatmulProblem& p, const PackedActivations& xa, int64_t m_begin,
                   int64_t m_end, int64_t n_begin, int64_t n_end, void* scratch);

}  // namespace agentserve::cpu::detail
