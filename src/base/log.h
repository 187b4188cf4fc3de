// Logging. Call sites format with fmt; the sink (spdlog) lives only in log.cpp so that
// its heavy headers stay out of the rest of the build.
#pragma once

#include <fmt/core.h>

#include <string_view>

namespace agentserve {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
// Parses "debug", "info", "warn", "error", "off"; returns false for anything else.
bool parse_log_level(std::string_view name, LogLevel* out);
void log_write(LogLevel level, std::string_view message);

template <class... Args>
void log_at(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (level < log_level()) return;
  log_write(level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace agentserve

#define AS_LOG_DEBUG(...) ::agentserve::log_at(::agentserve::LogLevel::kDebug, __VA_ARGS__)
#define AS_LOG_INFO(...) ::agentserve::log_at(::agentserve::LogLevel::kInfo, __VA_ARGS__)
#define AS_LOG_WARN(...) ::agentserve::log_at(::agentserve::LogLevel::kWarn, __VA_ARGS__)
#define AS_LOG_ERROR(...) ::agentserve::log_at(::agentserve::LogLevel::kError, __VA_ARGS__)
