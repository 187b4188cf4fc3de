// agentserve template: render a conversation through a model's chat template — the prompt the
// model would see, its token count, and what agentserve adapted. The tool to reach for when a
// model misbehaves.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "base/mmap_file.h"
#include "cli/commands.h"
#include "cli/model_arg.h"
#include "cli/tool_format_arg.h"
#include "text/chat/chat_template.h"
#include "text/chat/conversation_json.h"
#include "text/tokenizer/tokenizer.h"

namespace agentserve::cli {
namespace {

using nlohmann::ordered_json;

struct TemplateArgs {
  std::string model;
  std::string messages_file;
  std::string tools_file;
  bool no_generation_prompt = false;
  std::string enable_thinking;  // "", "true", "false"
  std::string kwargs;           // JSON object
  bool show_ids = false;
  bool show_capabilities = false;
};

Result<ordered_json> read_json_file(const std::string& path) {
  AS_ASSIGN_OR_RETURN(std::string text, read_file(path));
  ordered_json j = ordered_json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(ErrorKind::kInvalidArgument, path + ": not valid JSON");
  return j;
}

int run_template(const TemplateArgs& a) {
  auto fail = [](const Error& e) { return report_error("template", e); };
  auto dir = resolve_model_dir(a.model);
  if (!dir.ok()) return fail(dir.error());
  auto tokenizer = Tokenizer::load_from_model_dir(*dir);
  if (!tokenizer.ok()) return fail(tokenizer.error());
  auto chat = chat::ChatTemplate::load(*dir, **tokenizer);
  if (!chat.ok()) return fail(chat.error());

  // The messages file is a JSON array of messages, or an OpenAI request body.
  auto body = read_json_file(a.messages_file);
  if (!body.ok()) return fail(body.error());
  ordered_json messages = *body, tools = nullptr;
  if (body->is_object()) {
    messages = body->value("messages", ordered_json());
    tools = body->value("tools", ordered_json());
  }
  if (!a.tools_file.empty()) {
    auto t = read_json_file(a.tools_file);
    if (!t.ok()) return fail(t.error());
    tools = *t;
  }
  chat::Conversation conv;
  chat::ParseNotes notes;
  auto parsed = chat::messages_from_openai(messages, &notes);
  if (!parsed.ok()) return fail(parsed.error());
  conv.messages = std::move(*parsed);
  auto parsed_tools = chat::tools_from_openai(tools);
  if (!parsed_tools.ok()) return fail(parsed_tools.error());
  conv.tools = std::move(*parsed_tools);
  conv.add_generation_prompt = !a.no_generation_prompt;
  if (!a.enable_thinking.empty()) conv.enable_thinking = a.enable_thinking == "true";
  if (!a.kwargs.empty()) {
    conv.template_kwargs = ordered_json::parse(a.kwargs, nullptr, false);
    if (!conv.template_kwargs.is_object())
      return fail(make_error(ErrorKind::kInvalidArgument, "--kwargs: expected a JSON object"));
  }

  auto rendered = (*chat)->render(conv);
  if (!rendered.ok()) return fail(rendered.error());
  std::fwrite(rendered->text.data(), 1, rendered->text.size(), stdout);
  std::fflush(stdout);
  if (a.show_ids) {
    std::fprintf(stderr, "\n--- token ids ---\n");
    for (size_t i = 0; i < rendered->token_ids.size(); ++i)
      std::fprintf(stderr, "%s%d", i ? " " : "", rendered->token_ids[i]);
    std::fprintf(stderr, "\n");
  }
  std::fprintf(stderr, "\n--- %zu tokens, %zu bytes, template of %s ---\n",
               rendered->token_ids.size(), rendered->text.size(), dir->c_str());
  std::fprintf(stderr, "tool-call format: %s\n",
               describe_tool_format(detected_tool_format(**tokenizer), "").c_str());
  for (const std::string& n : notes.dropped)
    std::fprintf(stderr, "dropped content part of unknown type: %s\n", n.c_str());
  for (const std::string& n : rendered->notes) std::fprintf(stderr, "adapted: %s\n", n.c_str());
  if (!rendered->protected_ranges.empty())
    std::fprintf(stderr, "%zu special-token texts from the client encoded as plain text\n",
                 rendered->protected_ranges.size());
  if (a.show_capabilities)
    std::fprintf(stderr, "template capabilities%s:\n%s",
                 conv.tools.empty() || !(*chat)->has_tool_use_template() ? "" : " (tool_use template)",
                 (*chat)->capabilities(!conv.tools.empty()).describe().c_str());
  return 0;
}

}  // namespace

void add_template_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "template", "Render a conversation through a model's chat template (prompt + token count)");
  auto a = std::make_shared<TemplateArgs>();
  cmd->add_option("--model", a->model, "Model directory (default: the default test model)");
  cmd->add_option("--messages", a->messages_file,
                  "JSON file: an array of OpenAI-style messages, or a request body with "
                  "\"messages\" and \"tools\"")
      ->required();
  cmd->add_option("--tools", a->tools_file, "JSON file: an array of OpenAI-style tools");
  cmd->add_flag("--no-generation-prompt", a->no_generation_prompt,
                "Do not end with the assistant turn's opening");
  cmd->add_option("--enable-thinking", a->enable_thinking, "Pass enable_thinking to the template")
      ->check(CLI::IsMember({"true", "false"}));
  cmd->add_option("--kwargs", a->kwargs, "Extra template variables, as a JSON object");
  cmd->add_flag("--ids", a->show_ids, "Also print the token ids (to stderr)");
  cmd->add_flag("--capabilities", a->show_capabilities,
                "Also print what the template can express (to stderr)");
  cmd->callback([a, exit_code] { *exit_code = run_template(*a); });
}

}  // namespace agentserve::cli
