// Reading safetensors files (one file, or shards listed in model.safetensors.index.json)
// through mmap: tensors are views into the page cache, never copied.
//
// Format: u64 little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}
// then the data; offsets are relative to the end of the header and must tile it without holes.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/mmap_file.h"
#include "tensor/tensor.h"

namespace agentserve {

struct SafetensorsEntry {
  TensorView view;
  std::string file;  // path of the file that holds it (for error messages)
};

class SafetensorsFile {
 public:
  static Result<SafetensorsFile> open(const std::string& path);

  const std::map<std::string, SafetensorsEntry>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const MappedFile& mapped() const { return file_; }

 private:
  MappedFile file_;
  std::map<std::string, SafetensorsEntry> tensors_;
  std::map<std::string, std::string> metadata_;
};

// All tensors of a model directory: model.safetensors, or the shards named by
// model.safetensors.index.json (every shard it names must exist and hold what it says).
class TensorStore {
 public:
  static Result<std::unique_ptr<TensorStore>> open_model_dir(const std::string& dir);

  const SafetensorsEntry* find(const std::string& name) const;
  const std::map<std::string, const SafetensorsEntry*>& all() const { return index_; }
  size_t total_bytes() const;
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const SafetensorsEntry*> index_;
};

}  // namespace agentserve
