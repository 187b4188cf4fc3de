// Internal invariants (tier 2 of three): a failed AS_CHECK is a bug in agentserve, never a
// user error. It prints file:line, the condition and the operands, then aborts.
#pragma once

#include <sstream>
#include <string>

namespace agentserve::detail {

[[noreturn]] void check_failed(const char* file, int line, const char* condition,
                               const std::string& detail);

template <class A, class B>
std::string format_operands(const A& a, const B& b) {
  std::ostringstream os;
  os << "(" << a << " vs " << b << ")";
  return os.str();
}

}  // namespace agentserve::detail

#define AS_CHECK(cond)                                                        \
  do {                                                                        \
    if (!(cond)) [[unlikely]]                                                 \
      ::agentserve::detail::check_failed(__FILE__, __LINE__, #cond, "");      \
  } while (0)

#define AS_CHECK_MSG(cond, msg)                                               \
  do {                                                                        \
    if (!(cond)) [[unlikely]]                                                 \
      ::agentserve::detail::check_failed(__FILE__, __LINE__, #cond, (msg));   \
  } while (0)

#define AS_CHECK_OP(a, op, b)                                                        \
  do {                                                                               \
    const auto& as_a_ = (a);                                                         \
    const auto& as_b_ = (b);                                                         \
    if (!(as_a_ op as_b_)) [[unlikely]]                                              \
      ::agentserve::detail::check_failed(__FILE__, __LINE__, #a " " #op " " #b,      \
                                         ::agentserve::detail::format_operands(as_a_, as_b_)); \
  } while (0)

#define AS_CHECK_EQ(a, b) AS_CHECK_OP(a, ==, b)
#define AS_CHECK_NE(a, b) AS_CHECK_OP(a, !=, b)
#define AS_CHECK_LT(a, b) AS_CHECK_OP(a, <, b)
#define AS_CHECK_LE(a, b) AS_CHECK_OP(a, <=, b)
#define AS_CHECK_GT(a, b) AS_CHECK_OP(a, >, b)
#define AS_CHECK_GE(a, b) AS_CHECK_OP(a, >=, b)

#ifdef NDEBUG
#define AS_DCHECK(cond) \
  do {                  \
  } while (0)
#else
#define AS_DCHECK(cond) AS_CHECK(cond)
#endif
