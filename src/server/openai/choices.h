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
  virtual void on_choice_finish(int index, const GenerationResult& result) = 0;
  virtual void on_all_finished() = 0;
};

// Submits n generations of `base` (choice i with seed + i). Each is cancelled when the client
// goes away.
void run_choices(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange,
                 const ServedModel& model, const GenerationSpec& base, int n,
                 std::shared_ptr<ChoiceEncoder> encoder);

}  // namespace agentserve::server::openai
