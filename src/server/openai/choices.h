// The `n` parameter: one request, n independent generations (each its own GenerationSpec and
// engine sequence), one answer. The encoders of both endpoints see every event tagged with its
// choice index, and a final call once the last generation has finished. Everything runs on the
// exchange's I/O thread, so encoders need no locks.
#pragma once

#include <memory>
#include <string_view>

#include "server/generation.h"

namespace agentserve::server::openai {

class ChoiceEncoder {
 public:
  virtual ~ChoiceEncoder() = default;
  virtual void on_reasoning(int index, std::string_view text) { (void)index; (void)text; }
  virtual void on_text(int index, std::string_view text) = 0;
  virtual void on_token(int index, const SampleResult& sample, std::string_view bytes) {
    (void)index; (void)sample; (void)bytes;
  }
  // Tool calls (generation.h). Only /v1/chat/completions turns tool parsing on
  // (GenerationSpec::tool_parsing); /v1/completions encoders never receive these.
  virtual void on_tool_call_begin(int index, int call, std::string_view name) {
    (void)index; (void)call; (void)name;
  }
  virtual void on_tool_call_args(int index, int call, std::string_view fragment) {
    (void)index; (void)call; (void)fragment;
  }
  virtual void on_tool_call_end(int index, int call, bool complete, std::string_view raw) {
    (void)index; (void)call; (void)complete; (void)raw;
  }
  virtual void on_choice_finish(int index, const GenerationResult& result) = 0;
  virtual void on_all_finished() = 0;
};

// Submits n generations of `base` (choice i with seed + i). Each is cancelled when the client
// goes away.
void run_choices(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange,
                 const ServedModel& model, const GenerationSpec& base, int n,
                 std::shared_ptr<ChoiceEncoder> encoder);

}  // namespace agentserve::server::openai
