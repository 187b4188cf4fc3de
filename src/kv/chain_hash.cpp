#include "kv/chain_hash.h"

#include <cstring>

namespace agentserve {
namespace {

inline uint64_t fold_mul(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t avalanche(uint64_t x) {  // murmur3 fmix64
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

constexpr uint64_t kA0 = 0xa0761d6478bd642full, kA1 = 0xe7037ed1a0b428dbull;
constexpr uint64_t kB0 = 0x8ebc6af09c88c6e3ull, kB1 = 0x589965cc75374cc3ull;

}  // namespace

Hash128 chain_hash(const Hash128& parent, std::span<const int32_t> tokens) {
  uint64_t a = parent.lo ^ kA0;
  uint64_t b = parent.hi ^ kB0;
  size_t i = 0;
  for (; i + 2 <= tokens.size(); i += 2) {
    const uint64_t w = static_cast<uint32_t>(tokens[i]) |
                       (static_cast<uint64_t>(static_cast<uint32_t>(tokens[i + 1])) << 32);
    a = fold_mul(w ^ kA1, a ^ kA0) + b;
    b = fold_mul(rotl(w, 29) ^ kB1, b ^ kB0) + a;
  }
  if (i < tokens.size()) {
    const uint64_t w = static_cast<uint32_t>(tokens[i]) | (1ull << 63);  // odd tail marker
    a = fold_mul(w ^ kA1, a ^ kA0) + b;
    b = fold_mul(rotl(w, 29) ^ kB1, b ^ kB0) + a;
  }
  const uint64_t n = static_cast<uint64_t>(tokens.size());
  return {avalanche(a ^ rotl(b, 23) ^ (n * kA1)), avalanche(b + fold_mul(a ^ kB1, n ^ kB0))};
}

Hash128 chain_root(const Hash128& model_fingerprint) {
  return {avalanche(model_fingerprint.lo ^ (kChainHashVersion * kA0)),
          avalanche(model_fingerprint.hi + (kChainHashVersion * kB1) + rotl(model_fingerprint.lo, 31))};
}

Hash128 hash_bytes(const Hash128& seed, const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t a = seed.lo ^ kA0;
  uint64_t b = seed.hi ^ kB0;
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    a = fold_mul(w ^ kA1, a ^ kA0) + b;
    b = fold_mul(rotl(w, 29) ^ kB1, b ^ kB0) + a;
  }
  if (i < size) {
    uint64_t w = 0;
    std::memcpy(&w, p + i, size - i);
    w ^= 1ull << 63;  // tail marker (the length below also separates tails)
    a = fold_mul(w ^ kA1, a ^ kA0) + b;
    b = fold_mul(rotl(w, 29) ^ kB1, b ^ kB0) + a;
  }
  const uint64_t n = static_cast<uint64_t>(size);
  return {avalanche(a ^ rotl(b, 23) ^ (n * kA1)), avalanche(b + fold_mul(a ^ kB1, n ^ kB0))};
}

}  // namespace agentserve
