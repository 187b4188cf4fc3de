// Python's str() and repr() of template values, and json.dumps as transformers' tojson calls
// it (engine-internal).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "text/template/value.h"

namespace agentserve::tmpl {

// str(v) appended to *out; Undefined prints as "". Generators cannot be printed (Python would
// print an address): a render error.
void append_str(std::string* out, const Value& v);
std::string to_str(const Value& v);
// repr(v) appended to *out.
void append_repr(std::string* out, const Value& v);
void append_float_repr(std::string* out, double d);
void append_string_repr(std::string* out, std::string_view s);
void append_int(std::string* out, int64_t i);

struct JsonOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // absent: one line
  std::string item_sep = ", ";
  std::string key_sep = ": ";
  bool sort_keys = false;
};
// json.dumps(v, **options); throws RenderError for values JSON cannot hold, with Python's
// message ("Object of type Undefined is not JSON serializable").
void append_json(std::string* out, const Value& v, const JsonOptions& options);

}  // namespace agentserve::tmpl
