// Rotary position embedding frequencies, computed the way Hugging Face transformers computes
// them (float32 throughout), so that golden logits agree to rounding.
#pragma once

#include <vector>

#include "model/config.h"

namespace agentserve {

// inv_freq[i] for i < head_dim / 2: angle(pos, i) = pos * inv_freq[i].
std::vector<float> rope_inv_freq(const RopeConfig& rope, int64_t head_dim);

}  // namespace agentserve
