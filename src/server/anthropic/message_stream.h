// The streamed Messages answer: generation callbacks → Anthropic SSE events.
//
//   message_start (content [], full usage: input_tokens is the part of the prompt the prefix
//     cache did not supply, cache_read_input_tokens the part it did) · ping
//   per block, indices 0, 1, ...: content_block_start · *_delta ... · content_block_stop
//     (a thinking block ends with exactly one signature_delta; a tool_use block starts with
//      its id and name and `input: {}`, its input follows as input_json_delta fragments whose
//      concatenation is the input object; a block is closed before the next opens)
//   message_delta (stop_reason, stop_sequence, cumulative usage) · message_stop
//
// An engine failure after message_start becomes an `error` event, then the stream ends.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/generation.h"
#include "server/http_exchange.h"

namespace agentserve::server::anthropic {

class MessageStream : public GenerationSink, public std::enable_shared_from_this<MessageStream> {
 public:
  MessageStream(std::shared_ptr<HttpExchange> exchange, std::string model, bool max_tokens_clamped);

  // Starts the response (status and headers go out at once) and sends message_start and a
  // ping. With `wait` > 0 (the stream is shared and a generation follows), message_start waits
  // for on_started — the engine's prefix-cache lookup, before its prefill — so its usage splits
  // the prompt into input and cache-read tokens as Anthropic's does; if the request is still
  // queued after `wait`, it goes with the whole prompt as input_tokens (message_delta then
  // carries the split). `ping_interval` > 0: a ping whenever the stream is quiet that long,
  // from message_start on (Claude Code aborts a stream silent for 300 s; a long prefill must
  // not look like one).
  void begin(int32_t prompt_tokens, std::chrono::milliseconds wait = {},
             std::chrono::milliseconds ping_interval = {});

  void on_started(int32_t prompt_tokens, int32_t cached_prompt_tokens) override;
  void on_reasoning(std::string_view text) override;
  void on_text(std::string_view text) override;
  void on_tool_call_begin(int index, std::string_view name) override;
  void on_tool_call_args(int index, std::string_view fragment) override;
  void on_tool_call_end(int index, bool complete, std::string_view raw) override;
  void on_finish(const GenerationResult& result) override;

 private:
  enum class Block { kNone, kThinking, kText, kToolUse };
  // message_start and a ping, once; `cached` of the prompt's tokens came from the cache.
  void send_start(int32_t cached);
  void open(Block block);
  void close();
  void send(std::string_view event, const nlohmann::ordered_json& data);
  void send_delta(const char* type, const char* field, std::string_view text);

  std::shared_ptr<HttpExchange> exchange_;
  std::string id_;
  std::string model_;
  bool clamped_;
  int32_t prompt_tokens_ = 0;
  bool started_ = false;  // message_start sent
  std::chrono::milliseconds ping_interval_{};
  Block open_ = Block::kNone;
  int next_index_ = 0;  // the index the next block gets
};

}  // namespace agentserve::server::anthropic
