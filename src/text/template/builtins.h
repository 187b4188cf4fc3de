// Builtin filters, tests, globals and methods (engine-internal): their ids, name lookup, and the
// functions the evaluator calls.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/template/value.h"

namespace agentserve::tmpl {

class Evaluator;

// Arguments of a call after evaluation: positional, then keyword.
struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
  const Value* kwarg(std::string_view name) const {
    for (const auto& [k, v] : kw)
      if (k == name) return &v;
    return nullptr;
  }
};

// Python-style binding of `args` to named parameters with defaults. Throws a TypeError-like
// RenderError on an unknown keyword or too many arguments. Missing parameters without a
// default come back undefined.
struct ParamSpec {
  const char* name;
  bool required = false;
};
std::vector<Value> bind_args(std::string_view func, const Args& args,
                             std::initializer_list<ParamSpec> params,
                             std::vector<Value> defaults = {});

// ---- filters --------------------------------------------------------------------------------
// Returns the filter id, or -1 when agentserve has no such filter.
int lookup_filter(std::string_view name);
// True for every filter Jinja2 3.1 ships (so an unknown name is a syntax error there too).
bool jinja_has_filter(std::string_view name);
Value call_filter(Evaluator& ev, int id, const Value& value, const Args& args);

// ---- tests ----------------------------------------------------------------------------------
int lookup_test(std::string_view name);
bool jinja_has_test(std::string_view name);
bool call_test(Evaluator& ev, int id, const Value& value, const Args& args);

// ---- globals --------------------------------------------------------------------------------
// The globals of transformers' environment (range, namespace, dict, cycler, joiner,
// raise_exception, strftime_now, lipsum); undefined when `name` is none of them.
Value lookup_global(std::string_view name);
Value call_global(Evaluator& ev, int id, const Args& args);

// ---- methods --------------------------------------------------------------------------------
// Python attribute lookup of a method on a builtin value ("split" on a str, "items" on a dict):
// a bound callable, or undefined when the type has no such attribute.
Value lookup_method(const Value& self, std::string_view name, bool* found);
Value call_method(Evaluator& ev, const Value& self, int method_id, const Args& args);
// Fast path for obj.name(args) without building the bound method; false when `name` is not a
// method of obj's type.
bool try_call_method(Evaluator& ev, const Value& self, std::string_view name, const Args& args,
                     Value* result);

}  // namespace agentserve::tmpl
