#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include <cstring>

#include "backend/cpu/kernels/amx_tiles.h"
#include "backend/cpu/kernels/instruction_peak_internal.h"

namespace agentserve::cpu::detail {
// Four independent accumulator tiles (C0..C3 += A{4,5} · B{6,7}): the 2 x 2 block the GEMM
// kernel uses, so this is the rate it could reach with operands already in tiles.
float peak_amx_bf16(int64_t iterations) {
  configure_amx_tiles_16x64();
  alignas(64) uint16_t operand[512];
  for (auto& v : operand) v = 0x3a80;  // 2^-10
  alignas(64) float c[256];
  _tile_loadd(4, operand, 64);
  _tile_loadd(5, operand, 64);
  _tile_loadd(6, operand, 64);
  _tile_loadd(7, operand, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t it = 0; it < iterations; ++it) {
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  _tile_stored(0, c, 64);
  float s = c[0];
  _tile_stored(3, c, 64);
  s += c[255];
  _tile_release();
  return s;
}

}  // namespace agentserve::cpu::detail
