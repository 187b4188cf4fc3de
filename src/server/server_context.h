// What route handlers share: options, the served model (resolved from the name a client
// sends), a worker pool for CPU-heavy request preparation, and the metrics.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "model/config.h"
#include "server/prompt_divergence.h"
#include "server/test_script.h"
#include "text/chat/chat_template.h"
#include "text/tokenizer/tokenizer.h"
#include "tools/tool_parser.h"

namespace agentserve::server {

class Metrics;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;                       // "" = no authentication
  size_t max_body_bytes = 32u << 20;         // Anthropic's limit; 413 beyond
  // From its first byte, a request (header and body) must arrive whole within this, else 408
  // and the connection is closed: a client that sends part of a request and stalls (or
  // trickles it) would otherwise hold its connection and descriptor for ever. An idle
  // keep-alive connection between requests is not limited.
  std::chrono::seconds request_timeout{120};
  // On SIGTERM (service managers: systemd, docker stop, Kubernetes) requests in progress may
  // finish within this; new connections are refused and new requests on open ones get 503.
  // 0: stop at once. SIGINT (Ctrl-C), or a second signal, always stops at once.
  std::chrono::seconds shutdown_grace{30};
  // Origins whose web pages may call the API from a browser (CORS; "*": any). Empty: none.
  std::vector<std::string> cors_origins;
  std::chrono::milliseconds ping_interval{5000};  // keep-alive frames during long prefills
  // Output one streamed response may hold for a client that stopped reading (beyond what the
  // kernel's socket buffers took). Past it the client is taken as stuck: its generation is
  // cancelled and the connection closed, so a stalled client cannot grow the server without
  // bound (n = 128 choices of a long generation would be ~1 GB of frames).
  size_t max_unsent_bytes = 64u << 20;
  int worker_threads = 1;                    // render + tokenize off the I/O thread
  // Threads that parse requests, run handlers and write responses. With many streams, one
  // step's tokens arrive together; more threads write them to their sockets in parallel. 0:
  // one on machines of up to 4 cores (a second I/O thread only competes with the compute
  // threads there — measured on 2 cores), else 2.
  int io_threads = 0;
  // Agent prompt hygiene (prompt_hygiene.h): rewrite Claude Code's per-request attribution
  // hash to a fixed value so it does not defeat the prefix cache. --no-prompt-hygiene: system
  // text reaches the template exactly as sent.
  bool prompt_hygiene = true;
};

struct ServedModel {
  std::string id;                    // the public name (directory name unless --served-name)
  std::vector<std::string> aliases;  // --alias NAME=<id>
  std::string dir;
  int64_t created = 0;               // unix seconds, for /v1/models
  const ModelConfig* config = nullptr;
  const Tokenizer* tokenizer = nullptr;
  const chat::ChatTemplate* chat = nullptr;
  Engine* engine = nullptr;
  int32_t max_context = 0;           // prompt + output tokens
  std::vector<int32_t> stop_token_ids;  // end-of-generation tokens
  bool thinks = false;               // the template writes <think> blocks: split reasoning out
  // serve --test-script (tests only): scripted output for matching prompts; null: none.
  std::shared_ptr<const TestScript> test_script;
  // How the model writes tool calls: detected from its chat template, or --tool-format.
  tools::ToolFormat tool_format = tools::ToolFormat::kNone;
  int32_t kv_page_size = 0;          // tokens per KV page (the prefix cache's granularity)
  int64_t kv_page_bytes = 0;         // bytes of one page on the device (all layers, K and V)
};

class ServerContext {
 public:
  ServerContext(ServerOptions options, ServedModel model, Metrics* metrics);
  ~ServerContext();

  const ServerOptions& options() const { return options_; }
  const ServedModel& model() const { return model_; }
  Metrics& metrics() { return *metrics_; }

  // The model a request names: its id, an alias, or — unless an alias claims it — any
  // claude-* / *opus* / *sonnet* / *haiku* name (Claude Code's defaults) and "" (no model).
  // nullptr: unknown (404).
  const ServedModel* resolve_model(std::string_view name) const;

  // Runs fn on the worker pool (prompt rendering and tokenisation: never the I/O thread,
  // never the engine's).
  void run_on_worker(std::function<void()> fn);
  // Finishes the queued jobs and joins the workers (shutdown); run_on_worker must not follow.
  void stop_workers();

  // CPU seconds the HTTP I/O threads have used (set by the server when it runs; 0 before).
  double io_cpu_seconds() const;
  void set_io_cpu_probe(std::function<double()> probe) { io_cpu_probe_ = std::move(probe); }

  // Recently computed token sequences, for the debug-level divergence log (prompt_divergence.h).
  PromptHistory& prompt_history() { return prompt_history_; }

 private:
  struct Workers;
  ServerOptions options_;
  ServedModel model_;
  Metrics* metrics_;
  std::unique_ptr<Workers> workers_;
  std::function<double()> io_cpu_probe_;
  PromptHistory prompt_history_;
};

}  // namespace agentserve::server
