// agentserve: one binary, many subcommands (see commands.h).
#include <CLI/CLI.hpp>

#include "base/log.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"agentserve " AGENTSERVE_VERSION
               " - a local LLM inference server for coding agents"};
  app.set_version_flag("--version", std::string("agentserve ") + AGENTSERVE_VERSION);
  app.require_subcommand(1);
  // --log-level may also follow the subcommand (agentserve serve --model M --log-level debug).
  app.fallthrough();
  // Applied as soon as it is parsed: a subcommand's callback (serve runs until shutdown) runs
  // before the app's parse-complete callback would.
  app.add_option_function<std::string>(
         "--log-level",
         [](const std::string& name) {
           agentserve::LogLevel level;
           if (!agentserve::parse_log_level(name, &level))
             throw CLI::ValidationError("--log-level", "expected debug, info, warn, error or off");
           agentserve::set_log_level(level);
         },
         "debug, info, warn, error or off (default info)")
      ->trigger_on_parse();

  int exit_code = 0;
  agentserve::cli::add_serve_command(app, &exit_code);
  agentserve::cli::add_generate_command(app, &exit_code);
  agentserve::cli::add_bench_command(app, &exit_code);
  agentserve::cli::add_bench_batch_command(app, &exit_code);
  agentserve::cli::add_make_test_model_command(app, &exit_code);
  agentserve::cli::add_tokenize_command(app, &exit_code);
  agentserve::cli::add_template_command(app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
