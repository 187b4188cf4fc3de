// One HTTP request and the means to answer it, without Beast: route handlers see only this.
// The server (http_server.cpp) implements it; every method is thread-safe, so an answer can be
// produced on a worker thread or, token by token, from the engine's events.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentserve::server {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", "HEAD", ...
  std::string path;    // "/v1/messages" (no query)
  std::string query;   // "beta=true" (after '?', undecoded)
  Headers headers;     // names lower-cased, in arrival order
  std::string body;
  std::string request_id;  // "req_..." — echoed in responses and logs
  // When its body had been read: the start of the request log's "prepared" time (parse,
  // render, tokenize up to the engine submission).
  std::chrono::steady_clock::time_point received_at{};

  // The value of header `name` (lower-case), or "" when absent.
  std::string_view header(std::string_view name) const;
  // A query parameter's raw value, or "" when absent.
  std::string_view query_param(std::string_view name) const;
};

class HttpExchange {
 public:
  virtual ~HttpExchange() = default;

  virtual const HttpRequest& request() const = 0;

  // A complete response. Content-Length is set; "request-id" is added.
  virtual void respond(int status, std::string content_type, std::string body,
                       Headers headers = {}) = 0;

  // A streamed (chunked) response: start once, write any number of times, end once.
  virtual void start_stream(int status, std::string content_type, Headers headers = {}) = 0;
  virtual void write(std::string data) = 0;
  virtual void end() = 0;
  // While streaming, write `frame` whenever nothing else was written for `interval` (Anthropic
  // pings, SSE comments), so client watchdogs see bytes during long prefills.
  virtual void set_keepalive(std::chrono::milliseconds interval, std::string frame) = 0;
  // The next write() carries output the engine produced at `t`; the server measures the time
  // from `t` to those bytes going to the socket (metric agentserve_token_to_socket_seconds).
  virtual void note_output_origin(std::chrono::steady_clock::time_point t) { (void)t; }

  // The client hung up (detected at once, not at the next write). `fn` runs once, on the
  // server's I/O thread; set it before starting work that should stop with the client.
  virtual bool client_gone() const = 0;
  virtual void on_client_gone(std::function<void()> fn) = 0;

  // Runs `fn` on the server's I/O thread (where stream state lives without locks).
  virtual void post(std::function<void()> fn) = 0;
  // Runs `fn` on the server's I/O thread once `delay` has passed.
  virtual void post_after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
};

using Handler = std::function<void(std::shared_ptr<HttpExchange>)>;

}  // namespace agentserve::server
