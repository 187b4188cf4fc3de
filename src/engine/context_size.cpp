#include "engine/context_size.h"

#include <algorithm>
#include <cstdio>

namespace agentserve {
namespace {

// The budget named by the rule that set it: "25% of the RAM the weights leave (1.8 GiB)".
std::string budget_text(int64_t budget, bool capped) {
  char buf[96];
  const double gib = static_cast<double>(budget) / (1ll << 30);
  if (capped) {
    std::snprintf(buf, sizeof(buf), "the default's cap of %.0f GiB", gib);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f%% of the RAM the weights leave (%.1f GiB)",
                  kDefaultKvRamShare * 100, gib);
  }
  return buf;
}

}  // namespace

ContextSize choose_context_size(const ContextSizeInputs& in) {
  if (in.requested > 0) return {in.requested, "--ctx"};  // the pool rounds up to whole pages
  const int64_t model_max = in.model_max > 0 ? in.model_max : kMinDefaultContext;
  if (in.ram_bytes <= 0 || in.kv_bytes_per_token <= 0) return {model_max, "the model's maximum"};
  const int64_t left = std::max<int64_t>(in.ram_bytes - in.weight_bytes, 0);
  const auto share = static_cast<int64_t>(static_cast<double>(left) * kDefaultKvRamShare);
  const int64_t budget = std::min(share, kDefaultKvMaxBytes);
  const int64_t fits = budget / in.kv_bytes_per_token;
  if (fits >= model_max) return {model_max, "the model's maximum"};
  const std::string why = budget_text(budget, share > kDefaultKvMaxBytes);
  const int64_t least = std::min(model_max, kMinDefaultContext);
  if (fits < least)
    return {least, "the smallest default: " + why + " holds only " + std::to_string(fits) +
                       " tokens of KV"};
  const int64_t page = std::max<int32_t>(in.page_size, 1);
  return {std::max(fits / page * page, page), "what " + why + " holds; the model allows " +
                                                  std::to_string(model_max) + ", --ctx raises it"};
}

RamTierSize choose_ram_tier_size(int64_t ram_bytes, int64_t weight_bytes, int64_t pool_bytes) {
  if (ram_bytes <= 0) return {};
  const int64_t quarter = std::min(
      static_cast<int64_t>(static_cast<double>(ram_bytes) * kDefaultRamTierShare), kDefaultRamTierMaxBytes);
  const int64_t room = static_cast<int64_t>(static_cast<double>(ram_bytes) * kDefaultMemoryShare) -
                       weight_bytes - pool_bytes;
  if (room >= quarter) return {quarter, ""};
  char buf[200];
  std::snprintf(buf, sizeof(buf),
                "weights (%.1f GiB), KV pool (%.1f GiB) and RAM tier kept within %.0f%% of RAM (%.1f GiB)",
                static_cast<double>(weight_bytes) / (1ll << 30), static_cast<double>(pool_bytes) / (1ll << 30),
                kDefaultMemoryShare * 100, static_cast<double>(ram_bytes) / (1ll << 30));
  return {std::max<int64_t>(room, 0), buf};
}

}  // namespace agentserve
