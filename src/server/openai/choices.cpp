#include "server/openai/choices.h"

#include "server/openai/common.h"

namespace agentserve::server::openai {
namespace {

struct Fanout {
  std::shared_ptr<ChoiceEncoder> encoder;
  int remaining = 0;
};

class ChoiceSink : public GenerationSink {
 public:
  ChoiceSink(std::shared_ptr<Fanout> fanout, int index) : fanout_(std::move(fanout)), index_(index) {}
  void on_reasoning(std::string_view text) override { fanout_->encoder->on_reasoning(index_, text); }
  void on_text(std::string_view text) override { fanout_->encoder->on_text(index_, text); }
  void on_token(const SampleResult& s, std::string_view b) override {
    fanout_->encoder->on_token(index_, s, b);
  }
  void on_tool_call_begin(int call, std::string_view name) override {
    fanout_->encoder->on_tool_call_begin(index_, call, name);
  }
  void on_tool_call_args(int call, std::string_view fragment) override {
    fanout_->encoder->on_tool_call_args(index_, call, fragment);
  }
  void on_tool_call_end(int call, bool complete, std::string_view raw) override {
    fanout_->encoder->on_tool_call_end(index_, call, complete, raw);
  }
  void on_finish(const GenerationResult& r) override {
    fanout_->encoder->on_choice_finish(index_, r);
    if (--fanout_->remaining == 0) fanout_->encoder->on_all_finished();
  }

 private:
  std::shared_ptr<Fanout> fanout_;
  int index_;
};

}  // namespace

void run_choices(ServerContext& ctx, std::shared_ptr<HttpExchange> exchange,
                 const ServedModel& model, const GenerationSpec& base, int n,
                 std::shared_ptr<ChoiceEncoder> encoder) {
  auto fanout = std::make_shared<Fanout>();
  fanout->encoder = std::move(encoder);
  fanout->remaining = n;
  std::vector<GenerationSpec> specs;
  std::vector<std::shared_ptr<GenerationSink>> sinks;
  for (int i = 0; i < n; ++i) {
    specs.push_back(spec_for_choice(base, i));
    sinks.push_back(std::make_shared<ChoiceSink>(fanout, i));
  }
  start_generations(ctx, exchange, model, std::move(specs), std::move(sinks));
}

}  // namespace agentserve::server::openai
