#include "backend/cpu/kernels/simd_avx512.h"  // first: see its note on GCC warnings

#include <cstring>

#include "backend/cpu/kernels/instruction_peak_internal.h"

namespace agentserve::cpu::detail {
namespace {

struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

}  // namespace

// Four independent accumulator tiles (C0..C3 += A{4,5} · B{6,7}): the 2 x 2 block the GEMM
// kernel uses, so this is the rate it could reach with operands already in tiles.
float peak_amx_bf16(int64_t iterations) {
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof(cfg));
  cfg.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
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
