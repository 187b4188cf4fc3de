// Builtin filters on sequences and mappings.
#include <algorithm>

#include "text/template/evaluator.h"
#include "text/template/filters_internal.h"
#include "text/template/operators.h"
#include "text/template/py_format.h"
#include "text/template/py_string.h"
#include "text/template/render_error.h"

namespace agentserve::tmpl {
namespace {

using detail::ListFlavor;

Value generator(std::vector<Value> items) { return detail::make_list(std::move(items), ListFlavor::kGenerator); }
Value tuple2(Value a, Value b) { return detail::make_list({std::move(a), std::move(b)}, ListFlavor::kTuple); }

// Jinja2's ignore_case: the sort/compare key of a string is its lowercase form.
Value ignore_case(const Value& v) { return v.is_string() ? Value::string(py_lower(v.as_string())) : v; }

Value empty_undefined(const char* hint) {
  return Value::make_undefined(detail::kUndefHint, 0, detail::new_str(hint));
}

// select / reject / selectattr / rejectattr.
Value select_or_reject(Evaluator& ev, const Value& value, const Args& args, bool keep_true, bool attr) {
  std::vector<Value> out;
  if (!value.truthy()) return generator({});
  size_t off = 0;
  Value attribute;
  if (attr) {
    if (args.pos.empty()) throw_render("Missing parameter for attribute name");
    attribute = args.pos[0];
    off = 1;
  }
  Args test_args;
  std::string test;
  bool has_test = args.pos.size() > off;
  if (has_test) {
    if (!args.pos[off].is_string()) throw_render("test name must be a string");
    test = std::string(args.pos[off].as_string());
    test_args.pos.assign(args.pos.begin() + static_cast<std::ptrdiff_t>(off + 1), args.pos.end());
    test_args.kw = args.kw;
  }
  for (const Value& item : py_iterate(value)) {
    const Value x = attr ? get_attribute_path(item, attribute, nullptr) : item;
    const bool r = has_test ? ev.apply_test(test, x, test_args) : x.truthy();
    if (r == keep_true) out.push_back(item);
  }
  return generator(std::move(out));
}

// sorted(items, key=..., reverse=...) with Python's stable ordering.
void py_sort(std::vector<std::pair<Value, Value>>* keyed, bool reverse) {
  if (reverse) {
    std::stable_sort(keyed->begin(), keyed->end(),
                     [](const auto& a, const auto& b) { return py_less(b.first, a.first); });
  } else {
    std::stable_sort(keyed->begin(), keyed->end(),
                     [](const auto& a, const auto& b) { return py_less(a.first, b.first); });
  }
}

Value min_max(const Value& value, const Args& args, bool is_max) {
  std::vector<Value> b = bind_args(is_max ? "max" : "min", args, {{"case_sensitive"}, {"attribute"}},
                                   {Value::boolean(false), Value::none()});
  const std::vector<Value> items = py_iterate(value);
  if (items.empty()) return empty_undefined("No aggregated item, sequence was empty.");
  const auto key = [&](const Value& x) {
    Value k = get_attribute_path(x, b[1], nullptr);
    return b[0].truthy() ? k : ignore_case(k);
  };
  size_t best = 0;
  Value best_key = key(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key(items[i]);
    if (is_max ? py_less(best_key, k) : py_less(k, best_key)) {
      best = i;
      best_key = std::move(k);
    }
  }
  return items[best];
}

}  // namespace

Value filter_seq(Evaluator& ev, int id, const Value& v, const Args& args) {
  switch (id) {
    case kFCount:
    case kFLength: bind_args("length", args, {}); return Value::integer(py_len(v));
    case kFList: bind_args("list", args, {}); return detail::make_list(py_iterate(v));
    case kFFirst: {
      bind_args("first", args, {});
      if (v.is_list() && detail::flavor_has_len(v.list_obj()->flavor)) {
        if (v.as_list().empty()) return empty_undefined("No first item, sequence was empty.");
        return v.as_list()[0];
      }
      std::vector<Value> items = py_iterate(v);
      if (items.empty()) return empty_undefined("No first item, sequence was empty.");
      return items[0];
    }
    case kFLast: {
      bind_args("last", args, {});
      if (v.is_list() && !detail::flavor_has_len(v.list_obj()->flavor))
        throw_render(std::string("'") + py_type_name(v) + "' object is not reversible");
      std::vector<Value> items = py_iterate(v);
      if (items.empty()) return empty_undefined("No last item, sequence was empty.");
      return items.back();
    }
    case kFJoin: {
      std::vector<Value> b = bind_args("join", args, {{"d"}, {"attribute"}}, {Value::string(""), Value::none()});
      const std::string sep = to_str(b[0]);
      std::string out;
      bool first = true;
      for (const Value& x : py_iterate(v)) {
        if (!first) out += sep;
        first = false;
        append_str(&out, b[1].is_none() ? x : get_attribute_path(x, b[1], nullptr));
      }
      return str_value(std::move(out));
    }
    case kFItems: {
      bind_args("items", args, {});
      if (v.is_undefined()) return generator({});
      if (!v.is_dict()) throw_render("Can only get item pairs from a mapping.");
      std::vector<Value> out;
      out.reserve(v.as_dict().size());
      for (const auto& [k, x] : v.as_dict()) out.push_back(tuple2(k, x));
      return generator(std::move(out));
    }
    case kFDictsort: {
      std::vector<Value> b = bind_args("dictsort", args, {{"case_sensitive"}, {"by"}, {"reverse"}},
                                       {Value::boolean(false), Value::string("key"), Value::boolean(false)});
      const std::string by = to_str(b[1]);
      if (by != "key" && by != "value") throw_render("You can only sort by either \"key\" or \"value\"");
      if (!v.is_dict()) {
        check_defined(v);
        throw_render(std::string("'") + py_type_name(v) + "' object has no attribute 'items'");
      }
      std::vector<std::pair<Value, Value>> keyed;
      for (const auto& [k, x] : v.as_dict()) {
        const Value& key = by == "key" ? k : x;
        keyed.emplace_back(b[0].truthy() ? key : ignore_case(key), tuple2(k, x));
      }
      py_sort(&keyed, b[2].truthy());
      std::vector<Value> out;
      for (auto& e : keyed) out.push_back(std::move(e.second));
      return detail::make_list(std::move(out));
    }
    case kFSort: {
      std::vector<Value> b = bind_args("sort", args, {{"reverse"}, {"case_sensitive"}, {"attribute"}},
                                       {Value::boolean(false), Value::boolean(false), Value::none()});
      std::vector<std::pair<Value, Value>> keyed;
      std::vector<Value> attrs;
      if (b[2].is_string()) {
        for (std::string_view a : py_split(b[2].as_string(), std::string_view(","), -1, false))
          attrs.push_back(Value::string(a));
      } else if (!b[2].is_none()) {
        attrs.push_back(b[2]);
      }
      for (const Value& x : py_iterate(v)) {
        std::vector<Value> parts;
        if (attrs.empty()) {
          parts.push_back(b[1].truthy() ? x : ignore_case(x));
        } else {
          for (const Value& a : attrs) {
            Value k = get_attribute_path(x, a, nullptr);
            parts.push_back(b[1].truthy() ? k : ignore_case(k));
          }
        }
        // make_multi_attrgetter keys are lists compared element-wise.
        keyed.emplace_back(detail::make_list(std::move(parts)), x);
      }
      py_sort(&keyed, b[0].truthy());
      std::vector<Value> out;
      for (auto& e : keyed) out.push_back(std::move(e.second));
      return detail::make_list(std::move(out));
    }
    case kFUnique: {
      std::vector<Value> b = bind_args("unique", args, {{"case_sensitive"}, {"attribute"}},
                                       {Value::boolean(false), Value::none()});
      std::vector<Value> seen, out;
      for (const Value& x : py_iterate(v)) {
        Value k = get_attribute_path(x, b[1], nullptr);
        if (!b[0].truthy()) k = ignore_case(k);
        if (detail::is_unhashable(k))
          throw_render(std::string("unhashable type: '") + py_type_name(k) + "'");
        bool dup = false;
        for (const Value& s : seen) dup = dup || py_eq(s, k);
        if (!dup) {
          seen.push_back(std::move(k));
          out.push_back(x);
        }
      }
      return generator(std::move(out));
    }
    case kFMin: return min_max(v, args, false);
    case kFMax: return min_max(v, args, true);
    case kFSum: {
      std::vector<Value> b = bind_args("sum", args, {{"attribute"}, {"start"}}, {Value::none(), Value::integer(0)});
      Value acc = b[1];
      if (acc.is_string()) throw_render("sum() can't sum strings [use ''.join(seq) instead]");
      for (const Value& x : py_iterate(v)) acc = op_binary(BinOp::kAdd, acc, b[0].is_none() ? x : get_attribute_path(x, b[0], nullptr));
      return acc;
    }
    case kFReverse: {
      bind_args("reverse", args, {});
      if (v.is_string()) {
        std::vector<uint32_t> cps = decode_all(v.as_string());
        std::reverse(cps.begin(), cps.end());
        return str_value(encode_all(cps.data(), cps.size()), is_markup(v));
      }
      if (v.is_list() && !detail::flavor_has_len(v.list_obj()->flavor)) {
        std::vector<Value> items = py_iterate(v);  // not reversible: list(value) reversed
        std::reverse(items.begin(), items.end());
        return detail::make_list(std::move(items));
      }
      std::vector<Value> items = py_iterate(v);
      std::reverse(items.begin(), items.end());
      return detail::make_list(std::move(items), ListFlavor::kReversed);
    }
    case kFMap: {
      if (!v.truthy()) return generator({});
      std::vector<Value> out;
      if (args.pos.empty() && args.kwarg("attribute") != nullptr) {
        const Value* def = args.kwarg("default");
        for (const auto& [k, x] : args.kw)
          if (k != "attribute" && k != "default") throw_render("Unexpected keyword argument '" + k + "'");
        for (const Value& x : py_iterate(v)) out.push_back(get_attribute_path(x, *args.kwarg("attribute"), def));
        return generator(std::move(out));
      }
      if (args.pos.empty()) throw_render("map requires a filter argument");
      if (!args.pos[0].is_string()) throw_render("filter name must be a string");
      const std::string name(args.pos[0].as_string());
      Args rest;
      rest.pos.assign(args.pos.begin() + 1, args.pos.end());
      rest.kw = args.kw;
      for (const Value& x : py_iterate(v)) out.push_back(ev.apply_filter(name, x, rest));
      return generator(std::move(out));
    }
    case kFSelect: return select_or_reject(ev, v, args, true, false);
    case kFReject: return select_or_reject(ev, v, args, false, false);
    case kFSelectattr: return select_or_reject(ev, v, args, true, true);
    case kFRejectattr: return select_or_reject(ev, v, args, false, true);
    case kFBatch: {
      std::vector<Value> b = bind_args("batch", args, {{"linecount", true}, {"fill_with"}}, {Value(), Value::none()});
      if (!as_index(b[0])) throw_render("'<' not supported: batch size must be an int");
      const int64_t n = *as_index(b[0]);
      std::vector<Value> out, cur;
      for (const Value& x : py_iterate(v)) {
        if (static_cast<int64_t>(cur.size()) == n) {
          out.push_back(detail::make_list(std::move(cur)));
          cur.clear();
        }
        cur.push_back(x);
      }
      if (!cur.empty()) {
        if (!b[1].is_none())
          while (static_cast<int64_t>(cur.size()) < n) cur.push_back(b[1]);
        out.push_back(detail::make_list(std::move(cur)));
      }
      return generator(std::move(out));
    }
    case kFSlice: {
      std::vector<Value> b = bind_args("slice", args, {{"slices", true}, {"fill_with"}}, {Value(), Value::none()});
      const int64_t slices = as_index(b[0]).value_or(0);
      if (slices <= 0) throw_render("integer division or modulo by zero");
      const std::vector<Value> seq = py_iterate(v);
      const int64_t length = static_cast<int64_t>(seq.size());
      const int64_t per = length / slices, extra = length % slices;
      int64_t offset = 0;
      std::vector<Value> out;
      for (int64_t s = 0; s < slices; ++s) {
        const int64_t start = offset + s * per;
        if (s < extra) ++offset;
        const int64_t end = offset + (s + 1) * per;
        std::vector<Value> tmp(seq.begin() + start, seq.begin() + end);
        if (!b[1].is_none() && s >= extra) tmp.push_back(b[1]);
        out.push_back(detail::make_list(std::move(tmp)));
      }
      return generator(std::move(out));
    }
    default: break;
  }
  throw_render("unknown filter");
}

}  // namespace agentserve::tmpl
