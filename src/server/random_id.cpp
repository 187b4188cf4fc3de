#include "server/random_id.h"

#include <random>

namespace agentserve::server {

std::string random_id(std::string_view prefix, int length, IdAlphabet alphabet) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr std::string_view kBase62 =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  static constexpr std::string_view kHex = "0123456789abcdef";
  const std::string_view chars = alphabet == IdAlphabet::kHex ? kHex : kBase62;
  std::string id(prefix);
  id.reserve(prefix.size() + static_cast<size_t>(length));
  for (int i = 0; i < length; ++i) id += chars[rng() % chars.size()];
  return id;
}

}  // namespace agentserve::server
