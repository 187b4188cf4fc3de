#include "model/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

namespace agentserve {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

Error format_error(const std::string& path, const std::string& message) {
  return make_error(ErrorKind::kFormat, path + ": " + message);
}

}  // namespace

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  SafetensorsFile out;
  AS_ASSIGN_OR_RETURN(out.file_, MappedFile::open(path));
  const size_t size = out.file_.size();
  if (size < 8)
    return format_error(path, "truncated: " + std::to_string(size) +
                                  " bytes, expected at least the 8-byte header length");
  uint64_t header_len = 0;
  std::memcpy(&header_len, out.file_.data(), 8);
  if (header_len > size - 8 || header_len > (100ull << 20))
    return format_error(path, "header length " + std::to_string(header_len) +
                                  " does not fit the file of " + std::to_string(size) +
                                  " bytes (truncated or not a safetensors file)");
  const char* header = reinterpret_cast<const char*>(out.file_.data() + 8);
  json j = json::parse(header, header + header_len, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return format_error(path, "header is not a JSON object");
  const uint8_t* data = out.file_.data() + 8 + header_len;
  const size_t data_size = size - 8 - header_len;

  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      if (it->is_object())
        for (auto m = it->begin(); m != it->end(); ++m)
          if (m->is_string()) out.metadata_[m.key()] = m->get<std::string>();
      continue;
    }
    const json& t = *it;
    if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") ||
        !t.contains("data_offsets"))
      return format_error(path, "tensor '" + name + "' lacks dtype, shape or data_offsets");
    SafetensorsEntry entry;
    entry.file = path;
    TensorView& v = entry.view;
    const std::string dtype = t["dtype"].is_string() ? t["dtype"].get<std::string>() : "?";
    if (!dtype_from_safetensors(dtype, &v.dtype))
      return make_error(ErrorKind::kUnsupported,
                        path + ": tensor '" + name + "' has dtype " + dtype +
                            ", expected one of BF16, F16, F32, I32, I64, U8");
    const json& shape = t["shape"];
    if (!shape.is_array() || shape.size() > TensorView::kMaxRank)
      return format_error(path, "tensor '" + name + "' has a bad shape " + shape.dump());
    v.rank = static_cast<int>(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) {
      if (!shape[i].is_number_unsigned())
        return format_error(path, "tensor '" + name + "' has a bad shape " + shape.dump());
      v.shape[i] = shape[i].get<int64_t>();
    }
    const json& off = t["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
      return format_error(path, "tensor '" + name + "' has bad data_offsets " + off.dump());
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data_size)
      return format_error(path, "tensor '" + name + "' spans bytes [" + std::to_string(begin) +
                                    ", " + std::to_string(end) + ") but the data section has " +
                                    std::to_string(data_size) + " bytes (truncated file?)");
    const uint64_t expected = static_cast<uint64_t>(v.num_elements()) * dtype_size(v.dtype);
    if (end - begin != expected)
      return format_error(path, "tensor '" + name + "' of shape " + v.shape_string() + " " +
                                    dtype + " needs " + std::to_string(expected) +
                                    " bytes, found " + std::to_string(end - begin));
    v.data = data + begin;
    v.num_bytes = end - begin;
    spans.push_back({begin, end, name});
    out.tensors_.emplace(name, std::move(entry));
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  uint64_t expected_begin = 0;
  for (const Span& s : spans) {
    if (s.begin != expected_begin)
      return format_error(path, "tensor '" + s.name + "' starts at byte " +
                                    std::to_string(s.begin) + ", expected " +
                                    std::to_string(expected_begin) + " (overlap or hole)");
    expected_begin = s.end;
  }
  if (expected_begin != data_size)
    return format_error(path, "data section has " + std::to_string(data_size) +
                                  " bytes but tensors cover " + std::to_string(expected_begin));
  return out;
}

Result<std::unique_ptr<TensorStore>> TensorStore::open_model_dir(const std::string& dir) {
  auto store = std::make_unique<TensorStore>();
  const fs::path root(dir);
  const fs::path single = root / "model.safetensors";
  const fs::path index_path = root / "model.safetensors.index.json";
  std::vector<std::string> shard_names;
  std::map<std::string, std::string> weight_map;  // tensor -> shard file name
  if (fs::exists(index_path)) {
    AS_ASSIGN_OR_RETURN(std::string text, read_file(index_path.string()));
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("weight_map") ||
        !j["weight_map"].is_object())
      return format_error(index_path.string(), "expected a JSON object with a \"weight_map\"");
    std::set<std::string> unique;
    for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
      if (!it->is_string())
        return format_error(index_path.string(), "weight_map entry '" + it.key() + "' is not a file name");
      const std::string file = it->get<std::string>();
      if (file.find('/') != std::string::npos || file.find("..") != std::string::npos)
        return format_error(index_path.string(), "weight_map names a path outside the model directory: " + file);
      weight_map[it.key()] = file;
      if (unique.insert(file).second) shard_names.push_back(file);
    }
  } else if (fs::exists(single)) {
    shard_names.push_back("model.safetensors");
  } else {
    return make_error(ErrorKind::kNotFound,
                      dir + ": no model.safetensors or model.safetensors.index.json (expected "
                            "Hugging Face safetensors weights)");
  }
  for (const std::string& name : shard_names) {
    const std::string path = (root / name).string();
    if (!fs::exists(path))
      return make_error(ErrorKind::kNotFound,
                        path + ": missing shard (named in model.safetensors.index.json)");
    AS_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::open(path));
    store->files_.push_back(std::make_unique<SafetensorsFile>(std::move(file)));
  }
  for (const auto& file : store->files_) {
    for (const auto& [name, entry] : file->tensors()) {
      if (!store->index_.emplace(name, &entry).second)
        return format_error(entry.file, "tensor '" + name + "' appears in more than one shard");
    }
  }
  for (const auto& [tensor, file] : weight_map) {
    auto it = store->index_.find(tensor);
    if (it == store->index_.end())
      return format_error((root / file).string(), "missing tensor '" + tensor +
                                                      "' (model.safetensors.index.json puts it here)");
    if (fs::path(it->second->file).filename() != file)
      return format_error(index_path.string(), "tensor '" + tensor + "' is listed in " + file +
                                                   " but found in " + it->second->file);
  }
  return store;
}

const SafetensorsEntry* TensorStore::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

size_t TensorStore::total_bytes() const {
  size_t n = 0;
  for (const auto& [name, entry] : index_) n += entry->view.num_bytes;
  return n;
}

}  // namespace agentserve
