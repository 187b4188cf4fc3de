// The one AMX tile configuration our kernels use: all eight tiles 16 rows x 64 bytes (16 x 32
// bf16, or 16 x 16 f32). Include only from files compiled with the AMX flags (*_amx.cpp).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace agentserve::cpu::detail {

struct alignas(64) AmxTileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

// Loads the configuration for the calling thread (it stays until _tile_release or another).
inline void configure_amx_tiles_16x64() {
  AmxTileConfig cfg;
  std::memset(&cfg, 0, sizeof(cfg));
  cfg.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
}

}  // namespace agentserve::cpu::detail
