#include "server/request_fields.h"

#include <algorithm>
#include <cmath>

#include "base/utf8.h"

namespace agentserve::server {

using nlohmann::ordered_json;

void throw_request_error(std::string message, std::string param, int status, std::string code) {
  throw RequestError{ApiError{status, std::move(message), std::move(code), std::move(param)}};
}

std::string json_type_name(const ordered_json& v) {
  switch (v.type()) {
    case ordered_json::value_t::null: return "null";
    case ordered_json::value_t::boolean: return "a boolean";
    case ordered_json::value_t::number_integer:
    case ordered_json::value_t::number_unsigned: return "an integer";
    case ordered_json::value_t::number_float: return "a number";
    case ordered_json::value_t::string: return "a string";
    case ordered_json::value_t::array: return "an array";
    case ordered_json::value_t::object: return "an object";
    default: return "an unsupported value";
  }
}

ordered_json parse_body(const std::string& body) {
  if (body.empty()) throw_request_error("the request body is empty; expected a JSON object");
  if (!utf8_is_valid(body)) throw_request_error("the request body is not valid UTF-8");
  ordered_json j;
  try {
    j = ordered_json::parse(body);
  } catch (const ordered_json::parse_error& e) {
    // nlohmann's message carries the byte offset ("at line 1, column 17").
    throw_request_error(std::string("the request body is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw_request_error("the request body must be a JSON object, not " + json_type_name(j));
  return j;
}

namespace {

const ordered_json* field(const ordered_json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string range_text(double lo, double hi) {
  auto fmt = [](double v) {
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
    std::string s = std::to_string(v);
    while (!s.empty() && s.back() == '0') s.pop_back();
    return s;
  };
  return "between " + fmt(lo) + " and " + fmt(hi);
}

}  // namespace

std::optional<double> opt_number(const ordered_json& obj, const char* key, double lo, double hi) {
  const ordered_json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_number())
    throw_request_error(std::string(key) + " must be a number, not " + json_type_name(*v), key);
  const double d = v->get<double>();
  if (!(d >= lo && d <= hi))
    throw_request_error(std::string(key) + " must be " + range_text(lo, hi) + ", got " + v->dump(), key);
  return d;
}

std::optional<int64_t> opt_int(const ordered_json& obj, const char* key, int64_t lo, int64_t hi) {
  const ordered_json* v = field(obj, key);
  if (!v) return std::nullopt;
  bool integral = v->is_number_integer() || v->is_number_unsigned();
  if (v->is_number_float()) {
    const double d = v->get<double>();
    integral = std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15;
  }
  if (!integral)
    throw_request_error(std::string(key) + " must be an integer, not " +
                            (v->is_number() ? v->dump() : json_type_name(*v)),
                        key);
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi))
    throw_request_error(std::string(key) + " must be " + range_text(static_cast<double>(lo), static_cast<double>(hi)) + ", got " + v->dump(), key);
  const int64_t i = v->is_number_float() ? static_cast<int64_t>(v->get<double>()) : v->get<int64_t>();
  if (i < lo || i > hi)
    throw_request_error(std::string(key) + " must be " +
                            range_text(static_cast<double>(lo), static_cast<double>(hi)) + ", got " +
                            std::to_string(i),
                        key);
  return i;
}

std::optional<bool> opt_bool(const ordered_json& obj, const char* key) {
  const ordered_json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_boolean())
    throw_request_error(std::string(key) + " must be a boolean, not " + json_type_name(*v), key);
  return v->get<bool>();
}

std::optional<std::string> opt_string(const ordered_json& obj, const char* key) {
  const ordered_json* v = field(obj, key);
  if (!v) return std::nullopt;
  if (!v->is_string())
    throw_request_error(std::string(key) + " must be a string, not " + json_type_name(*v), key);
  return v->get<std::string>();
}

std::vector<std::string> opt_string_list(const ordered_json& obj, const char* key, size_t max_count) {
  const ordered_json* v = field(obj, key);
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) {
    if (!v->get_ref<const std::string&>().empty()) out.push_back(v->get<std::string>());
    return out;
  }
  if (!v->is_array())
    throw_request_error(std::string(key) + " must be a string or an array of strings, not " + json_type_name(*v), key);
  if (v->size() > max_count)
    throw_request_error(std::string(key) + " has " + std::to_string(v->size()) +
                            " entries; at most " + std::to_string(max_count) + " are allowed",
                        key);
  for (size_t i = 0; i < v->size(); ++i) {
    const ordered_json& s = (*v)[i];
    if (!s.is_string())
      throw_request_error(std::string(key) + "[" + std::to_string(i) + "] must be a string, not " + json_type_name(s), key);
    if (!s.get_ref<const std::string&>().empty()) out.push_back(s.get<std::string>());
  }
  return out;
}

std::optional<OutputBudget> fit_output(int64_t prompt_tokens, std::optional<int64_t> requested,
                                       int32_t max_context) {
  const int64_t room = static_cast<int64_t>(max_context) - prompt_tokens;
  if (room <= 0) return std::nullopt;
  OutputBudget b;
  const int64_t want = requested.value_or(room);
  b.clamped = want > room;
  b.max_tokens = static_cast<int32_t>(std::min(want, room));
  return b;
}

}  // namespace agentserve::server
