// Qwen3-Coder writes every parameter value as bare text (`<parameter=n>\n42\n</parameter>`): the
// JSON type comes from the tool's schema. These say which types a parameter may have and turn a
// raw value into the JSON text of one of them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/tool_parser.h"

namespace agentserve::tools {

struct ParamType {
  // The value is kept as raw text in a JSON string: the schema allows a string, or says
  // nothing we can use (no tool, no such parameter, no type).
  bool raw_string = true;
  // Otherwise the JSON types it may have, in the schema's order: "integer", "number",
  // "boolean", "null", "object", "array".
  std::vector<std::string> types;
};

// The type of parameter `param` of `tool` (nullptr: a tool the request did not declare).
// Reads "type" (a name or a list), "enum" / "const" (the types of their values), and
// "anyOf" / "oneOf" / "allOf" (the union of their branches).
ParamType param_type(const ToolSpec* tool, std::string_view param);

// The JSON text of `raw` (surrounding whitespace ignored) as the first of `type.types` it
// parses as; nullopt when it parses as none. Booleans and null also accept Python's
// spelling (True, False, None), which the template renders for Python values.
std::optional<std::string> typed_value_json(std::string_view raw, const ParamType& type);

}  // namespace agentserve::tools
