#include "tools/param_value.h"

#include <algorithm>

#include "tools/json_stream.h"
#include "tools/text_scan.h"

namespace agentserve::tools {
namespace {

using Json = nlohmann::ordered_json;

void add_type(std::vector<std::string>* types, std::string name) {
  if (std::find(types->begin(), types->end(), name) == types->end())
    types->push_back(std::move(name));
}

const char* type_of_value(const Json& v) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "boolean";
  if (v.is_null()) return "null";
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_object()) return "object";
  return "array";
}

void collect_types(const Json& schema, std::vector<std::string>* types, int depth) {
  // Schemas are client input: a self-nesting one must not recurse without bound.
  if (!schema.is_object() || depth > 16) return;
  if (auto it = schema.find("type"); it != schema.end()) {
    if (it->is_string()) add_type(types, it->get<std::string>());
    if (it->is_array())
      for (const Json& t : *it)
        if (t.is_string()) add_type(types, t.get<std::string>());
  }
  if (auto it = schema.find("enum"); it != schema.end() && it->is_array())
    for (const Json& v : *it) add_type(types, type_of_value(v));
  if (auto it = schema.find("const"); it != schema.end()) add_type(types, type_of_value(*it));
  for (const char* key : {"anyOf", "oneOf", "allOf"})
    if (auto it = schema.find(key); it != schema.end() && it->is_array())
      for (const Json& branch : *it) collect_types(branch, types, depth + 1);
}

// `text` as one whole JSON value (control characters inside strings escaped, as models write
// them raw), or nullopt.
std::optional<std::string> whole_json_value(std::string_view text) {
  JsonStream scan(JsonStream::Top::kAny);
  std::string out;
  const size_t used = scan.feed(text, &out);
  scan.end_of_input();
  if (scan.state() != JsonStream::State::kComplete || used != text.size()) return std::nullopt;
  return out;
}

std::optional<std::string> as_type(std::string_view text, std::string_view type) {
  if (text.empty()) return std::nullopt;
  if (type == "null") {
    if (text == "null" || text == "None") return "null";
    return std::nullopt;
  }
  if (type == "boolean") {
    if (text == "true" || text == "True") return "true";
    if (text == "false" || text == "False") return "false";
    return std::nullopt;
  }
  const char first = text.front();
  const bool numeric = first == '-' || (first >= '0' && first <= '9');
  if (type == "integer" || type == "number") {
    if (!numeric) return std::nullopt;
    if (type == "integer" && text.find_first_of(".eE") != std::string_view::npos)
      return std::nullopt;
    return whole_json_value(text);
  }
  if (type == "object" && first == '{') return whole_json_value(text);
  if (type == "array" && first == '[') return whole_json_value(text);
  return std::nullopt;
}

}  // namespace

ParamType param_type(const ToolSpec* tool, std::string_view param) {
  ParamType result;
  if (tool == nullptr) return result;
  auto props = tool->parameters.find("properties");
  if (props == tool->parameters.end() || !props->is_object()) return result;
  auto schema = props->find(std::string(param));
  if (schema == props->end()) return result;
  std::vector<std::string> types;
  collect_types(*schema, &types, 0);
  if (std::find(types.begin(), types.end(), "string") != types.end()) return result;
  // A type name we do not know ("any", a typo) says nothing: the value stays text.
  std::erase_if(types, [](const std::string& t) {
    return t != "integer" && t != "number" && t != "boolean" && t != "null" && t != "object" &&
           t != "array";
  });
  if (types.empty()) return result;
  result.raw_string = false;
  result.types = std::move(types);
  return result;
}

std::optional<std::string> typed_value_json(std::string_view raw, const ParamType& type) {
  const std::string_view text = trim_space(raw);
  for (const std::string& t : type.types)
    if (auto json = as_type(text, t)) return json;
  return std::nullopt;
}

}  // namespace agentserve::tools
