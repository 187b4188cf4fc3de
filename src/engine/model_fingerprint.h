// The identity of the KV a model computes, which seeds every prefix-cache chain hash
// (kv/chain_hash.h) and names the disk tier's directory: pages of one model must never be
// served to another. It hashes config.json's bytes, every safetensors header (names, dtypes,
// shapes, offsets), a sample of every shard's weights (the first and last 64 KiB of its data,
// and its size: test models of one shape differ only in weights), the KV dtype and the page
// size. Sampling keeps startup fast on 100 GB models; two checkpoints that agree on config,
// headers and both ends of every shard but differ in between (a fine-tune saved with the same
// layout changes every tensor, so its ends differ) are the accepted blind spot.
#pragma once

#include <cstdint>

#include "base/error.h"
#include "kv/chain_hash.h"
#include "model/weights.h"
#include "tensor/dtype.h"

namespace agentserve {

Result<Hash128> compute_model_fingerprint(const LoadedModel& model, DType kv_dtype, int32_t page_size);

}  // namespace agentserve
