#include "base/error.h"

namespace agentserve {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return "invalid argument";
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kIo: return "i/o error";
    case ErrorKind::kFormat: return "format error";
    case ErrorKind::kUnsupported: return "unsupported";
    case ErrorKind::kOutOfRange: return "out of range";
    case ErrorKind::kResourceExhausted: return "resource exhausted";
    case ErrorKind::kCancelled: return "cancelled";
    case ErrorKind::kInternal: return "internal error";
  }
  return "error";
}

std::string Error::to_string() const { return std::string(error_kind_name(kind)) + ": " + message; }

}  // namespace agentserve
