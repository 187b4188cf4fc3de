// The key of a cached KV page: a hash chain over token ids. A page's chain hash is
// hash(parent page's chain hash, the page's page_size token ids), and the first page's parent
// is the model fingerprint, so the key names the whole prefix up to the end of that page and
// the model (and KV layout) that computed it. The RAM and disk tiers will index pages by it,
// across restarts, so the function is frozen: changing it (or the token packing) must change
// kChainHashVersion, which feeds the fingerprint and so invalidates every stored page.
//
// 128 bits, not 64: the disk tier keeps pages across restarts and models, and may hold
// hundreds of millions of them over its life; at 1e8 keys a 64-bit hash collides with
// probability ~3e-4, which for KV means silently wrong attention. At 128 bits accidental
// collisions are out of reach. The hash is not cryptographic: whoever maps a key to bytes
// must still compare the tokens (the in-memory tree does; tier files will store them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace agentserve {

inline constexpr uint64_t kChainHashVersion = 1;

struct Hash128 {
  uint64_t lo = 0;
  uint64_t hi = 0;
  friend bool operator==(const Hash128&, const Hash128&) = default;
};

// hash(parent, tokens): two 64-bit multiply-fold lanes over the tokens packed two per word
// (wyhash-style), each finished by a murmur3 avalanche. ~1 ns per token.
Hash128 chain_hash(const Hash128& parent, std::span<const int32_t> tokens);

// The root of every chain: mixes a model identity (e.g. a hash of its weights and config, the
// KV dtype and page size) with kChainHashVersion.
Hash128 chain_root(const Hash128& model_fingerprint);

// A 128-bit hash of bytes, continuing from `seed` (same mixing as chain_hash, 8 bytes a word).
// For identities built from files (the model fingerprint); not cryptographic.
Hash128 hash_bytes(const Hash128& seed, const void* data, size_t size);

}  // namespace agentserve
