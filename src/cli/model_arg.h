// The --model argument shared by generate, bench and serve: a Hugging Face model directory,
// or, when omitted, the default test model (a `small` Qwen3 made on first use into the user's
// cache directory).
#pragma once

#include <string>

#include "base/error.h"

namespace agentserve::cli {

Result<std::string> resolve_model_dir(const std::string& model_arg);

// Prints "agentserve <command>: <message>" to stderr and returns 1 (the exit status).
int report_error(const char* command, const Error& error);

}  // namespace agentserve::cli
