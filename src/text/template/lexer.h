// Jinja2's lexer, configured as transformers configures it: trim_blocks and lstrip_blocks on,
// keep_trailing_newline off, default delimiters, no line statements (engine-internal).
//
// The source is first normalised as Jinja2 does: "\r\n" and "\r" become "\n" and one trailing
// newline is dropped. Positions are byte offsets into that normalised text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agentserve::tmpl {

enum class Tok : uint8_t {
  kData,        // template text (after whitespace control)
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,      // text holds the unescaped value
  kInt,
  kFloat,
  kOp,          // text holds the operator ("+", "//", "(" ...)
  kEof,
};

struct Token {
  Tok type;
  uint32_t pos = 0;   // byte offset of the token in the normalised source
  std::string text;   // data, name, string value, operator
  int64_t ival = 0;
  double fval = 0;
  bool int_overflow = false;  // an integer literal beyond 64 bits
};

// Jinja2's newline normalisation (see above).
std::string normalize_template_source(std::string_view source);

struct LexError {
  std::string message;
  uint32_t pos = 0;
};

// Tokenizes normalised source; returns false and fills *error on a lexical error.
bool lex_template(std::string_view source, std::vector<Token>* tokens, LexError* error);

// 1-based line and column (in code points) of a byte offset.
void offset_to_line_col(std::string_view source, uint32_t pos, uint32_t* line, uint32_t* col);

}  // namespace agentserve::tmpl
