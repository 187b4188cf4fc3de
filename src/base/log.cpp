#include "base/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace agentserve {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::mutex g_write_mutex;

const char* level_tag(LogLevel level, bool color) {
  switch (level) {
    case LogLevel::kDebug: return color ? "\033[36mdebug\033[0m" : "debug";
    case LogLevel::kInfo: return color ? "\033[32minfo \033[0m" : "info ";
    case LogLevel::kWarn: return color ? "\033[33mwarn \033[0m" : "warn ";
    case LogLevel::kError: return color ? "\033[31merror\033[0m" : "error";
    case LogLevel::kOff: return "";
  }
  return "";
}

}  // namespace

void set_log_level(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }
LogLevel log_level() { return g_level.load(std::memory_order_relaxed); }

bool parse_log_level(std::string_view name, LogLevel* out) {
  if (name == "debug") *out = LogLevel::kDebug;
  else if (name == "info") *out = LogLevel::kInfo;
  else if (name == "warn" || name == "warning") *out = LogLevel::kWarn;
  else if (name == "error") *out = LogLevel::kError;
  else if (name == "off") *out = LogLevel::kOff;
  else return false;
  return true;
}

// Logs go to stderr so that `generate` can stream model text to stdout untouched.
void log_write(LogLevel level, std::string_view message) {
  if (level == LogLevel::kOff) return;
  static const bool color = isatty(STDERR_FILENO) != 0;
  timeval tv{};
  gettimeofday(&tv, nullptr);
  tm local{};
  localtime_r(&tv.tv_sec, &local);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &local);
  std::lock_guard<std::mutex> lock(g_write_mutex);
  std::fprintf(stderr, "%s.%03d %s %.*s\n", stamp, static_cast<int>(tv.tv_usec / 1000),
               level_tag(level, color), static_cast<int>(message.size()), message.data());
}

}  // namespace agentserve
