// Read-only memory map of a whole file (model weights are served straight from the page cache).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/error.h"

namespace agentserve {

class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  ~MappedFile();

  static Result<MappedFile> open(const std::string& path);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Hint that [offset, offset+length) will be read soon (readahead; no effect on correctness).
  void will_need(size_t offset, size_t length) const;
  // Reads [offset, offset+length) into memory now (page-table populated), so that the first
  // forward pass does not stall on disk reads. Returns the bytes made resident.
  size_t populate(size_t offset, size_t length) const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Whole-file read for small files (config.json, tokenizer.json).
Result<std::string> read_file(const std::string& path);
// Writes through a temporary file and rename, so readers never see a half-written file.
Status write_file_atomic(const std::string& path, std::string_view contents);

}  // namespace agentserve
