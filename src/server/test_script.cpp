#include "server/test_script.h"

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/mmap_file.h"

namespace agentserve::server {

using nlohmann::json;

Result<std::unique_ptr<TestScript>> TestScript::load(const std::string& path,
                                                     const Tokenizer& tokenizer,
                                                     std::span<const int32_t> stop_token_ids) {
  auto text = read_file(path);
  if (!text.ok()) return make_error(text.error().kind, "--test-script " + text.error().message);
  return parse(*text, path, tokenizer, stop_token_ids);
}

Result<std::unique_ptr<TestScript>> TestScript::parse(std::string_view text,
                                                      const std::string& name,
                                                      const Tokenizer& tokenizer,
                                                      std::span<const int32_t> stop_token_ids) {
  auto fail = [&](const std::string& what) {
    return make_error(ErrorKind::kInvalidArgument, "--test-script " + name + ": " + what);
  };
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return fail(std::string("not valid JSON: ") + e.what());
  }
  const char* expected =
      R"(expected {"rules": [{"when": ["substring", ...], "output": "text", "end": true, "fail": "message"}, ...]})";
  if (!j.is_object() || !j.contains("rules")) return fail(std::string("no \"rules\"; ") + expected);
  for (const auto& [key, value] : j.items())
    if (key != "rules") return fail("unknown key \"" + key + "\"; " + expected);
  const json& rules = j["rules"];
  if (!rules.is_array() || rules.empty()) return fail("\"rules\" must be a non-empty array");

  auto script = std::unique_ptr<TestScript>(new TestScript(tokenizer));
  for (size_t i = 0; i < rules.size(); ++i) {
    const json& r = rules[i];
    const std::string at = "rules[" + std::to_string(i) + "]";
    if (!r.is_object()) return fail(at + " must be an object");
    // Unknown keys are refused: a misspelt "output" or "end" would silently change the script.
    for (const auto& [key, value] : r.items())
      if (key != "when" && key != "output" && key != "end" && key != "fail")
        return fail(at + ": unknown key \"" + key + "\" (known: when, output, end, fail)");
    Rule rule;
    auto when = r.find("when");
    if (when == r.end() || !when->is_array())
      return fail(at + ".when must be an array of strings ([] matches every prompt)");
    for (const json& s : *when) {
      if (!s.is_string()) return fail(at + ".when must be an array of strings");
      rule.when.push_back(s.get<std::string>());
    }
    auto output = r.find("output");
    if (output == r.end() || !output->is_string()) return fail(at + ".output must be a string");
    if (auto f = r.find("fail"); f != r.end()) {
      if (!f->is_string() || f->get<std::string>().empty())
        return fail(at + ".fail must be a non-empty message");
      rule.failure = f->get<std::string>();
    }
    // A failing rule's turn ends in its failure, not in a stop token.
    bool end = rule.failure.empty();
    if (auto e = r.find("end"); e != r.end()) {
      if (!e->is_boolean()) return fail(at + ".end must be true or false");
      end = e->get<bool>();
      if (end && !rule.failure.empty()) return fail(at + ": \"end\": true and \"fail\" exclude each other");
    }
    std::vector<int32_t> tokens =
        tokenizer.encode(output->get<std::string>(), SpecialTokenMode::kRecognize);
    if (end) {
      if (stop_token_ids.empty())
        return fail(at + ".end is true but the model has no stop token to end the turn with");
      tokens.push_back(stop_token_ids.front());
    }
    if (tokens.empty() && rule.failure.empty())
      return fail(at + " outputs nothing (empty output and \"end\": false)");
    rule.tokens = std::make_shared<const std::vector<int32_t>>(std::move(tokens));
    script->rules_.push_back(std::move(rule));
  }
  return script;
}

int TestScript::match(std::string_view prompt_text) const {
  for (size_t i = 0; i < rules_.size(); ++i) {
    bool all = true;
    for (const std::string& s : rules_[i].when)
      if (prompt_text.find(s) == std::string_view::npos) {
        all = false;
        break;
      }
    if (all) return static_cast<int>(i);
  }
  return -1;
}

void TestScript::apply(GenerationRequest* request) const {
  const int i = match(tokenizer_.decode(request->prompt));
  if (i < 0) return;
  const Rule& rule = rules_[static_cast<size_t>(i)];
  AS_LOG_INFO("scripted output: rule {} ({} tokens{})", i, rule.tokens->size(),
              rule.failure.empty() ? "" : ", then a failure");
  request->forced_tokens = rule.tokens;
  request->forced_failure = rule.failure;
}

}  // namespace agentserve::server
