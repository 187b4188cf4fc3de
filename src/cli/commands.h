// Each subcommand lives in cmd_<name>.cpp and registers itself on the CLI11 app. A command's
// callback stores its exit status in *exit_code (0 on success, 1 on a user-facing error,
// which it prints as "agentserve <command>: <message>").
#pragma once

namespace CLI {
class App;
}

namespace agentserve::cli {

void add_tokenize_command(CLI::App& app, int* exit_code);
void add_make_test_model_command(CLI::App& app, int* exit_code);
void add_generate_command(CLI::App& app, int* exit_code);
void add_bench_command(CLI::App& app, int* exit_code);
void add_bench_batch_command(CLI::App& app, int* exit_code);
void add_template_command(CLI::App& app, int* exit_code);
void add_serve_command(CLI::App& app, int* exit_code);

}  // namespace agentserve::cli
