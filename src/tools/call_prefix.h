// The opening of a tool call in a format, for tool_choice enforcement: appended to the prompt
// (an assistant prefill), it makes the model's turn a call — to `name` when one is given (the
// model then writes only the arguments), else to a tool of the model's choosing (it writes the
// name). Arguments are not constrained until constrained decoding lands.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tools/tool_parser.h"

namespace agentserve::tools {

// nullopt where the format cannot be forced this way (kNone).
std::optional<std::string> call_prefix(ToolFormat format, std::string_view name);

}  // namespace agentserve::tools
