// The bridge between an API request and the engine: render the conversation (worker thread),
// then generate and turn tokens into text pieces for the API encoders (I/O thread).
//
// Text pipeline per request: token ids → UTF-8-safe detokenizer → stop strings (matched
// across token boundaries, held back until they cannot match, never emitted) → reasoning
// split (<think>…</think> → on_reasoning, the rest →) tool-call parser (tools/: calls →
// on_tool_call_*, text → on_text). A call written inside a <think> block never reaches the
// parser, so it is never a call. For gpt-oss the harmony parser replaces the <think> split:
// it separates the analysis channel (reasoning) itself.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "engine/request.h"
#include "server/http_exchange.h"
#include "server/prompt_divergence.h"
#include "server/server_context.h"
#include "text/chat/chat_template.h"
#include "tools/tool_parser.h"

namespace agentserve::server {

struct GenerationSpec {
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  int32_t max_tokens = 0;                 // validated by the API layer: prompt + max fits
  std::vector<std::string> stop_strings;  // OpenAI `stop`, Anthropic `stop_sequences`
  bool split_reasoning = false;           // the model thinks: route <think>…</think> apart
  bool starts_in_reasoning = false;       // the prompt itself opened <think>
  bool ignore_eos = false;
  // Tool calls parsed out of the answer (format kNone: the text passes through untouched).
  tools::ParserOptions tool_parsing;
  // At most this many tool calls (OpenAI parallel_tool_calls false, Anthropic
  // disable_parallel_tool_use: 1): generation stops once the last allowed call completes, the
  // turn ending as if the model had ended it there. 0: any number.
  int max_tool_calls = 0;
  // Text the turn starts with that the prompt already holds (the tool_choice prefill,
  // tool_parsing.h): it goes through the text pipeline as if generated, before the first token.
  std::string output_prefix;
  // Debug logging only: the request's blocks in the rendered prompt, so that the divergence
  // log names the block where the prompt left the cache (prompt_divergence.h). May be null.
  std::shared_ptr<const PromptMap> prompt_map;
};

enum class StopKind {
  kEndOfTurn,    // an end-of-generation token
  kStopString,   // one of stop_strings (in `stop_string`)
  kMaxTokens,    // max_tokens reached
  kContextFull,  // the context window filled before max_tokens
  kCancelled,    // the client went away
  kError,        // the engine failed (in `error`)
};

struct GenerationResult {
  StopKind stop = StopKind::kEndOfTurn;
  std::string stop_string;
  std::string error;
  int32_t prompt_tokens = 0;
  int32_t cached_prompt_tokens = 0;
  int32_t completion_tokens = 0;
  int32_t reasoning_tokens = 0;  // completion tokens spent inside <think>
  int32_t tool_calls = 0;        // calls that completed (finish_reason tool_calls / tool_use)
};

// Callbacks on the exchange's I/O thread, in generation order. on_finish comes last, once.
class GenerationSink {
 public:
  virtual ~GenerationSink() = default;
  // The engine admitted the request and looked its prompt up in the prefix cache, before its
  // prefill: `cached_prompt_tokens` of `prompt_tokens` came from the cache. Before any output.
  virtual void on_started(int32_t prompt_tokens, int32_t cached_prompt_tokens) {
    (void)prompt_tokens;
    (void)cached_prompt_tokens;
  }
  virtual void on_reasoning(std::string_view text) = 0;
  virtual void on_text(std::string_view text) = 0;
  // Each sampled token, with its logprobs when the request asked for them (OpenAI logprobs).
  virtual void on_token(const SampleResult& sample, std::string_view token_bytes) {
    (void)sample;
    (void)token_bytes;
  }
  // A tool call: its name is complete (begin), a fragment of its arguments JSON (args), and
  // its end. `complete` false: generation ended inside it or it broke its format; `raw` is
  // then its generated text, which a complete (non-streamed) answer returns as text.
  virtual void on_tool_call_begin(int index, std::string_view name) = 0;
  virtual void on_tool_call_args(int index, std::string_view fragment) = 0;
  virtual void on_tool_call_end(int index, bool complete, std::string_view raw) = 0;
  virtual void on_finish(const GenerationResult& result) = 0;
};

// Renders `conversation` with the model's chat template on a worker thread; `done` runs on the
// exchange's I/O thread. (count_tokens uses it too: the count is exact.)
void render_prompt(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange,
                   const ServedModel& model, chat::Conversation conversation,
                   std::function<void(Result<chat::RenderedPrompt>)> done);

// Whether a rendered prompt leaves the model inside a reasoning block (it ends with "<think>").
bool prompt_opens_reasoning(std::string_view prompt_text);

// Submits the generation to the engine. Sink callbacks run on the exchange's I/O thread; the
// generation is cancelled when the client goes away.
void start_generation(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange,
                      const ServedModel& model, GenerationSpec spec,
                      std::shared_ptr<GenerationSink> sink);

// Several generations of one request (OpenAI `n`), submitted to the engine together: they are
// admitted in the same step, so a seeded request computes the same batches — and samples the
// same tokens — every time it is sent, whatever else the engine is doing.
void start_generations(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange,
                       const ServedModel& model, std::vector<GenerationSpec> specs,
                       std::vector<std::shared_ptr<GenerationSink>> sinks);

}  // namespace agentserve::server
