// The JSON envelope of one call, {"name": "NAME", "arguments": {...}}, scanned as it is generated
// (Hermes / Qwen, Llama 3, Mistral's JSON list). The name is reported the moment its string
// closes; the arguments object is re-emitted through JsonStream as it arrives, and held only
// while the name is still unknown (arguments written first) or when the model wrote them as a
// JSON string holding JSON (decoded once the string is complete).
//
// Accepted: "parameters" as an alias of "arguments"; other members ("id", "type") are skipped;
// no arguments member at all means {}. Under name_first (Llama 3, whose bare JSON may just be an
// answer the user asked for) the first member must be "name", or "type": "function" followed
// by "name"; anything else is not a call.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "tools/json_stream.h"

namespace agentserve::tools {

class CallObjectScanner {
 public:
  enum class Status {
    kInProgress,
    kComplete,  // the object closed; the '}' was the last byte consumed
    kBroken,    // the offending byte was not consumed; error() says why
    kNotACall,  // name_first: the first member says this object is not a call
  };

  explicit CallObjectScanner(bool name_first = false) : name_first_(name_first) {}

  // Consumes bytes of `text` up to the end of the object, the first byte that cannot belong to
  // it, or the end of the name (for the caller to judge before more is read); returns how many.
  size_t feed(std::string_view text);

  Status status() const { return status_; }
  const char* error() const { return error_; }
  bool has_name() const { return name_.has_value(); }
  const std::string& name() const { return *name_; }
  // The normalized arguments text produced since the last call (all of it once complete).
  std::string take_args() { return std::exchange(args_, std::string()); }
  // What closes the arguments emitted so far into a JSON object.
  std::string args_closing() const;

 private:
  enum class Mode { kOpen, kFirstKey, kKey, kInKey, kColon, kValueStart, kInValue, kAfterValue };
  enum class Member { kName, kArgs, kArgsString, kOther };

  bool fail(Status status, const char* why) {
    status_ = status;
    error_ = why;
    return false;
  }
  // Returns false when the byte cannot be consumed.
  bool start_value(char c);
  bool key_done();
  bool value_done();

  bool name_first_;
  Status status_ = Status::kInProgress;
  const char* error_ = "";
  Mode mode_ = Mode::kOpen;
  int members_ = 0;                           // members completed so far
  bool type_function_ = false;                // name_first: the first member was "type": "function"
  JsonStream stream_{JsonStream::Top::kAny};  // the key or value being read
  std::string token_;  // its text (keys, the name, skipped values, string arguments)
  std::string key_;
  Member member_ = Member::kOther;
  std::optional<std::string> name_;
  bool args_seen_ = false;
  bool args_started_ = false;      // an object's '{' was emitted into args_
  bool args_string_done_ = false;  // string-encoded arguments were decoded into args_
  JsonStream args_stream_{JsonStream::Top::kObject};
  std::string args_;
};

}  // namespace agentserve::tools
