// The globals of transformers' environment and Python-style argument binding.
#include <ctime>
#include <mutex>

#include "text/template/builtins.h"
#include "text/template/evaluator.h"
#include "text/template/objects.h"
#include "text/template/operators.h"
#include "text/template/py_format.h"
#include "text/template/render_error.h"

namespace agentserve::tmpl {
namespace {

enum GlobalId : uint16_t {
  kRange, kNamespace, kDict, kCycler, kJoiner, kRaiseException, kStrftimeNow, kLipsum,
};
constexpr std::string_view kGlobalNames[] = {"range", "namespace", "dict", "cycler", "joiner",
                                             "raise_exception", "strftime_now", "lipsum"};
constexpr int64_t kMaxRange = 100000;  // the sandbox's MAX_RANGE

const std::vector<Value>& global_values() {
  static const std::vector<Value>* values = [] {
    auto* v = new std::vector<Value>();
    const auto saved = detail::alloc_mode();
    detail::set_alloc_mode(detail::RefMode::kImmortal);
    for (size_t i = 0; i < std::size(kGlobalNames); ++i) {
      auto* c = new detail::CallableObj();
      c->ckind = detail::CallableKind::kGlobal;
      c->id = static_cast<uint16_t>(i);
      c->name = std::string(kGlobalNames[i]);
      v->push_back(Value::adopt(ValueKind::kCallable, c));
    }
    detail::set_alloc_mode(saved);
    return v;
  }();
  return *values;
}

// dict(*args, **kwargs) entries.
std::vector<std::pair<Value, Value>> dict_entries(const Args& args, const char* func) {
  std::vector<std::pair<Value, Value>> e;
  if (args.pos.size() > 1)
    throw_render(std::string(func) + " expected at most 1 argument, got " + std::to_string(args.pos.size()));
  if (!args.pos.empty()) {
    const Value& src = args.pos[0];
    if (src.is_dict()) {
      e.assign(src.as_dict().begin(), src.as_dict().end());
    } else {
      for (const Value& pair : py_iterate(src)) {
        std::vector<Value> kv = py_iterate(pair);
        if (kv.size() != 2)
          throw_render("dictionary update sequence element has length " + std::to_string(kv.size()) + "; 2 is required");
        e.emplace_back(kv[0], kv[1]);
      }
    }
  }
  for (const auto& [k, v] : args.kw) e.emplace_back(Value::string(k), v);
  return e;
}

int64_t range_arg(const Value& v) {
  if (auto i = as_index(v)) return *i;
  check_defined(v);
  throw_render(std::string("'") + py_type_name(v) + "' object cannot be interpreted as an integer");
}

}  // namespace

std::vector<Value> bind_args(std::string_view func, const Args& args,
                             std::initializer_list<ParamSpec> params,
                             std::vector<Value> defaults) {
  std::vector<Value> out(params.size());
  std::vector<bool> set(params.size(), false);
  if (args.pos.size() > params.size())
    throw_render(std::string(func) + "() takes at most " + std::to_string(params.size()) +
                 " arguments (" + std::to_string(args.pos.size()) + " given)");
  for (size_t i = 0; i < args.pos.size(); ++i) {
    out[i] = args.pos[i];
    set[i] = true;
  }
  for (const auto& [k, v] : args.kw) {
    size_t i = 0;
    for (const ParamSpec& p : params) {
      if (k == p.name) break;
      ++i;
    }
    if (i == params.size())
      throw_render(std::string(func) + "() got an unexpected keyword argument '" + k + "'");
    if (set[i]) throw_render(std::string(func) + "() got multiple values for argument '" + k + "'");
    out[i] = v;
    set[i] = true;
  }
  size_t i = 0;
  for (const ParamSpec& p : params) {
    if (!set[i]) {
      if (p.required)
        throw_render(std::string(func) + "() missing required argument '" + p.name + "'");
      if (i < defaults.size()) out[i] = defaults[i];
    }
    ++i;
  }
  return out;
}

Value lookup_global(std::string_view name) {
  const auto& g = global_values();
  for (size_t i = 0; i < std::size(kGlobalNames); ++i)
    if (name == kGlobalNames[i]) return g[i];
  return Value();
}

Value call_global(Evaluator& ev, int id, const Args& args) {
  (void)ev;
  switch (id) {
    case kRange: {
      if (!args.kw.empty()) throw_render("range() takes no keyword arguments");
      const auto& a = args.pos;
      if (a.empty() || a.size() > 3)
        throw_render("range expected at most 3 arguments, got " + std::to_string(a.size()));
      int64_t start = 0, stop, step = 1;
      if (a.size() == 1) {
        stop = range_arg(a[0]);
      } else {
        start = range_arg(a[0]);
        stop = range_arg(a[1]);
        if (a.size() == 3) step = range_arg(a[2]);
      }
      if (step == 0) throw_render("range() arg 3 must not be zero");
      int64_t n = 0;
      if (step > 0 && stop > start) n = (stop - start + step - 1) / step;
      if (step < 0 && stop < start) n = (start - stop - step - 1) / (-step);
      if (n > kMaxRange)
        throw_render("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
      std::vector<Value> items;
      items.reserve(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) items.push_back(Value::integer(start + i * step));
      Value r = detail::make_list(std::move(items), detail::ListFlavor::kRange);
      auto* l = const_cast<detail::ListObj*>(r.list_obj());
      l->range_start = start;
      l->range_stop = stop;
      l->range_step = step;
      return r;
    }
    case kNamespace: {
      auto* ns = new detail::NamespaceObj();
      Value v = Value::adopt(ValueKind::kNamespace, ns);
      for (auto& [k, x] : dict_entries(args, "Namespace")) {
        if (!k.is_string()) throw_render("keywords must be strings");
        ns->set(k.as_string(), x);
      }
      return v;
    }
    case kDict: return detail::make_dict(dict_entries(args, "dict"));
    case kCycler: {
      if (args.pos.empty()) throw_render("at least one item has to be provided");
      auto* c = new detail::CyclerObj();
      c->items = args.pos;
      return Value::adopt(ValueKind::kCycler, c);
    }
    case kJoiner: {
      std::vector<Value> b = bind_args("joiner", args, {{"sep"}}, {Value::string(", ")});
      auto* c = new detail::CyclerObj();
      c->joiner = true;
      c->items = {b[0]};
      return Value::adopt(ValueKind::kCycler, c);
    }
    case kRaiseException: {
      const std::string msg = args.pos.empty() ? std::string() : to_str(args.pos[0]);
      throw RenderError(TemplateErrorKind::kRaised, msg);
    }
    case kStrftimeNow: {
      std::vector<Value> b = bind_args("strftime_now", args, {{"format", true}});
      if (!b[0].is_string()) throw_render("strftime() argument 1 must be str, not " + std::string(py_type_name(b[0])));
      const std::time_t t = std::time(nullptr);
      std::tm tm{};
      localtime_r(&t, &tm);
      const std::string fmt(b[0].as_string());
      std::string buf(256 + fmt.size() * 8, '\0');
      const size_t n = fmt.empty() ? 0 : std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
      buf.resize(n);
      return Value::string(buf);
    }
    case kLipsum: throw_unsupported("lipsum() is not supported by agentserve");
    default: break;
  }
  throw_render("unknown global");
}

}  // namespace agentserve::tmpl
