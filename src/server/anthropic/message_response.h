// The complete (non-streamed) Messages answer: collects the generation and responds once with
// {id, type: "message", role, model, content, stop_reason, stop_sequence, usage}.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/generation.h"
#include "server/http_exchange.h"

namespace agentserve::server::anthropic {

// The message object around `content` (an array of blocks).
nlohmann::ordered_json message_body(const std::string& model, nlohmann::ordered_json content,
                                    const GenerationResult& result, bool max_tokens_clamped);

// Content blocks in the order they were generated: thinking (signature ""), text, tool_use.
class MessageResponse : public GenerationSink {
 public:
  MessageResponse(std::shared_ptr<HttpExchange> exchange, std::string model, bool max_tokens_clamped)
      : exchange_(std::move(exchange)), model_(std::move(model)), clamped_(max_tokens_clamped) {}

  void on_reasoning(std::string_view text) override { append(Block::Kind::kThinking, text); }
  void on_text(std::string_view text) override { append(Block::Kind::kText, text); }
  void on_tool_call_begin(int index, std::string_view name) override;
  void on_tool_call_args(int index, std::string_view fragment) override;
  void on_tool_call_end(int index, bool complete, std::string_view raw) override;
  void on_finish(const GenerationResult& result) override;

 private:
  struct Block {
    enum class Kind { kThinking, kText, kToolUse };
    Kind kind;
    std::string text;  // thinking / text; tool_use: the input JSON text
    std::string name;  // tool_use
  };
  void append(Block::Kind kind, std::string_view text);

  std::shared_ptr<HttpExchange> exchange_;
  std::string model_;
  bool clamped_;
  std::vector<Block> blocks_;
  int open_call_ = -1;  // blocks_ index of the tool_use being generated
};

}  // namespace agentserve::server::anthropic
