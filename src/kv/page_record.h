// A KV page outside the pool, as the RAM and disk tiers keep it: its key and everything needed
// to verify and re-link it into the radix tree (kv/radix_cache.h), plus the page's bytes as
// Backend::export_page writes them.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "kv/chain_hash.h"

namespace agentserve {

struct PageRecord {
  Hash128 chain;                 // chain_hash(parent, tokens): the key
  Hash128 parent;                // the previous page's chain (the root hash for depth 0)
  int32_t depth = 0;             // page index within the prefix
  std::vector<int32_t> tokens;   // page_size token ids
  std::vector<uint8_t> bytes;    // KvGeometry::page_bytes() of KV
};

// Shared between the engine thread and the disk writer without copying the bytes.
using PageRecordPtr = std::shared_ptr<const PageRecord>;

}  // namespace agentserve
