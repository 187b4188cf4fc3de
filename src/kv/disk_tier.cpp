#include "kv/disk_tier.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "base/log.h"
#include "base/progress.h"
#include "base/thread_name.h"
#include "kv/crc32c.h"

namespace agentserve {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'A', 'S', 'K', 'V', 'P', 'A', 'G', 'E'};
constexpr size_t kFixedHeader = 80;
constexpr const char* kExtension = ".kvp";

std::string hex128(const Hash128& h) {
  // hi first: the name reads as one 128-bit number.
  return fmt::format("{:016x}{:016x}", h.hi, h.lo);
}

template <class T>
void put(std::vector<uint8_t>* out, size_t offset, T v) {
  std::memcpy(out->data() + offset, &v, sizeof(T));
}
template <class T>
T get(const std::vector<uint8_t>& in, size_t offset) {
  T v;
  std::memcpy(&v, in.data() + offset, sizeof(T));
  return v;
}

int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads a whole file (or its first `limit` bytes); false on any I/O error.
bool read_file(const std::string& path, size_t limit, std::vector<uint8_t>* out, int* fd_out = nullptr) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return false;
  }
  const size_t want = std::min(static_cast<size_t>(st.st_size), limit);
  out->resize(want);
  size_t got = 0;
  while (got < want) {
    const ssize_t n = ::pread(fd, out->data() + got, want - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out->resize(got);
  if (fd_out != nullptr) *fd_out = fd;
  else ::close(fd);
  return got == want;
}

bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

std::vector<uint8_t> encode_page_file(const PageRecord& r, const Hash128& fp, uint32_t version) {
  const size_t n = r.tokens.size();
  const size_t header = kFixedHeader + 4 * n + 4;
  std::vector<uint8_t> out(header + r.bytes.size() + 4, 0);
  std::memcpy(out.data(), kMagic, 8);
  put<uint32_t>(&out, 8, version);
  put<uint32_t>(&out, 12, static_cast<uint32_t>(header));
  put<uint64_t>(&out, 16, fp.lo);
  put<uint64_t>(&out, 24, fp.hi);
  put<uint64_t>(&out, 32, r.chain.lo);
  put<uint64_t>(&out, 40, r.chain.hi);
  put<uint64_t>(&out, 48, r.parent.lo);
  put<uint64_t>(&out, 56, r.parent.hi);
  put<int32_t>(&out, 64, r.depth);
  put<uint32_t>(&out, 68, static_cast<uint32_t>(n));
  put<uint64_t>(&out, 72, static_cast<uint64_t>(r.bytes.size()));
  std::memcpy(out.data() + kFixedHeader, r.tokens.data(), 4 * n);
  put<uint32_t>(&out, header - 4, crc32c(0, out.data(), header - 4));
  std::memcpy(out.data() + header, r.bytes.data(), r.bytes.size());
  put<uint32_t>(&out, header + r.bytes.size(), crc32c(0, out.data(), header + r.bytes.size()));
  return out;
}

DiskTier::DiskTier(DiskTierOptions options) : options_(std::move(options)) {
  dir_ = (fs::path(options_.root_dir) / hex128(options_.model_fingerprint)).string();
}

size_t DiskTier::file_bytes() const {
  return kFixedHeader + 4 * static_cast<size_t>(options_.page_size) + 4 + options_.page_bytes + 4;
}

std::string DiskTier::path_of(const Hash128& chain) const {
  const std::string name = hex128(chain);
  return dir_ + "/" + name.substr(0, 2) + "/" + name + kExtension;
}

Result<std::unique_ptr<DiskTier>> DiskTier::open(DiskTierOptions options) {
  std::unique_ptr<DiskTier> t(new DiskTier(std::move(options)));
  std::error_code ec;
  for (int b = 0; b < 256 && !ec; ++b) fs::create_directories(fmt::format("{}/{:02x}", t->dir_, b), ec);
  if (ec)
    return make_error(ErrorKind::kIo, "KV cache directory " + t->dir_ + ": " + ec.message());
  t->scan_other_models();
  AS_TRY(t->load_index());
  t->writer_ = std::thread([p = t.get()] {
    set_current_thread_name("as-kv-write");
    p->writer_loop();
  });
  return t;
}

DiskTier::~DiskTier() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

bool DiskTier::decode(const std::vector<uint8_t>& f, const Hash128& expected_chain, bool full,
                      PageRecord* out, std::string* why) const {
  const size_t n = static_cast<size_t>(options_.page_size);
  const size_t header = kFixedHeader + 4 * n + 4;
  auto fail = [&](const char* w) {
    *why = w;
    return false;
  };
  if (f.size() < header) return fail("shorter than a header (torn or truncated)");
  if (std::memcmp(f.data(), kMagic, 8) != 0) return fail("bad magic");
  if (get<uint32_t>(f, 8) != kDiskPageFormatVersion) return fail("another format version");
  if (get<uint32_t>(f, 12) != header || get<uint32_t>(f, 68) != n) return fail("another page size");
  if (get<uint32_t>(f, header - 4) != crc32c(0, f.data(), header - 4)) return fail("header checksum mismatch");
  const Hash128 fp{get<uint64_t>(f, 16), get<uint64_t>(f, 24)};
  if (fp != options_.model_fingerprint) return fail("another model's page");
  if (get<uint64_t>(f, 72) != options_.page_bytes) return fail("another page byte size");
  out->chain = {get<uint64_t>(f, 32), get<uint64_t>(f, 40)};
  out->parent = {get<uint64_t>(f, 48), get<uint64_t>(f, 56)};
  out->depth = get<int32_t>(f, 64);
  out->tokens.resize(n);
  std::memcpy(out->tokens.data(), f.data() + kFixedHeader, 4 * n);
  if (out->chain != expected_chain) return fail("its chain hash is not its file name");
  if (out->depth < 0 || chain_hash(out->parent, out->tokens) != out->chain)
    return fail("chain hash does not match parent and tokens");
  if (!full) return true;
  if (f.size() != file_bytes()) return fail("wrong size (torn or truncated)");
  const size_t end = header + options_.page_bytes;
  if (get<uint32_t>(f, end) != crc32c(0, f.data(), end)) return fail("payload checksum mismatch");
  out->bytes.assign(f.begin() + static_cast<std::ptrdiff_t>(header), f.begin() + static_cast<std::ptrdiff_t>(end));
  return true;
}

void DiskTier::drop_invalid(const Hash128& chain, const std::string& path, const std::string& why) {
  invalid_.fetch_add(1, std::memory_order_relaxed);
  AS_LOG_WARN("KV cache: ignoring and deleting {}: {}", path, why);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    index_erase(chain.lo);
  }
  ::unlink(path.c_str());
}

void DiskTier::index_erase(uint64_t key) {
  auto it = index_.find(key);
  if (it == index_.end()) return;
  lru_.erase(it->second);
  index_.erase(it);
  pages_.fetch_sub(1, std::memory_order_relaxed);
  bytes_.fetch_sub(static_cast<int64_t>(file_bytes()), std::memory_order_relaxed);
}

std::vector<std::string> DiskTier::index_add(const Hash128& chain, int64_t used_ns) {
  std::vector<std::string> doomed;
  if (used_ns == 0) used_ns = wall_clock_ns();
  if (auto it = index_.find(chain.lo); it != index_.end()) {
    it->second->used_ns = std::max(it->second->used_ns, used_ns);
    lru_.splice(lru_.begin(), lru_, it->second);
    return doomed;
  }
  // The startup scan adds oldest first; anything else is newer than all it holds.
  lru_.push_front({chain, used_ns});
  index_[chain.lo] = lru_.begin();
  pages_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(static_cast<int64_t>(file_bytes()), std::memory_order_relaxed);
  // Over the cap: the least recently used page of any model goes (see the header).
  while (num_bytes() + other_models_bytes() > options_.capacity_bytes &&
         (!lru_.empty() || !others_.empty())) {
    if (!others_.empty() && (lru_.empty() || others_.front().used_ns <= lru_.back().used_ns)) {
      doomed.push_back(std::move(others_.front().path));
      others_bytes_.fetch_sub(others_.front().bytes, std::memory_order_relaxed);
      others_.pop_front();
      continue;
    }
    const Hash128 victim = lru_.back().chain;
    doomed.push_back(path_of(victim));
    index_erase(victim.lo);
  }
  return doomed;
}

void DiskTier::scan_other_models() {
  // Siblings of this model's directory named like a fingerprint; their record files by name
  // (ours: 32 hex digits and the extension), nothing else touched.
  std::error_code ec;
  const fs::path own = fs::path(dir_).filename();
  int64_t total = 0;
  size_t models = 0;
  for (fs::directory_iterator m(options_.root_dir, ec), end; !ec && m != end; m.increment(ec)) {
    const std::string name = m->path().filename().string();
    if (name == own.string() || name.size() != 32 ||
        name.find_first_not_of("0123456789abcdef") != std::string::npos || !m->is_directory(ec))
      continue;
    const size_t before = others_.size();
    for (fs::recursive_directory_iterator f(m->path(), ec), fend; !ec && f != fend; f.increment(ec)) {
      const std::string file = f->path().filename().string();
      if (file.size() != 32 + std::strlen(kExtension) || !file.ends_with(kExtension)) continue;
      struct stat st {};
      if (::stat(f->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      others_.push_back({static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                         static_cast<int64_t>(st.st_size), f->path().string()});
      total += static_cast<int64_t>(st.st_size);
    }
    models += others_.size() > before ? 1 : 0;
    ec.clear();
  }
  std::sort(others_.begin(), others_.end(),
            [](const OtherFile& a, const OtherFile& b) { return a.used_ns < b.used_ns; });
  others_bytes_.store(total, std::memory_order_relaxed);
  if (models > 0)
    AS_LOG_INFO("KV cache: {:.2f} GiB of {} other model(s)' pages share the {:.2f} GiB disk cap "
                "(least recently used first, whichever model)",
                static_cast<double>(total) / (1 << 30), models,
                static_cast<double>(options_.capacity_bytes) / (1 << 30));
}

Status DiskTier::load_index() {
  struct Found {
    Hash128 chain;
    std::string path;
    int64_t mtime_ns;
  };
  std::vector<Found> found;
  uint64_t total = 0;
  size_t temp_files = 0;
  std::error_code ec;
  for (int b = 0; b < 256; ++b) {
    const std::string sub = fmt::format("{}/{:02x}", dir_, b);
    for (fs::directory_iterator it(sub, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string path = it->path().string();
      const std::string name = it->path().filename().string();
      if (name.find(".tmp.") != std::string::npos) {  // a writer killed mid-record
        ::unlink(path.c_str());
        ++temp_files;
        continue;
      }
      Hash128 chain{};
      if (name.size() != 32 + std::strlen(kExtension) || !name.ends_with(kExtension) ||
          std::sscanf(name.c_str(), "%16lx%16lx", &chain.hi, &chain.lo) != 2)
        continue;  // not ours: leave it alone
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) continue;
      total += static_cast<uint64_t>(st.st_size);
      found.push_back({chain, path, static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec});
    }
    if (ec) return make_error(ErrorKind::kIo, "KV cache directory " + sub + ": " + ec.message());
  }
  if (temp_files > 0)
    AS_LOG_INFO("KV cache: deleted {} unfinished record(s) of an interrupted writer", temp_files);
  // Oldest first, so that adding in order leaves the most recently used at the front.
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.mtime_ns < b.mtime_ns; });
  std::unique_ptr<Progress> progress;
  if (options_.progress && found.size() >= 2000)
    progress = std::make_unique<Progress>("loading the KV cache index", total);
  uint64_t done = 0;
  const size_t header_limit = kFixedHeader + 4 * static_cast<size_t>(options_.page_size) + 4;
  std::vector<uint8_t> buf;
  PageRecord rec;
  std::vector<std::string> doomed;
  for (const Found& f : found) {
    std::string why;
    struct stat st {};
    const bool sized = ::stat(f.path.c_str(), &st) == 0 && static_cast<size_t>(st.st_size) == file_bytes();
    if (!read_file(f.path, header_limit, &buf)) why = "unreadable";
    else if (!decode(buf, f.chain, false, &rec, &why)) {
    } else if (!sized) why = "wrong size (torn or truncated)";
    if (!why.empty()) {
      drop_invalid(f.chain, f.path, why);
    } else {
      std::lock_guard<std::mutex> lock(mutex_);
      for (std::string& p : index_add(f.chain, f.mtime_ns)) doomed.push_back(std::move(p));
    }
    done += static_cast<uint64_t>(st.st_size);
    if (progress) progress->update(done);
  }
  if (progress) progress->finish();
  for (const std::string& p : doomed) ::unlink(p.c_str());  // over a (lowered) capacity
  return Status::ok_status();
}

bool DiskTier::contains(const Hash128& chain) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = index_.find(chain.lo); it != index_.end()) return it->second->chain == chain;
  auto q = queued_.find(chain.lo);
  return q != queued_.end() && q->second->chain == chain;
}

bool DiskTier::enqueue(PageRecordPtr record) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (index_.count(record->chain.lo) != 0 || queued_.count(record->chain.lo) != 0) return false;
    const int64_t size = static_cast<int64_t>(record->bytes.size());
    if (queued_bytes_ + size > options_.max_queued_bytes) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queued_bytes_ += size;
    queued_[record->chain.lo] = record;
    queue_.push_back(std::move(record));
  }
  cv_.notify_one();
  return true;
}

PageRecordPtr DiskTier::read(const Hash128& chain) {
  lookups_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto q = queued_.find(chain.lo); q != queued_.end() && q->second->chain == chain) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return q->second;
    }
    auto it = index_.find(chain.lo);
    if (it == index_.end() || it->second->chain != chain) return nullptr;
  }
  const std::string path = path_of(chain);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<uint8_t> buf;
  int fd = -1;
  auto rec = std::make_shared<PageRecord>();
  std::string why;
  if (!read_file(path, file_bytes() + 1, &buf, &fd)) {
    if (fd >= 0) ::close(fd);
    std::lock_guard<std::mutex> lock(mutex_);
    index_erase(chain.lo);  // deleted under us (evicted, or by hand): a miss
    return nullptr;
  }
  if (!decode(buf, chain, true, rec.get(), &why)) {
    ::close(fd);
    drop_invalid(chain, path, why);
    return nullptr;
  }
  ::futimens(fd, nullptr);  // the LRU order a restart recovers
  ::close(fd);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (secs > 0) {
    const double bps = static_cast<double>(buf.size()) / secs;
    const double old = read_bps_.load(std::memory_order_relaxed);
    read_bps_.store(old == 0 ? bps : 0.8 * old + 0.2 * bps, std::memory_order_relaxed);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = index_.find(chain.lo); it != index_.end()) {
      it->second->used_ns = wall_clock_ns();
      lru_.splice(lru_.begin(), lru_, it->second);
    }
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  return rec;
}

void DiskTier::clear() {
  std::vector<std::string> doomed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++epoch_;
    for (const PageRecordPtr& r : queue_) {
      queued_.erase(r->chain.lo);
      queued_bytes_ -= static_cast<int64_t>(r->bytes.size());
    }
    queue_.clear();
    for (const Entry& e : lru_) doomed.push_back(path_of(e.chain));
    while (!lru_.empty()) index_erase(lru_.front().chain.lo);
  }
  for (const std::string& p : doomed) ::unlink(p.c_str());
  idle_cv_.notify_all();
}

void DiskTier::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_cv_.wait(lock, [&] { return queued_.empty(); });
}

bool DiskTier::write_record(const PageRecord& r) {
  const std::string path = path_of(r.chain);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const std::vector<uint8_t> bytes = encode_page_file(r, options_.model_fingerprint);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    AS_LOG_WARN("KV cache: cannot create {}: {}", tmp, std::strerror(errno));
    return false;
  }
  bool ok = write_all(fd, bytes.data(), bytes.size());
  // Durable before it becomes visible: after a power cut the name never points at a file
  // whose blocks were not written (the checksum would catch it; this avoids losing it).
  if (ok && options_.sync) ok = ::fdatasync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (ok) ok = ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    AS_LOG_WARN("KV cache: cannot write {}: {}", path, std::strerror(errno));
    ::unlink(tmp.c_str());
  }
  return ok;
}

void DiskTier::writer_loop() {
  while (true) {
    PageRecordPtr r;
    uint64_t epoch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      r = queue_.front();
      queue_.pop_front();
      epoch = epoch_;
    }
    bool ok = write_record(*r);
    std::vector<std::string> doomed;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queued_.erase(r->chain.lo);
      queued_bytes_ -= static_cast<int64_t>(r->bytes.size());
      if (ok && epoch != epoch_) {  // cleared while it was being written
        doomed.push_back(path_of(r->chain));
        ok = false;
      }
      if (ok) {
        doomed = index_add(r->chain);
        writes_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    for (const std::string& p : doomed) ::unlink(p.c_str());
    idle_cv_.notify_all();
  }
}

}  // namespace agentserve
