#include "engine/model_fingerprint.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace agentserve {

Result<Hash128> compute_model_fingerprint(const LoadedModel& model, DType kv_dtype, int32_t page_size) {
  // "agentserve model" and a version of this recipe: changing what is hashed changes every key.
  constexpr uint64_t kRecipeVersion = 1;
  Hash128 h{0x6167656e74736572ull, 0x766d6f64656c0000ull | kRecipeVersion};
  const std::string config_path = model.dir + "/config.json";
  std::ifstream in(config_path, std::ios::binary);
  if (!in) return make_error(ErrorKind::kIo, config_path + ": cannot read (for the model fingerprint)");
  const std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  h = hash_bytes(h, config.data(), config.size());
  constexpr size_t kSample = 64 << 10;
  for (const auto& file : model.store->files()) {
    const MappedFile& m = file->mapped();
    uint64_t header_len = 0;
    if (m.size() >= 8) std::memcpy(&header_len, m.data(), 8);
    const size_t header_end = static_cast<size_t>(std::min<uint64_t>(m.size(), 8 + header_len));
    const uint64_t size = m.size();
    h = hash_bytes(h, &size, sizeof(size));
    h = hash_bytes(h, m.data(), header_end);
    const size_t data = m.size() - header_end;
    h = hash_bytes(h, m.data() + header_end, std::min(data, kSample));
    if (data > kSample) {
      const size_t tail = std::min(data - kSample, kSample);
      h = hash_bytes(h, m.data() + m.size() - tail, tail);
    }
  }
  const std::string dtype = dtype_name(kv_dtype);  // by name: enum values may be reordered
  h = hash_bytes(h, dtype.data(), dtype.size());
  const int64_t page = page_size;
  return hash_bytes(h, &page, sizeof(page));
}

}  // namespace agentserve
