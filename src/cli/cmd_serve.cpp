// agentserve serve: the OpenAI and Anthropic APIs over HTTP for one model.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "base/log.h"
#include "cli/commands.h"
#include "cli/model_arg.h"
#include "cli/runtime.h"
#include "cli/tool_format_arg.h"
#include "server/api_routes.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/routes_common.h"
#include "server/test_script.h"
#include "text/chat/chat_template.h"

namespace agentserve::cli {
namespace {

struct ServeArgs {
  RuntimeOptions runtime;
  server::ServerOptions server;
  std::string served_name;
  std::vector<std::string> aliases;  // NAME=MODEL
  int max_body_mb = 32;
  int request_timeout_s = 120;
  int shutdown_grace_s = 30;
  int ping_interval_ms = 5000;
  int stream_buffer_mb = 64;
  std::string test_script;  // --test-script FILE (tests only)
  std::string tool_format;  // --tool-format NAME; "" or "auto": detect from the chat template
};

int run_serve(ServeArgs a) {
  // Tokens must reach sockets while every core computes the next step.
  a.runtime.compute_nice = 5;
  auto loaded = load_runtime(a.runtime);
  if (!loaded.ok()) return report_error("serve", loaded.error());
  Runtime& rt = **loaded;
  auto chat = chat::ChatTemplate::load(rt.model_dir, *rt.tokenizer);
  if (!chat.ok()) return report_error("serve", chat.error());

  server::ServedModel model;
  model.id = a.served_name.empty()
                 ? std::filesystem::path(rt.model_dir).lexically_normal().filename().string()
                 : a.served_name;
  if (model.id.empty()) model.id = std::filesystem::path(rt.model_dir).parent_path().filename().string();
  for (const std::string& alias : a.aliases) {
    const size_t eq = alias.find('=');
    const std::string name = alias.substr(0, eq);
    const std::string target = eq == std::string::npos ? model.id : alias.substr(eq + 1);
    if (name.empty() || target != model.id)
      return report_error("serve", make_error(ErrorKind::kInvalidArgument,
                                              "--alias " + alias + ": expected NAME=" + model.id +
                                                  " (the served model)"));
    model.aliases.push_back(name);
  }
  model.dir = rt.model_dir;
  model.created = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  model.config = &rt.model->config;
  model.tokenizer = rt.tokenizer.get();
  model.chat = chat->get();
  model.engine = rt.engine.get();
  model.max_context = rt.engine->max_context();
  model.stop_token_ids = rt.stop_token_ids;
  model.thinks = rt.tokenizer->chat_template().find("<think>") != std::string::npos;
  auto tool_format = resolve_tool_format(*rt.tokenizer, a.tool_format);
  if (!tool_format.ok()) return report_error("serve", tool_format.error());
  model.tool_format = *tool_format;
  if (!a.test_script.empty()) {
    auto script = server::TestScript::load(a.test_script, *rt.tokenizer, rt.stop_token_ids);
    if (!script.ok()) return report_error("serve", script.error());
    AS_LOG_INFO("test script {}: {} rules (scripted output for matching prompts)", a.test_script,
                (*script)->num_rules());
    model.test_script = std::move(*script);
  }
  model.kv_page_size = rt.backend->kv_geometry().page_size;
  model.kv_page_bytes = static_cast<int64_t>(rt.backend->kv_geometry().page_bytes());

  a.server.max_body_bytes = static_cast<size_t>(a.max_body_mb) << 20;
  a.server.request_timeout = std::chrono::seconds(a.request_timeout_s);
  a.server.shutdown_grace = std::chrono::seconds(a.shutdown_grace_s);
  a.server.ping_interval = std::chrono::milliseconds(a.ping_interval_ms);
  a.server.max_unsent_bytes = static_cast<size_t>(a.stream_buffer_mb) << 20;
  server::Metrics metrics;
  server::ServerContext ctx(a.server, model, &metrics);
  server::Router router;
  server::register_common_routes(router, ctx);
  server::register_api_routes(router, ctx);
  server::HttpServer http(ctx, router);
  if (Status st = http.listen(); !st.ok()) return report_error("serve", st.error());

  rt.engine->start();
  const std::string url = http.client_url();
  // Where the KV cache spills and what a restart found there.
  std::string kv_tiers = "off";
  if (rt.engine->kv_tiers() != nullptr) {
    const CacheStats cs = rt.engine->cache_stats();
    kv_tiers = fmt::format("RAM {:.1f} GiB", static_cast<double>(cs.ram.capacity_bytes) / (1 << 30));
    if (!cs.disk_dir.empty())
      kv_tiers += fmt::format(", disk {:.1f} GiB in {} ({} pages, {:.2f} GB cached)",
                              static_cast<double>(cs.disk.capacity_bytes) / (1 << 30), cs.disk_dir,
                              cs.disk.pages, static_cast<double>(cs.disk.bytes) / 1e9);
  }
  std::string cors = "no web page may call the API (--cors-origin ORIGIN allows one)";
  if (!a.server.cors_origins.empty()) {
    cors = "pages from";
    for (const std::string& o : a.server.cors_origins) cors += " " + o;
    cors += " may call the API (CORS)";
  }
  std::fprintf(stderr,
               "\nagentserve %s is serving %s on %s\n"
               "  model     %s (%s, %.2fB parameters), context %d tokens\n"
               "  backend   %s, KV cache %.2f GB\n"
               "  KV tiers  %s\n"
               "  tools     %s\n"
               "  auth      %s\n"
               "  browsers  %s\n\n"
               "Point Claude Code at it:\n"
               "  ANTHROPIC_BASE_URL=%s ANTHROPIC_AUTH_TOKEN=%s "
               "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 claude\n"
               "Point an OpenAI client at it:\n"
               "  OPENAI_BASE_URL=%s/v1 OPENAI_API_KEY=%s\n\n",
               AGENTSERVE_VERSION, model.id.c_str(),
               (url + (http.on_every_interface() ? " (and every other interface)" : "")).c_str(),
               rt.model_dir.c_str(),
               rt.model->config.architecture.c_str(),
               static_cast<double>(rt.model->config.num_parameters()) / 1e9, model.max_context,
               rt.backend->name().c_str(), static_cast<double>(rt.backend->kv_pool_bytes()) / 1e9,
               kv_tiers.c_str(), describe_tool_format(model.tool_format, a.tool_format).c_str(),
               a.server.api_key.empty() ? "none (any key is accepted)" : "API key required",
               cors.c_str(), url.c_str(), a.server.api_key.empty() ? "dummy" : "<your key>", url.c_str(),
               a.server.api_key.empty() ? "dummy" : "<your key>");
  std::fflush(stderr);
  http.run();
  // Requests still in flight hold their exchanges, whose timers belong to the server's I/O
  // contexts: let them go (render jobs finish, the engine and its sequences are destroyed — the
  // disk tier's writer drains here) while those contexts still exist, i.e. before `http` is.
  ctx.stop_workers();
  rt.engine->stop();
  rt.engine.reset();
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("serve", "Serve the OpenAI and Anthropic APIs over HTTP");
  auto a = std::make_shared<ServeArgs>();
  add_runtime_options(cmd, &a->runtime);
  cmd->add_option("--host", a->server.host,
                  "Address to listen on: IPv4, IPv6 or a name (localhost); 0.0.0.0 or :: for "
                  "every interface")
      ->capture_default_str();
  cmd->add_option("--port", a->server.port, "Port (0: any free one)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--api-key", a->server.api_key,
                  "Require this key (x-api-key or Authorization: Bearer)")
      ->envname("AGENTSERVE_API_KEY");
  cmd->add_option("--parallel", a->runtime.parallel, "Sequences computed at once")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--served-name", a->served_name,
                  "The model's public name (default: its directory's name)");
  cmd->add_option("--alias", a->aliases, "Another name for the model: NAME=MODEL (repeatable)");
  cmd->add_option("--io-threads", a->server.io_threads,
                  "HTTP I/O threads (parse, respond, stream tokens to sockets); 0: 1 on up to 4 "
                  "cores, else 2")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  cmd->add_option("--handover-us", a->runtime.handover_window_us,
                  "Wake the I/O threads for a step's tokens in groups spanning at most this many "
                  "µs (fewer wake-ups paid by the engine thread); 0: for every token at once")
      ->check(CLI::Range(0, 900))
      ->capture_default_str();
  cmd->add_option("--ping-interval-ms", a->ping_interval_ms,
                  "While a stream is quiet (long prefill), send a keep-alive frame this often")
      ->check(CLI::Range(10, 600000))
      ->capture_default_str();
  cmd->add_option("--stream-buffer-mb", a->stream_buffer_mb,
                  "Unsent output a streamed response may hold for a client that stopped reading; "
                  "beyond it the request is cancelled and its connection closed")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_flag("!--no-prompt-hygiene", a->server.prompt_hygiene,
                 "Send system prompts to the template exactly as received (default: Claude "
                 "Code's per-request attribution hash cch= is replaced by a fixed value so it "
                 "does not defeat the prefix cache)");
  cmd->add_option("--max-body-mb", a->max_body_mb, "Largest request body, in MiB")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--request-timeout", a->request_timeout_s,
                  "Seconds a request may take to arrive whole from its first byte (header and "
                  "body); past it 408 and the connection is closed")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  cmd->add_option("--shutdown-grace", a->shutdown_grace_s,
                  "On SIGTERM, seconds that requests in progress may take to finish (new ones are "
                  "refused meanwhile); 0: stop at once. SIGINT or a second signal stops at once")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  cmd->add_option("--cors-origin", a->server.cors_origins,
                  "Let web pages from this origin call the API from a browser, e.g. "
                  "http://localhost:3000 (repeatable; * for any; default: none)");
  cmd->add_option("--tool-format", a->tool_format,
                  "How the model writes tool calls (parsed into the APIs' tool calls): auto "
                  "(default: detected from the chat template) or one of: " + tools::format_names());
  cmd->add_option("--test-script", a->test_script,
                  "For tests only: make the model say scripted text. A JSON file "
                  "{\"rules\": [{\"when\": [\"substring\", ...], \"output\": \"text\", "
                  "\"end\": true}]}: the first rule whose substrings all occur in a prompt "
                  "supplies the output (special tokens recognised; end: the turn ends after it)");
  cmd->callback([a, exit_code] { *exit_code = run_serve(*a); });
}

}  // namespace agentserve::cli
