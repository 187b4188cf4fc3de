// Agent prompt hygiene: system-prompt text that agents make volatile for reasons unrelated to
// the model, rewritten so that it no longer defeats the prefix cache (issue 5, item 4).
//
// Claude Code starts its system prompt with an attribution line,
//   x-anthropic-billing-header: cc_version=2.1.3.abc; cc_entrypoint=cli; cch=9a8f7;
// whose `cch` (a hash) changes with every request in older versions. It sits before ~20k tokens
// of system prompt and tool schemas, so a changed hash makes every request a full prefill.
//
// What we do: keep the line and replace only the cch value by a fixed one (kFixedCch). The
// alternatives were to drop the block (vLLM strips it; this server did before) or to rewrite the
// hash (llama.cpp writes "fffff"). Rewriting wins because it keeps the prompt byte-stable across
// requests and otherwise exactly what the client sent: the model reads the client's system
// prompt, count_tokens and input_tokens count it, and --no-prompt-hygiene differs from the
// default by one hash. cc_version stays: it changes only when the client is upgraded, which
// brings a new system prompt (and one cache miss) anyway.
#pragma once

#include <string>
#include <string_view>

namespace agentserve::server {

inline constexpr std::string_view kAttributionPrefix = "x-anthropic-billing-header:";
inline constexpr std::string_view kFixedCch = "00000";

// In every line of `text` that starts with kAttributionPrefix, replaces the value of each
// `cch=` field (up to ';', whitespace or the line's end) by kFixedCch. Returns whether `text`
// changed. Other text, including other lines of the same string, is left alone: clients that
// proxy Claude Code through the OpenAI API may join its system blocks into one message.
bool normalize_attribution(std::string* text);

}  // namespace agentserve::server
