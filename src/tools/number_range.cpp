#include "tools/number_range.h"

#include <string_view>

namespace agentserve::tools {
namespace {

// 2^1024 - 2^970: halfway between the largest double and 2^1024; it and all above round up.
constexpr std::string_view kLimit =
    "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017"
    "977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273"
    "854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704"
    "342711559699508093042880177904174497792";
static_assert(kLimit.size() == 309);
constexpr int64_t kMaxDoublePow = 308;  // the limit's first digit stands for 10^308
constexpr int64_t kExpCap = 1'000'000;

}  // namespace

void NumberRange::significant(char c) {
  if (cmp_ == 0) {
    if (significant_ < kLimit.size()) {
      cmp_ = c < kLimit[significant_] ? -1 : c > kLimit[significant_] ? 1 : 0;
    } else if (c != '0') {
      cmp_ = 1;
    }
  }
  ++significant_;
}

void NumberRange::int_digit(char c) {
  if (!nonzero_ && c == '0') return;  // the lone "0" of 0.xxx
  if (nonzero_) {
    ++lead_pow_;
  } else {
    nonzero_ = true;
    lead_pow_ = 0;
  }
  significant(c);
}

void NumberRange::fraction_digit(char c) {
  ++fraction_;
  if (!nonzero_) {
    if (c == '0') return;
    nonzero_ = true;
    lead_pow_ = -fraction_;
  }
  significant(c);
}

void NumberRange::exponent_digit(char c) {
  exp_ = exp_ >= kExpCap ? exp_ : exp_ * 10 + (c - '0');
}

bool NumberRange::overflows() const {
  if (!nonzero_ || exp_negative_) return false;
  const int64_t pow = lead_pow_ + exp_;
  if (pow != kMaxDoublePow) return pow > kMaxDoublePow;
  return cmp_ > 0 || (cmp_ == 0 && significant_ >= kLimit.size());
}

}  // namespace agentserve::tools
