#include "kv/disk_prefetcher.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/thread_name.h"

namespace agentserve {
namespace {

constexpr uint64_t kNotifyEvery = 32;
constexpr size_t kAdviseAhead = 8;

void advise_will_need(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
  ::close(fd);
}

}  // namespace

DiskPrefetcher::DiskPrefetcher(DiskTier* disk, int64_t max_ready_bytes,
                               std::chrono::microseconds read_delay_for_tests)
    : disk_(disk), max_ready_bytes_(max_ready_bytes), read_delay_(read_delay_for_tests) {
  thread_ = std::thread([this] {
    set_current_thread_name("as-kv-read");
    loop();
  });
}

DiskPrefetcher::~DiskPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DiskPrefetcher::set_on_read(std::function<void()> on_read) {
  std::lock_guard<std::mutex> lock(callback_mutex_);
  on_read_ = std::move(on_read);
}

DiskPrefetcher::State DiskPrefetcher::state(const Hash128& chain) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = ready_.find(chain.lo); it != ready_.end() && it->second->chain == chain)
    return State::kReady;
  if (auto it = wanted_.find(chain.lo); it != wanted_.end() && it->second == chain)
    return State::kInFlight;
  return State::kNone;
}

void DiskPrefetcher::request(std::span<const Hash128> chains) {
  bool added = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Hash128& c : chains) {
      if (ready_.count(c.lo) != 0 || wanted_.count(c.lo) != 0) continue;
      wanted_.emplace(c.lo, c);
      queue_.push_back(c);
      added = true;
    }
  }
  if (added) cv_.notify_one();
}

PageRecordPtr DiskPrefetcher::take(const Hash128& chain) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = ready_.find(chain.lo);
  if (it == ready_.end() || it->second->chain != chain) return nullptr;
  PageRecordPtr r = std::move(it->second);
  ready_.erase(it);
  ready_bytes_ -= static_cast<int64_t>(r->bytes.size());
  // ready_order_ keeps the key; dropping skips keys no longer landed.
  return r;
}

bool DiskPrefetcher::busy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return !wanted_.empty();
}

bool DiskPrefetcher::wait_for_read(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (wanted_.empty()) return false;
  const uint64_t seen = reads_done_;
  done_cv_.wait_for(lock, timeout, [&] { return reads_done_ != seen || stop_; });
  return true;
}

void DiskPrefetcher::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++epoch_;
  queue_.clear();
  advised_ = 0;
  wanted_.clear();
  ready_.clear();
  ready_order_.clear();
  ready_bytes_ = 0;
}

int64_t DiskPrefetcher::ready_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ready_bytes_;
}

int64_t DiskPrefetcher::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

void DiskPrefetcher::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    const Hash128 chain = queue_.front();
    queue_.pop_front();
    const uint64_t epoch = epoch_;
    // The next files of the queue are announced to the kernel, so that the device works on
    // several reads at once while this one is copied and verified (one read at a time leaves
    // an SSD mostly idle).
    if (advised_ > 0) --advised_;  // the one just taken was announced
    std::vector<Hash128> announce;
    while (advised_ < queue_.size() && advised_ < kAdviseAhead)
      announce.push_back(queue_[advised_++]);
    lock.unlock();
    for (const Hash128& c : announce) advise_will_need(disk_->path_of(c));
    if (read_delay_.count() > 0) std::this_thread::sleep_for(read_delay_);
    PageRecordPtr r = disk_->read(chain);  // verified; null when gone or invalid
    lock.lock();
    if (epoch == epoch_) {
      wanted_.erase(chain.lo);
      if (r != nullptr && ready_.count(chain.lo) == 0) {
        ready_bytes_ += static_cast<int64_t>(r->bytes.size());
        ready_.emplace(chain.lo, std::move(r));
        ready_order_.push_back(chain);
        // Over the bound: the oldest landed pages go first (a sequence takes its pages in
        // landing order, so the oldest are the likeliest to be abandoned ones).
        while (ready_bytes_ > max_ready_bytes_ && !ready_order_.empty()) {
          const Hash128 old = ready_order_.front();
          ready_order_.pop_front();
          auto it = ready_.find(old.lo);
          if (it == ready_.end() || it->second->chain != old) continue;  // taken already
          ready_bytes_ -= static_cast<int64_t>(it->second->bytes.size());
          ready_.erase(it);
          ++dropped_;
        }
      }
      // Taken pages leave their key behind; trim those from the front.
      while (!ready_order_.empty() && ready_.count(ready_order_.front().lo) == 0)
        ready_order_.pop_front();
      // A page never taken (its request was cancelled) holds the front; keep the keys behind
      // it from piling up.
      if (ready_order_.size() > 2 * ready_.size() + 64)
        std::erase_if(ready_order_, [&](const Hash128& c) { return ready_.count(c.lo) == 0; });
    }
    ++reads_done_;
    // The engine is woken every kNotifyEvery reads and when the queue runs dry, not per page:
    // a sequence computes nothing until its whole run of pages has landed, and each wake-up
    // costs a scheduling pass.
    const bool notify = queue_.empty() || reads_done_ % kNotifyEvery == 0;
    lock.unlock();
    done_cv_.notify_all();
    if (notify) {
      std::lock_guard<std::mutex> cb(callback_mutex_);
      if (on_read_) on_read_();
    }
    lock.lock();
  }
}

}  // namespace agentserve
