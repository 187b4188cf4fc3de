// Progress lines for long work (model generation and loading, cache restore): a line that
// updates in place on a terminal, and a few plain lines otherwise (logs, CI).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace agentserve {

class Progress {
 public:
  Progress(std::string what, uint64_t total_bytes);
  void update(uint64_t done_bytes);
  void finish();

 private:
  std::string what_;
  uint64_t total_;
  bool tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool finished_ = false;
};

}  // namespace agentserve
