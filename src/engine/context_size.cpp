#include "engine/context_size.h"

#include <algorithm>
#include <cstdio>

namespace agentserve {
namespace {

std::string gib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f GiB", static_cast<double>(bytes) / (1ll << 30));
  return buf;
}

}  // namespace

ContextSize choose_context_size(const ContextSizeInputs& in) {
  const int64_t page = std::max<int32_t>(in.page_size, 1);
  auto round_down = [&](int64_t t) { return std::max<int64_t>(t / page * page, page); };
  if (in.requested > 0) return {in.requested, "--ctx"};  // the pool rounds up to whole pages
  const int64_t model_max = in.model_max > 0 ? in.model_max : kMinDefaultContext;
  if (in.ram_bytes <= 0 || in.kv_bytes_per_token <= 0)
    return {model_max, "the model's maximum"};
  const int64_t left = std::max<int64_t>(in.ram_bytes - in.weight_bytes, 0);
  const int64_t budget =
      std::min<int64_t>(static_cast<int64_t>(static_cast<double>(left) * kDefaultKvRamShare),
                        kDefaultKvMaxBytes);
  const int64_t fits = budget / in.kv_bytes_per_token;
  if (fits >= model_max) return {model_max, "the model's maximum"};
  const int64_t least = std::min(model_max, kMinDefaultContext);
  if (fits < least)
    return {least, "the smallest default: 25% of the RAM the weights leave (" + gib(budget) +
                                   ") holds only " + std::to_string(fits) + " tokens of KV"};
  return {round_down(fits), "what 25% of the RAM the weights leave (" + gib(budget) +
                                ") holds; the model allows " + std::to_string(model_max) +
                                ", --ctx raises it"};
}

}  // namespace agentserve
