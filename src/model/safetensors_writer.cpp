#include "model/safetensors_writer.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace agentserve {

int64_t TensorToWrite::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Status write_safetensors(const std::string& path, const std::vector<const TensorToWrite*>& tensors,
                         const std::function<void(uint64_t)>& on_bytes) {
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const TensorToWrite* t : tensors) {
    header[t->name] = {{"dtype", dtype_safetensors_name(t->dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->num_bytes()}}};
    offset += t->num_bytes();
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text.push_back(' ');  // data starts 8-byte aligned

  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) return make_error(ErrorKind::kIo, path + ": cannot create: " + std::strerror(errno));
  const uint64_t header_len = text.size();
  bool ok = std::fwrite(&header_len, 8, 1, f.get()) == 1 &&
            std::fwrite(text.data(), 1, text.size(), f.get()) == text.size();
  constexpr int64_t kChunkBytes = 64 << 20;
  std::vector<uint8_t> buffer;
  uint64_t written = 0;
  for (const TensorToWrite* t : tensors) {
    const int64_t elem = static_cast<int64_t>(dtype_size(t->dtype));
    const int64_t total = t->num_elements();
    const int64_t chunk = std::max<int64_t>(1, kChunkBytes / elem);
    for (int64_t first = 0; ok && first < total; first += chunk) {
      const int64_t count = std::min(chunk, total - first);
      buffer.resize(static_cast<size_t>(count * elem));
      t->fill(first, count, buffer.data());
      ok = std::fwrite(buffer.data(), 1, buffer.size(), f.get()) == buffer.size();
      written += buffer.size();
      if (on_bytes) on_bytes(written);
    }
  }
  if (!ok || std::fflush(f.get()) != 0)
    return make_error(ErrorKind::kIo, path + ": write failed: " + std::strerror(errno));
  return {};
}

}  // namespace agentserve
