#include "server/server_context.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "base/thread_name.h"

namespace agentserve::server {

// A small FIFO pool: prompt rendering and tokenisation must not run on the I/O thread (it would
// stall every stream) nor on the engine's.
struct ServerContext::Workers {
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  bool stop = false;
  std::vector<std::thread> threads;

  explicit Workers(int n) {
    for (int i = 0; i < std::max(1, n); ++i)
      threads.emplace_back([this, i] {
        set_current_thread_name("as-render-" + std::to_string(i));
        while (true) {
          std::function<void()> job;
          {
            std::unique_lock<std::mutex> lock(mutex);
            cv.wait(lock, [&] { return stop || !queue.empty(); });
            if (stop && queue.empty()) return;
            job = std::move(queue.front());
            queue.pop_front();
          }
          job();
        }
      });
  }
  ~Workers() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();
  }
};

ServerContext::ServerContext(ServerOptions options, ServedModel model, Metrics* metrics)
    : options_(std::move(options)),
      model_(std::move(model)),
      metrics_(metrics),
      workers_(std::make_unique<Workers>(options_.worker_threads)) {}

ServerContext::~ServerContext() = default;

void ServerContext::run_on_worker(std::function<void()> fn) {
  if (!workers_) return;  // shutting down: the I/O loops have stopped, nobody waits for it
  {
    std::lock_guard<std::mutex> lock(workers_->mutex);
    workers_->queue.push_back(std::move(fn));
  }
  workers_->cv.notify_one();
}

void ServerContext::stop_workers() { workers_.reset(); }

double ServerContext::io_cpu_seconds() const { return io_cpu_probe_ ? io_cpu_probe_() : 0.0; }

const ServedModel* ServerContext::resolve_model(std::string_view name) const {
  if (name.empty() || name == model_.id) return &model_;
  if (std::find(model_.aliases.begin(), model_.aliases.end(), name) != model_.aliases.end())
    return &model_;
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Claude Code names Anthropic models (claude-opus-4-8, ..., and its haiku side requests).
  if (lower.rfind("claude", 0) == 0 || lower.find("opus") != std::string::npos ||
      lower.find("sonnet") != std::string::npos || lower.find("haiku") != std::string::npos)
    return &model_;
  return nullptr;
}

}  // namespace agentserve::server
