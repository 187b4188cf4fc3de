// Arguments shared by the JSON-format parser tests: what coding agents really send (a file body
// with quotes, backslashes, tabs and newlines; nested objects and arrays; CJK and emoji with
// zero-width joiners), in the escaped form a parser must emit and the raw form models write.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "tool_test_util.h"

namespace agentserve::tools::testing {

inline nlohmann::ordered_json file_args() {
  nlohmann::ordered_json a = nlohmann::ordered_json::object();
  a["path"] = "src/hello.c";
  std::string body;
  for (int i = 0; i < 12; ++i) {
    body += "// line " + std::to_string(i) +
            ": 中文注释 👩‍💻 \"quoted\" C:\\path\\to\\file\n";
    body += "\tprintf(\"%d\\n\", x[" + std::to_string(i) + "]);\n";
  }
  a["content"] = body;
  return a;
}

inline nlohmann::ordered_json nested_args() {
  return nlohmann::ordered_json::parse(R"({"query": "SELECT * FROM t WHERE name = 'x'",
    "options": {"limit": 10, "offset": -2.5e-3, "tags": ["a", "b", {"deep": [1, 2.5, null, true, false, {}]}], "empty": []},
    "note": "日本語 🇯🇵 👨‍👩‍👧 café"})");
}

// As the parser emits them (escaped controls) and as the model writes them (raw controls).
inline std::string emitted(const nlohmann::ordered_json& v) {
  return py_json(v);
}
inline std::string written(const nlohmann::ordered_json& v) {
  return with_raw_controls(py_json(v));
}

}  // namespace agentserve::tools::testing
