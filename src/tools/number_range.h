// Whether the JSON number being scanned still fits a double. JSON itself sets no limit, but
// nlohmann::json (the server's own parser, and the strictness JsonStream promises) rejects a
// number that rounds to infinity (1e400, 400 nines), so JsonStream must stop at the digit that
// takes a number there. Tracked with O(1) state: the power of ten of the first significant
// digit, the exponent, and how the significant digits compare with those of the smallest
// decimal that rounds to infinity (2^1024 - 2^970, 309 digits).
//
// Digits are judged as they arrive, with the exponent seen so far: a mantissa that alone is
// too large breaks even if a negative exponent would have followed (9...9 (400 digits) e-100),
// since what was emitted cannot be taken back.
#pragma once

#include <cstddef>
#include <cstdint>

namespace agentserve::tools {

class NumberRange {
 public:
  // A digit of the integer part, of the fraction, or of the exponent.
  void int_digit(char c);
  void fraction_digit(char c);
  void exponent_negative() { exp_negative_ = true; }
  void exponent_digit(char c);
  // The number so far rounds to infinity as a double.
  bool overflows() const;

 private:
  void significant(char c);

  bool nonzero_ = false;    // a significant digit was seen
  int64_t lead_pow_ = 0;    // the power of ten of the first significant digit
  int64_t fraction_ = 0;    // fraction digits so far
  int cmp_ = 0;             // significant digits vs the limit's: -1 less, 0 equal so far, 1 more
  size_t significant_ = 0;  // significant digits so far
  int64_t exp_ = 0;         // capped: past the cap it only matters that it is large
  bool exp_negative_ = false;
};

}  // namespace agentserve::tools
