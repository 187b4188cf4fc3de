// The complete (non-streamed) Messages answer: collects the generation and responds once with
// {id, type: "message", role, model, content, stop_reason, stop_sequence, usage}.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "server/generation.h"
#include "server/http_exchange.h"

namespace agentserve::server::anthropic {

// The message object. Content: a thinking block (signature "") when the model reasoned, then a
// text block when it answered; [] when it produced nothing.
nlohmann::ordered_json message_body(const std::string& model, const std::string& reasoning,
                                    const std::string& text, const GenerationResult& result,
                                    bool max_tokens_clamped);

class MessageResponse : public GenerationSink {
 public:
  MessageResponse(std::shared_ptr<HttpExchange> exchange, std::string model, bool max_tokens_clamped)
      : exchange_(std::move(exchange)), model_(std::move(model)), clamped_(max_tokens_clamped) {}

  void on_reasoning(std::string_view text) override { reasoning_ += text; }
  void on_text(std::string_view text) override { text_ += text; }
  void on_finish(const GenerationResult& result) override;

 private:
  std::shared_ptr<HttpExchange> exchange_;
  std::string model_;
  bool clamped_;
  std::string reasoning_, text_;
};

}  // namespace agentserve::server::anthropic
