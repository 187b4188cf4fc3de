// Element types of weights, activations and KV pages. Quantized block types join this enum
// later (MLX affine int4/int8, GGUF q8_0 / K-quants) without changing the TensorView shape.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace agentserve {

enum class DType : uint8_t { kF32, kF16, kBF16, kI32, kI64, kU8 };

size_t dtype_size(DType dtype);           // bytes per element
const char* dtype_name(DType dtype);      // "bf16", ...
// safetensors spelling ("BF16", "F32", ...); false when the name is not one we load.
bool dtype_from_safetensors(std::string_view name, DType* out);
const char* dtype_safetensors_name(DType dtype);

// bf16 is the high half of an f32: widening is exact, narrowing rounds to nearest even
// (what PyTorch's .to(torch.bfloat16) does). NaN stays NaN.
inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

// IEEE half precision, exact widening and round-to-nearest-even narrowing, in portable code.
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

}  // namespace agentserve
