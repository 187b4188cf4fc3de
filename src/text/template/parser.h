// Jinja2's parser (engine-internal): tokens to the AST of ast.h, with Jinja2's precedence and
// statement set. Tags agentserve refuses (extends, include, import, block, autoescape ...)
// fail here with a clear message.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "text/template/ast.h"
#include "text/template/lexer.h"

namespace agentserve::tmpl {

struct ParseError {
  std::string message;
  uint32_t pos = 0;
  bool unsupported = false;  // a construct Jinja2 accepts but agentserve refuses
};

bool parse_template(const std::vector<Token>& tokens, Ast* ast, ParseError* error);

}  // namespace agentserve::tmpl
