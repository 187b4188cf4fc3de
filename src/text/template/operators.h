// Python's operators on template values (engine-internal): arithmetic, comparison,
// containment, iteration, len(), item access and slicing, with Python's results and errors.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "text/template/ast.h"
#include "text/template/value.h"

namespace agentserve::tmpl {

// type(v).__name__ as Python spells it ("str", "NoneType", "Undefined" ...).
const char* py_type_name(const Value& v);

// Raises the UndefinedError an operation on an undefined value raises.
[[noreturn]] void throw_undefined(const Value& v);
inline void check_defined(const Value& v) {
  if (v.is_undefined()) throw_undefined(v);
}

Value op_binary(BinOp op, const Value& a, const Value& b);
Value op_neg(const Value& a);
Value op_pos(const Value& a);

bool py_eq(const Value& a, const Value& b);
// a <op> b for <, <=, >, >= (TypeError for unorderable types).
bool py_order(CmpOp op, const Value& a, const Value& b);
bool py_less(const Value& a, const Value& b);
bool py_compare(CmpOp op, const Value& a, const Value& b);
// `item in container`.
bool py_contains(const Value& container, const Value& item);

// len(v): TypeError for values without a length.
int64_t py_len(const Value& v);
// The items `for x in v` visits: a list's items, a dict's keys, a string's characters ...
// Single-use iterators are consumed. TypeError for non-iterables.
std::vector<Value> py_iterate(const Value& v);
// Like py_iterate, but returns the list itself (no copy) when v is a plain list or tuple.
Value py_iterable_as_list(const Value& v);

// Jinja2's sandboxed environment.getitem / getattr: item first / attribute first, falling
// back to the other; misses give an Undefined that remembers how it arose.
Value env_getitem(const Value& obj, const Value& key);
Value env_getattr(const Value& obj, const Value& name);
// obj[start:stop:step] (a slice bypasses the environment: errors propagate).
Value py_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);

// A Python int from a value used as an index/count (bools are ints); nullopt otherwise.
std::optional<int64_t> as_index(const Value& v);

// `text % args` (printf-style formatting). A Markup left operand escapes its arguments.
Value py_percent_format(const Value& text, const Value& args);
// str.format(*args, **kwargs) as the sandbox runs it.
std::string py_str_format(std::string_view fmt, const std::vector<Value>& args,
                          const std::vector<std::pair<std::string, Value>>& kwargs);

}  // namespace agentserve::tmpl
