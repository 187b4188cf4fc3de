#include "engine/request.h"

namespace agentserve {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "?";
}

GenerationRequest fixed_length_greedy_request(std::vector<int32_t> prompt, int32_t n) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.stop.max_new_tokens = n;
  r.stop.ignore_stop_tokens = true;
  return r;
}

void EventChannel::set_notify(std::function<void()> notify) {
  std::lock_guard<std::mutex> lock(mutex_);
  notify_ = notify ? std::make_shared<const std::function<void()>>(std::move(notify)) : nullptr;
  if (notify_) async_consumer_.store(true, std::memory_order_relaxed);
}

std::chrono::steady_clock::time_point EventChannel::push(EngineEvent event, bool notify) {
  const auto now = std::chrono::steady_clock::now();
  event.produced_at = now;
  std::shared_ptr<const std::function<void()>> hook;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (event.kind == EngineEvent::Kind::kFinish) finished_ = true;
    queue_.push_back(std::move(event));
    queued_.store(queue_.size(), std::memory_order_release);
    if (notify) hook = notify_;
  }
  if (notify) {
    cv_.notify_one();
    if (hook) (*hook)();
  }
  return now;
}

void EventChannel::notify_consumer() {
  std::shared_ptr<const std::function<void()>> notify;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    notify = notify_;
  }
  cv_.notify_one();
  if (notify) (*notify)();
}

std::optional<EngineEvent> EventChannel::pop() {
  async_consumer_.store(true, std::memory_order_relaxed);
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return !queue_.empty() || drained_; });
  if (queue_.empty()) return std::nullopt;
  EngineEvent e = std::move(queue_.front());
  queue_.pop_front();
  queued_.store(queue_.size(), std::memory_order_release);
  if (e.kind == EngineEvent::Kind::kFinish) drained_ = true;
  return e;
}

std::optional<EngineEvent> EventChannel::try_pop() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (queue_.empty()) return std::nullopt;
  EngineEvent e = std::move(queue_.front());
  queue_.pop_front();
  queued_.store(queue_.size(), std::memory_order_release);
  if (e.kind == EngineEvent::Kind::kFinish) drained_ = true;
  return e;
}

}  // namespace agentserve
