// The call envelope as a small state machine over JsonStream; see call_object_scanner.h.
#include "tools/call_object_scanner.h"

#include <nlohmann/json.hpp>

#include "tools/text_scan.h"

namespace agentserve::tools {
namespace {


// A complete JSON string token (JsonStream output, so valid JSON) as its value.
std::string decode_string(const std::string& token) {
  return nlohmann::json::parse(token).get<std::string>();
}

}  // namespace

size_t CallObjectScanner::feed(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && status_ == Status::kInProgress) {
    const char c = text[i];
    switch (mode_) {
      case Mode::kOpen:
        if (is_format_space(c)) {
          ++i;
        } else if (c == '{') {
          mode_ = Mode::kFirstKey;
          ++i;
        } else {
          fail(name_first_ ? Status::kNotACall : Status::kBroken, "a call is not a JSON object");
        }
        break;
      case Mode::kFirstKey:
      case Mode::kKey:
        if (is_format_space(c)) {
          ++i;
        } else if (c == '"') {
          stream_ = JsonStream(JsonStream::Top::kAny);
          token_.clear();
          mode_ = Mode::kInKey;
        } else {
          fail(name_first_ && members_ == 0 ? Status::kNotACall : Status::kBroken,
               "a member name was expected");
        }
        break;
      case Mode::kInKey:
      case Mode::kInValue: {
        const bool into_args = mode_ == Mode::kInValue && member_ == Member::kArgs;
        JsonStream& js = into_args ? args_stream_ : stream_;
        i += js.feed(text.substr(i), into_args ? &args_ : &token_);
        if (js.state() == JsonStream::State::kBroken) {
          fail(Status::kBroken, "the call's JSON is malformed");
        } else if (js.state() == JsonStream::State::kComplete) {
          if (mode_ == Mode::kInKey) {
            if (key_done()) mode_ = Mode::kColon;
          } else if (value_done()) {
            mode_ = Mode::kAfterValue;
            // The caller judges the name before anything after it is read, so that where a
            // bad name breaks the call does not depend on how the text was cut.
            if (member_ == Member::kName) return i;
          }
        }
        break;
      }
      case Mode::kColon:
        if (is_format_space(c)) {
          ++i;
        } else if (c == ':') {
          mode_ = Mode::kValueStart;
          ++i;
        } else {
          fail(Status::kBroken, "':' was expected after a member name");
        }
        break;
      case Mode::kValueStart:
        if (is_format_space(c)) {
          ++i;
        } else if (start_value(c)) {
          mode_ = Mode::kInValue;
        }
        break;
      case Mode::kAfterValue:
        if (is_format_space(c)) {
          ++i;
        } else if (c == ',') {
          mode_ = Mode::kKey;
          ++i;
        } else if (c != '}') {
          fail(Status::kBroken, "',' or '}' was expected after a member");
        } else if (!name_) {
          fail(Status::kBroken, "the call has no name");
        } else {
          if (!args_seen_) args_ += "{}";
          status_ = Status::kComplete;
          ++i;
        }
        break;
    }
  }
  return i;
}

bool CallObjectScanner::key_done() {
  key_ = decode_string(token_);
  if (name_first_) {
    const bool ok = members_ == 0                     ? (key_ == "name" || key_ == "type")
                    : members_ == 1 && type_function_ ? key_ == "name"
                                                      : true;
    if (!ok) return fail(Status::kNotACall, "the object does not start with a name");
  }
  return true;
}

bool CallObjectScanner::start_value(char c) {
  stream_ = JsonStream(JsonStream::Top::kAny);
  token_.clear();
  if (key_ == "name" && !name_) {
    if (c != '"') {
      return fail(name_first_ ? Status::kNotACall : Status::kBroken, "the name is not a string");
    }
    member_ = Member::kName;
  } else if ((key_ == "arguments" || key_ == "parameters") && !args_seen_) {
    args_seen_ = true;
    if (c == '{') {
      member_ = Member::kArgs;
      args_started_ = true;
    } else if (c == '"') {
      member_ = Member::kArgsString;
    } else {
      return fail(Status::kBroken, "the arguments are not an object");
    }
  } else {
    member_ = Member::kOther;
  }
  return true;
}

bool CallObjectScanner::value_done() {
  switch (member_) {
    case Member::kName:
      name_ = decode_string(token_);
      break;
    case Member::kArgs:
      break;
    case Member::kArgsString: {
      // Some models write the arguments as a string holding the JSON text: the client wants
      // the object, so the decoded text is scanned (and normalized) as if it had been written.
      const std::string inner = decode_string(token_);
      JsonStream js;
      std::string normalized;
      const size_t n = js.feed(inner, &normalized);
      bool ok = js.state() == JsonStream::State::kComplete;
      for (size_t k = n; ok && k < inner.size(); ++k) ok = is_format_space(inner[k]);
      if (!ok) return fail(Status::kBroken, "the arguments string does not hold a JSON object");
      args_ += normalized;
      args_string_done_ = true;
      break;
    }
    case Member::kOther:
      if (name_first_ && members_ == 0 && key_ == "type") {
        if (token_ != "\"function\"")
          return fail(Status::kNotACall, "\"type\" is not \"function\"");
        type_function_ = true;
      }
      break;
  }
  ++members_;
  return true;
}

std::string CallObjectScanner::args_closing() const {
  if (args_started_) return args_stream_.closing();
  return args_string_done_ ? "" : "{}";
}

}  // namespace agentserve::tools
