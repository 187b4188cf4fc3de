// The scope pass (engine-internal): Jinja2 decides at compile time which frame every name
// lives in and how each frame's variables start out (its "idtracking"). Templates observe
// this, e.g. a `set` inside a for body is per iteration and does not leak out, while the
// body still reads outer variables. This pass reproduces Jinja2's rules and turns every name
// into (frames up, slot), so the evaluator never looks a variable up by name.
//
// It also reports filters and tests Jinja2 does not know outside an `if` (a syntax error in
// Jinja2 too; inside an `if` Jinja2 only fails when the filter runs).
#pragma once

#include <string>

#include "text/template/ast.h"

namespace agentserve::tmpl {

struct ScopeError {
  std::string message;
  uint32_t pos = 0;
};

bool resolve_scopes(Ast* ast, ScopeError* error);

}  // namespace agentserve::tmpl
