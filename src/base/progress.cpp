#include "base/progress.h"

#include <unistd.h>

#include <cstdio>

namespace agentserve {

Progress::Progress(std::string what, uint64_t total_bytes)
    : what_(std::move(what)),
      total_(total_bytes),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

void Progress::update(uint64_t done) {
  if (finished_ || total_ == 0) return;
  const auto now = std::chrono::steady_clock::now();
  const double pct = 100.0 * static_cast<double>(done) / static_cast<double>(total_);
  const double secs = std::chrono::duration<double>(now - start_).count();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
    last_draw_ = now;
    std::fprintf(stderr, "\r%s: %5.1f%% (%.2f / %.2f GB, %.1f s)", what_.c_str(), pct,
                 static_cast<double>(done) / 1e9, static_cast<double>(total_) / 1e9, secs);
    std::fflush(stderr);
  } else {
    const int decile = static_cast<int>(pct / 10.0);
    if (decile == last_decile_) return;
    last_decile_ = decile;
    std::fprintf(stderr, "%s: %3d%% (%.2f / %.2f GB, %.1f s)\n", what_.c_str(), decile * 10,
                 static_cast<double>(done) / 1e9, static_cast<double>(total_) / 1e9, secs);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "%s%s: done (%.2f GB in %.1f s)\n", tty_ ? "\r" : "", what_.c_str(),
               static_cast<double>(total_) / 1e9, secs);
}

}  // namespace agentserve
