// The HTTP/1.1 server: Boost.Beast with C++20 coroutines on `io_threads` I/O threads, each
// with its own io_context; connections are dealt out round robin and live on one thread, so a
// connection's state needs no locks. Each connection
// reads a request (body limit → 413 in the API's error shape), checks the API key, routes it,
// and writes whatever the handler answers through its HttpExchange — a whole response or a
// chunked stream, with keep-alive frames while a stream is quiet and immediate detection of a
// client that hangs up. Beast stays in http_server.cpp (its headers cost ~10 s per file).
#pragma once

#include <memory>
#include <string>

#include "base/error.h"
#include "server/router.h"
#include "server/server_context.h"

namespace agentserve::server {

class HttpServer {
 public:
  HttpServer(ServerContext& ctx, const Router& router);
  ~HttpServer();

  // Binds the listening socket (port 0 picks a free one); fails when the address is taken.
  // --host may be an IPv4 or IPv6 address or a name (its first IPv4 address is taken).
  Status listen();
  int port() const;
  // After listen(): the base URL a client on this machine uses ("http://127.0.0.1:8080",
  // "http://[::1]:8080"; loopback when bound to every interface).
  std::string client_url() const;
  bool on_every_interface() const;
  // Serves until stop(), SIGINT or SIGTERM (after the requests in progress, within
  // ServerOptions::shutdown_grace); the calling thread is the first I/O thread.
  void run();
  void stop();  // any thread

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace agentserve::server
