// Events of one turn folded into a non-streaming response.
#include "tools/tool_parser.h"

namespace agentserve::tools {

void TurnAccumulator::add(const ToolEvent& event) {
  using Kind = ToolEvent::Kind;
  switch (event.kind) {
    case Kind::kText:
      turn_.content += event.text;
      return;
    case Kind::kReasoning:
      turn_.reasoning += event.text;
      return;
    case Kind::kCallBegin:
      if (event.index < 0) return;
      if (call_slot_.size() <= static_cast<size_t>(event.index))
        call_slot_.resize(static_cast<size_t>(event.index) + 1, -1);
      call_slot_[static_cast<size_t>(event.index)] = static_cast<int>(turn_.calls.size());
      turn_.calls.push_back(ParsedCall{event.text, ""});
      return;
    case Kind::kCallArgs:
    case Kind::kCallEnd: {
      if (event.index < 0 || static_cast<size_t>(event.index) >= call_slot_.size()) return;
      const int slot = call_slot_[static_cast<size_t>(event.index)];
      if (slot < 0) return;
      if (event.kind == Kind::kCallArgs) {
        turn_.calls[static_cast<size_t>(slot)].arguments += event.text;
        return;
      }
      if (event.complete) return;
      // A call that did not finish is returned as the text the model wrote, where it wrote it:
      // calls end in order, so it is the last one and the content so far precedes it.
      turn_.content += event.raw;
      turn_.calls.erase(turn_.calls.begin() + slot);
      call_slot_[static_cast<size_t>(event.index)] = -1;
      for (int& s : call_slot_)
        if (s > slot) --s;
      return;
    }
  }
}

ParsedTurn TurnAccumulator::take() {
  ParsedTurn out = std::move(turn_);
  turn_ = ParsedTurn{};
  call_slot_.clear();
  return out;
}

}  // namespace agentserve::tools
