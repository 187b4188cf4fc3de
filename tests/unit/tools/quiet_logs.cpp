// The parser tests feed thousands of malformed outputs on purpose, and the parsers log a warning
// for each; those lines would bury a real failure in the test log. Warnings are off for this
// binary unless AGENTSERVE_TEST_LOG=warn (or debug, info) asks for them.
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/log.h"

namespace {

class QuietLogs : public ::testing::Environment {
 public:
  void SetUp() override {
    agentserve::LogLevel level = agentserve::LogLevel::kError;
    if (const char* want = std::getenv("AGENTSERVE_TEST_LOG")) agentserve::parse_log_level(want, &level);
    agentserve::set_log_level(level);
  }
};

const auto* const kQuietLogs = ::testing::AddGlobalTestEnvironment(new QuietLogs);

}  // namespace
