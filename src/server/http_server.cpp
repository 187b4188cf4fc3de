#include <utility>  // Boost 1.74's asio/awaitable.hpp uses std::exchange without including it

#include "server/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "base/log.h"
#include "base/thread_name.h"
#include "base/thread_priority.h"
#include "server/api_errors.h"
#include "server/cors.h"
#include "server/metrics.h"
#include "server/random_id.h"

namespace agentserve::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// The io_context whose loop runs on this thread (null elsewhere). Output produced on a
// connection's own I/O thread (the engine's tokens are drained there) wakes it directly
// instead of through another post.
thread_local asio::execution_context* t_io_context = nullptr;

std::string new_request_id() { return random_id("req_", 24, IdAlphabet::kHex); }

// The response side of one request. Handlers call it from any thread; the connection
// coroutine (I/O thread) writes what it holds. `wake_` is cancelled to signal new output.
class BeastExchange : public HttpExchange, public std::enable_shared_from_this<BeastExchange> {
 public:
  // `metrics` null: nothing is measured (an answer written before the request was routed).
  // `max_unsent`: ServerOptions::max_unsent_bytes.
  BeastExchange(asio::any_io_executor ex, HttpRequest request, Metrics* metrics, size_t max_unsent)
      : executor_(ex), wake_(ex), request_(std::move(request)), metrics_(metrics), max_unsent_(max_unsent) {}

  const HttpRequest& request() const override { return request_; }

  // Headers every answer to this request carries (CORS), whatever the handler answers. Set
  // before the handler runs; the writer reads them once the answer is there.
  void add_headers(Headers headers) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& h : headers) extra_headers_.push_back(std::move(h));
  }

  void respond(int status, std::string content_type, std::string body, Headers headers) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (mode_ != Mode::kNone) return;  // one answer per request
      mode_ = Mode::kFull;
      status_ = status;
      content_type_ = std::move(content_type);
      body_ = std::move(body);
      headers_ = std::move(headers);
    }
    signal();
  }

  void start_stream(int status, std::string content_type, Headers headers) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (mode_ != Mode::kNone) return;
      mode_ = Mode::kStream;
      status_ = status;
      content_type_ = std::move(content_type);
      headers_ = std::move(headers);
    }
    signal();
  }

  void write(std::string data) override {
    if (data.empty()) return;
    if (try_send_now(data)) return;
    bool now_stuck = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (mode_ != Mode::kStream || ended_ || stuck_) return;
      pending_ += data;
      if (pending_.size() + raw_pending_.size() > max_unsent_) {
        stuck_ = now_stuck = true;
        std::string().swap(pending_);  // the memory goes back now, not when the socket closes
      }
    }
    if (now_stuck) {
      post([self = shared_from_this()] { self->drop_stuck_client(); });
      return;
    }
    signal();
  }

  void end() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (mode_ != Mode::kStream) return;
      ended_ = true;
    }
    signal();
  }

  void set_keepalive(std::chrono::milliseconds interval, std::string frame) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      keepalive_interval_ = interval;
      keepalive_frame_ = std::move(frame);
    }
    signal();  // a writer already parked re-reads its deadline
  }

  void note_output_origin(Clock::time_point t) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (origin_ == Clock::time_point{} || t < origin_) origin_ = t;  // the oldest unsent output
  }

  bool client_gone() const override { return gone_.load(); }

  void on_client_gone(std::function<void()> fn) override {
    post([self = shared_from_this(), fn = std::move(fn)]() mutable {
      if (self->gone_.load()) {
        fn();
      } else {
        self->on_gone_.push_back(std::move(fn));
      }
    });
  }

  void post(std::function<void()> fn) override { asio::post(executor_, std::move(fn)); }

  void post_after(std::chrono::milliseconds delay, std::function<void()> fn) override {
    auto timer = std::make_shared<asio::steady_timer>(executor_, delay);
    timer->async_wait([timer, fn = std::move(fn)](beast::error_code e) {
      if (!e) fn();
    });
  }

  // I/O thread: the client stopped reading and its unsent output passed the limit. Its
  // generations are cancelled (as for a client that hung up) and the connection is closed: the
  // writer's blocked send is aborted, and the connection ends.
  void drop_stuck_client() {
    if (gone_.load()) return;
    AS_LOG_WARN("{} {}: the client stopped reading; over {} MiB of output unsent "
                "(--stream-buffer-mb): generation cancelled, connection closed",
                request_.request_id, request_.path, max_unsent_ >> 20);
    mark_gone();
    if (socket_ != nullptr) {
      beast::error_code ec;
      socket_->cancel(ec);
    }
  }

  // I/O thread: the client closed its end.
  void mark_gone() {
    if (gone_.exchange(true)) return;
    auto fns = std::move(on_gone_);
    on_gone_.clear();
    for (auto& fn : fns) fn();
    wake_.cancel();
  }

  // Writes the answer once the handler produces it. Returns the status sent, or -1 if the
  // connection broke.
  asio::awaitable<int> serve(tcp::socket& socket, bool keep_alive) {
    beast::error_code ec;
    bool& header_sent = header_sent_;
    Clock::time_point& last_write = last_write_;
    last_write = Clock::now();
    socket_ = &socket;
    // Watch the socket for the client hanging up while the answer is being produced.
    watch_for_close(socket);
    while (true) {
      Mode mode;
      std::string chunk, raw;
      Clock::time_point origin{};
      bool ended = false;
      std::chrono::milliseconds keepalive{0};
      {
        std::lock_guard<std::mutex> lock(mutex_);
        mode = mode_;
        chunk.swap(pending_);
        raw.swap(raw_pending_);
        if (!chunk.empty()) std::swap(origin, origin_);
        ended = ended_;
        keepalive = keepalive_interval_;
      }
      if (gone_.load()) co_return -1;
      if (mode == Mode::kFull) {
        http::response<http::string_body> res{static_cast<http::status>(status_), 11};
        if (!content_type_.empty()) res.set(http::field::content_type, content_type_);
        res.set("request-id", request_.request_id);
        for (const auto& [k, v] : headers_) res.set(k, v);
        for (const auto& [k, v] : extra_headers_) res.set(k, v);
        res.keep_alive(keep_alive);
        if (request_.method == "HEAD") {
          res.content_length(body_.size());  // what GET would send; no body follows
        } else {
          res.body() = std::move(body_);
          res.prepare_payload();
        }
        co_await http::async_write(socket, res, asio::redirect_error(asio::use_awaitable, ec));
        co_return ec ? -1 : status_;
      }
      if (mode == Mode::kStream) {
        if (!header_sent) {
          http::response<http::empty_body> res{static_cast<http::status>(status_), 11};
          res.set(http::field::content_type, content_type_);
          res.set(http::field::cache_control, "no-cache");
          res.set("request-id", request_.request_id);
          for (const auto& [k, v] : headers_) res.set(k, v);
          for (const auto& [k, v] : extra_headers_) res.set(k, v);
          res.keep_alive(keep_alive);
          res.chunked(true);
          http::response_serializer<http::empty_body> sr{res};
          co_await http::async_write_header(socket, sr, asio::redirect_error(asio::use_awaitable, ec));
          if (ec) co_return -1;
          header_sent = true;
          last_write = Clock::now();
        }
        if (!raw.empty()) {  // the unsent tail of a chunk try_send_now began
          co_await asio::async_write(socket, asio::buffer(raw), asio::redirect_error(asio::use_awaitable, ec));
          if (ec) co_return -1;
          last_write = Clock::now();
        }
        if (!chunk.empty()) {
          // Asio sends at once when the operation starts (its completion is only queued), so
          // the bytes are on the socket from here: that is where the latency ends.
          if (origin != Clock::time_point{} && metrics_ != nullptr)
            metrics_->token_to_socket().observe(std::chrono::duration<double>(Clock::now() - origin).count());
          co_await asio::async_write(socket, http::make_chunk(asio::buffer(chunk)),
                                     asio::redirect_error(asio::use_awaitable, ec));
          if (ec) co_return -1;
          last_write = Clock::now();
        }
        if (ended) {
          co_await asio::async_write(socket, http::make_chunk_last(),
                                     asio::redirect_error(asio::use_awaitable, ec));
          co_return ec ? -1 : status_;
        }
      }
      // Wait for more output, or for the keep-alive deadline of a quiet stream.
      if (header_sent && keepalive.count() > 0) {
        wake_.expires_at(last_write + keepalive);
      } else {
        wake_.expires_at(Clock::time_point::max());
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!pending_.empty() || !raw_pending_.empty() || ended_ != ended || mode_ != mode) continue;
        signalled_ = false;
      }
      parked_ = true;
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      parked_ = false;
      if (!ec && header_sent && Clock::now() >= last_write + keepalive) {
        std::string frame;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          frame = keepalive_frame_;
        }
        if (!frame.empty()) {
          co_await asio::async_write(socket, http::make_chunk(asio::buffer(frame)),
                                     asio::redirect_error(asio::use_awaitable, ec));
          if (ec) co_return -1;
          last_write = Clock::now();
        }
      }
    }
  }

  // Stream output produced on this connection's own I/O thread while its writer is parked
  // (the common case: the engine's tokens are drained there) goes to the socket right here, as
  // one HTTP chunk, instead of waking the writer coroutine: with many streams, each token would
  // otherwise wait behind every other stream's drain in the I/O queue. Returns false when the
  // writer must handle `data` (another thread, writer busy, output queued, or not streaming).
  bool try_send_now(const std::string& data) {
    if (t_io_context != &asio::query(executor_, asio::execution::context)) return false;
    if (!parked_ || !header_sent_ || socket_ == nullptr) return false;
    Clock::time_point origin;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (mode_ != Mode::kStream || ended_ || stuck_ || !pending_.empty() || !raw_pending_.empty()) return false;
      origin = std::exchange(origin_, Clock::time_point{});
    }
    // The chunk's size line, the data and its CRLF, gathered by the kernel (no copy of data).
    char size_line[24];
    char* end = std::to_chars(size_line, size_line + sizeof(size_line) - 2, data.size(), 16).ptr;
    *end++ = '\r';
    *end++ = '\n';
    static constexpr char kCrlf[] = "\r\n";
    iovec parts[3] = {{size_line, static_cast<size_t>(end - size_line)},
                      {const_cast<char*>(data.data()), data.size()},
                      {const_cast<char*>(kCrlf), 2}};
    const size_t total = parts[0].iov_len + parts[1].iov_len + parts[2].iov_len;
    msghdr msg{};
    msg.msg_iov = parts;
    msg.msg_iovlen = 3;
    // The latency ends where the bytes go to the kernel, as in the writer's path. On loopback
    // the send itself delivers them into the client's socket and wakes the client, which often
    // runs on this CPU before the call returns: traced for one stream (cpu-2c), the server
    // reached the send at p99 52-148 us and the client read the tokens at p99 0.24-1.14 ms, while
    // the sends returned up to 3 ms after the token. The send's duration has its own histogram.
    const Clock::time_point send_start = Clock::now();
    if (origin != Clock::time_point{} && metrics_ != nullptr)
      metrics_->token_to_socket().observe(std::chrono::duration<double>(send_start - origin).count());
    const ssize_t n = ::sendmsg(socket_->native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    const bool buffer_full = n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK;
    const size_t sent = n > 0 ? static_cast<size_t>(n) : 0;
    const Clock::time_point now = Clock::now();
    if (metrics_ != nullptr)
      metrics_->socket_send().observe(std::chrono::duration<double>(now - send_start).count());
    if (sent > 0) last_write_ = now;
    if (sent == total) return true;
    // A full socket buffer (or an error the writer will meet): the writer sends the rest once
    // the socket takes it, and later output queues behind it in pending_.
    if (buffer_full && metrics_ != nullptr) metrics_->count_stream_stall();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      raw_pending_.clear();
      for (const iovec& part : parts) raw_pending_.append(static_cast<const char*>(part.iov_base), part.iov_len);
      raw_pending_.erase(0, sent);
    }
    signal();
    return true;
  }

  void stop_watching(tcp::socket& socket) {
    socket_ = nullptr;  // the connection may close the socket now; this exchange can live on
    watching_ = false;
    beast::error_code ec;
    socket.cancel(ec);
  }

 private:
  enum class Mode { kNone, kFull, kStream };

  // Wakes the connection coroutine from any thread (the cancel runs on the I/O thread).
  void signal() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (signalled_) return;
      signalled_ = true;
    }
    if (t_io_context == &asio::query(executor_, asio::execution::context)) {
      wake_.cancel();
    } else {
      asio::post(executor_, [self = shared_from_this()] { self->wake_.cancel(); });
    }
  }

  void watch_for_close(tcp::socket& socket) {
    watching_ = true;
    socket.async_wait(tcp::socket::wait_read, [self = shared_from_this(), &socket](beast::error_code ec) {
      if (ec || !self->watching_) return;
      char byte;
      const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) self->mark_gone();
      // n > 0: the client sent the next request early; it is read after this response.
    });
  }

  asio::any_io_executor executor_;
  asio::steady_timer wake_;
  HttpRequest request_;
  Metrics* metrics_;
  const size_t max_unsent_;
  std::mutex mutex_;
  Clock::time_point origin_{};  // engine time of the oldest output in pending_
  std::string raw_pending_;     // framed bytes to send as they are (a partial direct send)
  // I/O thread only: the writer's state, for try_send_now.
  tcp::socket* socket_ = nullptr;
  bool parked_ = false;
  bool header_sent_ = false;
  Clock::time_point last_write_{};
  Mode mode_ = Mode::kNone;
  int status_ = 200;
  std::string content_type_, body_, pending_, keepalive_frame_;
  Headers headers_;
  Headers extra_headers_;  // add_headers()
  bool ended_ = false;
  bool stuck_ = false;  // unsent output passed max_unsent_
  bool signalled_ = false;
  std::chrono::milliseconds keepalive_interval_{0};
  std::atomic<bool> gone_{false};
  // I/O thread only. Several: a request with n choices runs n generations, each cancelled here.
  std::vector<std::function<void()>> on_gone_;
  bool watching_ = false;           // I/O thread only
};

// "//v1//messages" → "/v1/messages": a base URL set with a trailing slash ("http://host:8080/")
// makes some clients join it into doubled slashes; they name the same endpoint.
std::string collapse_slashes(std::string path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path)
    if (c != '/' || out.empty() || out.back() != '/') out += c;
  return out;
}

// The soft limit on open file descriptors (connections are descriptors).
uint64_t open_file_limit() {
  rlimit r{};
  return getrlimit(RLIMIT_NOFILE, &r) == 0 ? static_cast<uint64_t>(r.rlim_cur) : 0;
}

bool authorized(const HttpRequest& req, const std::string& key) {
  if (key.empty()) return true;
  if (req.header("x-api-key") == key) return true;
  const std::string_view auth = req.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  return auth.size() > kBearer.size() && auth.substr(0, kBearer.size()) == kBearer &&
         auth.substr(kBearer.size()) == key;
}

// A log line of one kind at most once a second (a client repeating a mistake, or many stalled
// connections at once, would otherwise fill the log); admit() says whether this one goes out
// and how many were left out since the last that did.
class OncePerSecond {
 public:
  bool admit(int64_t* left_out) {
    std::lock_guard<std::mutex> lock(mutex_);
    const Clock::time_point now = Clock::now();
    if (last_ != Clock::time_point{} && now - last_ < std::chrono::seconds(1)) {
      ++unlogged_;
      return false;
    }
    *left_out = unlogged_;
    last_ = now;
    unlogged_ = 0;
    return true;
  }

 private:
  std::mutex mutex_;
  Clock::time_point last_{};
  int64_t unlogged_ = 0;
};

// "; N more <what>since the last such line" when some were left out.
std::string left_out_note(int64_t left_out, const char* what) {
  return left_out > 0 ? fmt::format("; {} more {}since the last such line", left_out, what) : "";
}

// One warning per refused request, at most one a second: clients retry a 401 (Claude Code up to
// 10 times, for minutes) and look stuck unless the log says why, but a client hammering a keyed
// server must not fill the log. Refusals within the second are counted into the next line.
void log_refused(const HttpRequest& req) {
  static OncePerSecond gate;
  int64_t left_out = 0;
  if (!gate.admit(&left_out)) return;
  const bool sent_key = !req.header("authorization").empty() || !req.header("x-api-key").empty();
  AS_LOG_WARN("{} {} {}: refused, {} (the server runs with --api-key){}", req.request_id, req.method,
              req.path, sent_key ? "wrong API key" : "no API key sent", left_out_note(left_out, "refused "));
}

// A request that has begun arriving must be whole by a deadline: when it passes, the socket's
// reads are cancelled (they end with operation_aborted) and end() reports it. Everything runs
// on the connection's one I/O thread, so once end() has run, a handler already queued by the
// timer finds the deadline inactive and leaves the socket alone.
class RequestDeadline {
 public:
  RequestDeadline(tcp::socket& socket, std::chrono::seconds limit)
      : timer_(socket.get_executor()), state_(std::make_shared<State>()) {
    timer_.expires_after(limit);
    timer_.async_wait([&socket, state = state_](beast::error_code e) {
      if (e || !state->active) return;
      state->fired = true;
      beast::error_code ignored;
      socket.cancel(ignored);
    });
  }
  ~RequestDeadline() { end(); }
  RequestDeadline(const RequestDeadline&) = delete;
  RequestDeadline& operator=(const RequestDeadline&) = delete;

  // Stops the clock; true when the deadline had passed.
  bool end() {
    if (state_->active) {
      state_->active = false;
      timer_.cancel();
    }
    return state_->fired;
  }

 private:
  struct State {
    bool active = true;
    bool fired = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

// One warning per browser request refused for its origin, at most one a second: the page sees
// only a "CORS error", so the server's log has to say which origin to allow.
void log_cross_origin_refused(const HttpRequest& req) {
  static OncePerSecond gate;
  int64_t left_out = 0;
  if (!gate.admit(&left_out)) return;
  AS_LOG_WARN("{} {} {}: refused a browser request from origin {} (allow it with --cors-origin){}",
              req.request_id, req.method, req.path, req.header("origin"), left_out_note(left_out, "refused "));
}

// One warning per request that did not arrive in time, at most one a second (many stalled
// connections at once would otherwise fill the log).
void log_timed_out(const HttpRequest& req, bool header_done, std::chrono::seconds limit) {
  static OncePerSecond gate;
  int64_t left_out = 0;
  if (!gate.admit(&left_out)) return;
  AS_LOG_WARN("{} {}: the request did not arrive whole within {} s ({}); answered 408 and closed "
              "the connection (--request-timeout){}",
              req.request_id, header_done ? req.method + " " + req.path : std::string("(header incomplete)"),
              limit.count(), header_done ? "body incomplete" : "header incomplete", left_out_note(left_out, ""));
}

// Request paths without their query, and the endpoint label for metrics.
std::string endpoint_label(const HttpRequest& req, bool routed) {
  return routed ? req.method + " " + req.path : req.method + " (unrouted)";
}

}  // namespace

struct HttpServer::Impl {
  ServerContext& ctx;
  const Router& router;
  const CorsPolicy cors;
  // ios[0] also runs the acceptor and the signal handler.
  std::vector<std::unique_ptr<asio::io_context>> ios;
  asio::io_context& io;
  tcp::acceptor acceptor{io};
  asio::signal_set signals{io, SIGINT, SIGTERM};
  int bound_port = 0;
  asio::ip::address bound_address;
  size_t next_io = 0;
  std::mutex clocks_mutex;
  std::vector<clockid_t> io_clocks;  // CPU clocks of the running I/O threads
  // Graceful shutdown (SIGTERM, ServerOptions::shutdown_grace): requests read whole and not yet
  // answered; once draining, the acceptor is closed, a new request on an open connection is
  // answered 503 and every connection closes after its answer.
  std::atomic<int> in_flight{0};
  std::atomic<bool> draining{false};
  asio::steady_timer drain_timer{io};
  Clock::time_point drain_deadline{};

  static std::vector<std::unique_ptr<asio::io_context>> make_ios(int n) {
    if (n <= 0) n = std::thread::hardware_concurrency() <= 4 ? 1 : 2;
    std::vector<std::unique_ptr<asio::io_context>> v;
    for (int i = 0; i < std::max(1, n); ++i) v.push_back(std::make_unique<asio::io_context>(1));
    return v;
  }

  Impl(ServerContext& c, const Router& r)
      : ctx(c), router(r), cors(c.options().cors_origins), ios(make_ios(c.options().io_threads)), io(*ios[0]) {}

  // Runs ios[i] on the calling thread until stopped.
  void run_io(size_t i) {
    clockid_t clock{};
    pthread_getcpuclockid(pthread_self(), &clock);
    {
      std::lock_guard<std::mutex> lock(clocks_mutex);
      io_clocks.push_back(clock);
    }
    // Tokens wait for this thread: ask to preempt the compute threads soon after waking rather
    // than after their time slice. At 64 streams on 2 vCPUs the p99 from a token's event to its
    // drain here was 2.2–2.9 ms (p50 10 µs); with this, 1.8–2.0 ms in the same experiment.
    static bool logged = false;
    if (!request_short_scheduler_slice(100'000) && !logged) {
      logged = true;
      AS_LOG_DEBUG("the kernel does not take a per-thread scheduler slice; I/O latency may follow the default slice");
    }
    // The first loop runs on the main thread, whose name is the process's in ps/top.
    if (i > 0) set_current_thread_name("as-http-" + std::to_string(i));
    t_io_context = ios[i].get();
    ios[i]->run();
    t_io_context = nullptr;
  }

  double io_cpu_seconds() {
    std::lock_guard<std::mutex> lock(clocks_mutex);
    double total = 0;
    for (clockid_t c : io_clocks) {
      timespec ts{};
      if (clock_gettime(c, &ts) == 0)
        total += static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    }
    return total;
  }

  // Closing a socket whose client is still sending (the rest of a body over the limit) makes
  // the kernel answer with a reset, which can destroy the response before the client reads
  // it. So: end our side, then read and drop what still arrives until the client closes, for
  // at most 2 s and 256 MiB.
  static asio::awaitable<void> lingering_close(tcp::socket& socket) {
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    asio::steady_timer deadline(socket.get_executor());
    deadline.expires_after(std::chrono::seconds(2));
    deadline.async_wait([&socket](beast::error_code e) {
      if (!e) {
        beast::error_code ignored;
        socket.cancel(ignored);
      }
    });
    std::vector<char> sink(64 * 1024);
    size_t dropped = 0;
    while (dropped < (256u << 20)) {
      const size_t n = co_await socket.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      dropped += n;
    }
    deadline.cancel();
  }

  // Answers a request that was not read whole (too large, too slow) with `error`, in the shape
  // of the API its header names (the OpenAI shape before the header is in); the connection
  // closes after. `error` must outlive the call (the caller awaits it at once).
  asio::awaitable<void> refuse_unread(tcp::socket& socket, HttpRequest req, const ApiError& error) {
    auto ex = std::make_shared<BeastExchange>(socket.get_executor(), std::move(req), nullptr,
                                              ctx.options().max_unsent_bytes);
    const int status = error.status;
    respond_error(*ex, api_family_of(ex->request()), error);
    co_await ex->serve(socket, false);
    ex->stop_watching(socket);
    ctx.metrics().count_request(endpoint_label(ex->request(), false), status);
  }

  asio::awaitable<void> connection(tcp::socket socket) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    while (true) {
      // Between requests a keep-alive connection may stay idle as long as the client likes;
      // the request timeout starts with the next request's first byte.
      if (buffer.size() == 0) {
        co_await socket.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
      }
      RequestDeadline deadline(socket, ctx.options().request_timeout);
      http::request_parser<http::string_body> parser;
      parser.body_limit(ctx.options().max_body_bytes);
      parser.header_limit(64 * 1024);
      co_await http::async_read_header(socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec && !parser.is_done()) {
        // A client that asks before sending its body (curl does above 1 MB, older versions above
        // 1 KB) would otherwise wait a second for the interim answer. A body over the limit
        // was refused above from Content-Length alone, and is never asked for.
        if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
          http::response<http::empty_body> go_on{http::status::continue_, 11};
          co_await http::async_write(socket, go_on, asio::redirect_error(asio::use_awaitable, ec));
        }
        if (!ec) co_await http::async_read(socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      }
      const bool timed_out = deadline.end();
      HttpRequest req;
      const auto& msg = parser.get();
      req.method = std::string(msg.method_string());
      const std::string target(msg.target());
      const size_t q = target.find('?');
      req.path = collapse_slashes(target.substr(0, q));
      req.query = q == std::string::npos ? "" : target.substr(q + 1);
      for (const auto& field : msg) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers.emplace_back(std::move(name), std::string(field.value()));
      }
      req.request_id = new_request_id();
      // The errors are named locals passed by reference: passed as braced temporaries by value
      // into the awaited call, they crashed the server on every 413 with this GCC 12 build
      // ("free(): invalid pointer").
      if (ec == http::error::body_limit) {
        const ApiError too_large{413,
                                 "request body is larger than the limit of " +
                                     std::to_string(ctx.options().max_body_bytes) +
                                     " bytes (agentserve serve --max-body-mb)",
                                 "request_too_large", ""};
        co_await refuse_unread(socket, std::move(req), too_large);
        co_await lingering_close(socket);
        co_return;
      }
      if (timed_out) {
        log_timed_out(req, parser.is_header_done(), ctx.options().request_timeout);
        const ApiError too_slow{408,
                                fmt::format("the request did not arrive whole within {} s of its first "
                                            "byte (agentserve serve --request-timeout)",
                                            ctx.options().request_timeout.count()),
                                "request_timeout", ""};
        co_await refuse_unread(socket, std::move(req), too_slow);
        co_return;
      }
      if (ec) co_return;  // EOF, reset or garbage: drop the connection
      if (draining.load()) {
        const ApiError closing{503, "the server is shutting down (it finishes the requests in progress and accepts no new ones)",
                               "server_shutting_down", ""};
        co_await refuse_unread(socket, std::move(req), closing);
        co_return;
      }
      // Counted until answered: a SIGTERM waits for these (see on_signal).
      in_flight.fetch_add(1);
      struct InFlight {
        std::atomic<int>& n;
        ~InFlight() { n.fetch_sub(1); }
      } in_flight_guard{in_flight};
      req.body = std::move(parser.get().body());
      req.received_at = Clock::now();
      const bool keep_alive = msg.keep_alive();

      auto ex = std::make_shared<BeastExchange>(socket.get_executor(), std::move(req),
                                                &ctx.metrics(), ctx.options().max_unsent_bytes);
      const HttpRequest& r = ex->request();
      std::string rest;
      bool path_known = false;
      const Handler* handler = router.find(r.method, r.path, &rest, &path_known);
      const bool open = r.path == "/health" || (r.method == "HEAD" && r.path == "/");
      // A browser's preflight carries no credentials: it is answered before the key check.
      const std::optional<CorsPolicy::Preflight> preflight = cors.preflight(r);
      ex->add_headers(cors.response_headers(r));
      if (preflight && preflight->status != 204) {
        log_cross_origin_refused(r);
        respond_error(*ex, api_family_of(r),
                      {preflight->status,
                       "origin " + std::string(r.header("origin")) +
                           " may not call this server from a browser (agentserve serve --cors-origin)",
                       "", ""});
      } else if (preflight) {
        ex->respond(preflight->status, "", "", preflight->headers);
      } else if (!open && !authorized(r, ctx.options().api_key)) {
        log_refused(r);
        respond_error(*ex, api_family_of(r),
                      {401, "invalid or missing API key (send x-api-key or Authorization: Bearer)",
                       "invalid_api_key", ""});
      } else if (handler == nullptr) {
        respond_error(*ex, api_family_of(r),
                      path_known ? ApiError{405, "method " + r.method + " is not allowed on " + r.path, "", ""}
                                 : ApiError{404, "no such endpoint: " + r.method + " " + r.path, "", ""});
      } else {
        try {
          (*handler)(ex);
        } catch (const std::exception& e) {
          AS_LOG_ERROR("{} {} failed: {}", r.method, r.path, e.what());
          respond_error(*ex, api_family_of(r), {500, std::string("internal error: ") + e.what(), "", ""});
        }
      }
      const int status = co_await ex->serve(socket, keep_alive);
      ex->stop_watching(socket);
      // Preflights are labelled by path only where the path exists (any path may be asked).
      ctx.metrics().count_request(endpoint_label(r, handler != nullptr || (preflight && path_known)),
                                  status < 0 ? 499 : status);
      // Shutting down: the answer went out whole; the client opens a new connection (refused)
      // rather than sending its next request here.
      if (status < 0 || !keep_alive || draining.load()) co_return;
    }
  }

  // ios[0]'s thread. Ends every loop: connections still open are dropped mid-answer.
  void stop_now() {
    beast::error_code ec;
    acceptor.close(ec);
    signals.cancel(ec);
    drain_timer.cancel();
    for (auto& ctx_io : ios) ctx_io->stop();
  }

  // ios[0]'s thread. SIGTERM with a grace period: stop accepting, let the requests in progress
  // finish (their streams to the end), then stop; past the grace period, or on any further
  // signal, stop at once. SIGINT (Ctrl-C at a terminal) stops at once.
  void on_signal(int signo) {
    const int busy = in_flight.load();
    const std::chrono::seconds grace = ctx.options().shutdown_grace;
    if (signo == SIGTERM && !draining.load() && grace.count() > 0 && busy > 0) {
      draining.store(true);
      beast::error_code ec;
      acceptor.close(ec);
      AS_LOG_INFO("SIGTERM: finishing {} request(s) in progress, for at most {} s (new ones are refused; "
                  "a second signal stops at once)",
                  busy, grace.count());
      drain_deadline = Clock::now() + grace;
      signals.async_wait([this](beast::error_code e, int again) {
        if (!e) on_signal(again);
      });
      poll_drain();
      return;
    }
    if (busy > 0) {
      AS_LOG_WARN("signal {}: shutting down now; {} request(s) in progress cut off", signo, busy);
    } else {
      AS_LOG_INFO("signal {}: shutting down", signo);
    }
    stop_now();
  }

  void poll_drain() {
    drain_timer.expires_after(std::chrono::milliseconds(20));
    drain_timer.async_wait([this](beast::error_code e) {
      if (e) return;
      if (const int busy = in_flight.load(); busy == 0) {
        AS_LOG_INFO("every request in progress finished: shutting down");
      } else if (Clock::now() >= drain_deadline) {
        AS_LOG_WARN("shutdown grace period of {} s over: {} request(s) in progress cut off",
                    ctx.options().shutdown_grace.count(), busy);
      } else {
        poll_drain();
        return;
      }
      stop_now();
    });
  }

  asio::awaitable<void> accept_loop() {
    asio::steady_timer backoff(io);
    bool out_of_descriptors = false;
    while (true) {
      beast::error_code ec;
      asio::io_context& target = *ios[next_io++ % ios.size()];
      tcp::socket socket =
          co_await acceptor.async_accept(target, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!acceptor.is_open()) co_return;
        // Out of file descriptors, the pending connection stays queued and every accept fails
        // at once: retrying straight away spun a core at 100 % while clients held them all.
        // Wait, say so once, and accept again when connections have closed.
        const bool no_fds = ec == asio::error::no_descriptors || ec.value() == ENFILE;
        if (no_fds && !out_of_descriptors) {
          AS_LOG_WARN("cannot accept connections: out of file descriptors ({}; the limit is {} per process, "
                      "raise it with ulimit -n); retrying as connections close",
                      ec.message(), open_file_limit());
        }
        out_of_descriptors = out_of_descriptors || no_fds;
        backoff.expires_after(std::chrono::milliseconds(no_fds ? 100 : 10));
        co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      if (out_of_descriptors) {
        AS_LOG_INFO("accepting connections again");
        out_of_descriptors = false;
      }
      asio::co_spawn(target, connection(std::move(socket)), asio::detached);
    }
  }
};

HttpServer::HttpServer(ServerContext& ctx, const Router& router)
    : impl_(std::make_unique<Impl>(ctx, router)) {}

HttpServer::~HttpServer() = default;

Status HttpServer::listen() {
  // Every connection is a descriptor, and Debian's default soft limit (1,024) is below what
  // many idle streams need; the hard limit is ours to take.
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    const rlim_t want = std::min<rlim_t>(r.rlim_max, rlim_t{1} << 20);
    if (want > r.rlim_cur) {
      const rlim_t before = r.rlim_cur;
      r.rlim_cur = want;
      if (setrlimit(RLIMIT_NOFILE, &r) == 0)
        AS_LOG_DEBUG("open file limit raised from {} to {}", static_cast<uint64_t>(before), static_cast<uint64_t>(want));
    }
  }
  beast::error_code ec;
  const std::string& host = impl_->ctx.options().host;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) {
    // A name ("localhost", the machine's own name): its first IPv4 address, else its first.
    tcp::resolver resolver(impl_->io);
    const auto results = resolver.resolve(host, "", ec);
    if (ec || results.empty())
      return make_error(ErrorKind::kInvalidArgument,
                        "--host " + host + " is neither an IP address nor a name this machine resolves" +
                            (ec ? ": " + ec.message() : std::string()));
    address = results.begin()->endpoint().address();
    for (const auto& r : results)
      if (r.endpoint().address().is_v4()) {
        address = r.endpoint().address();
        break;
      }
  }
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(impl_->ctx.options().port));
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(ErrorKind::kIo, "cannot listen on " + impl_->ctx.options().host + ":" +
                                          std::to_string(impl_->ctx.options().port) + ": " +
                                          ec.message());
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
  impl_->bound_address = address;
  return {};
}

int HttpServer::port() const { return impl_->bound_port; }

std::string HttpServer::client_url() const {
  asio::ip::address a = impl_->bound_address;
  // Bound to every interface: clients on this machine reach it on loopback.
  if (a.is_unspecified()) a = a.is_v4() ? asio::ip::address(asio::ip::address_v4::loopback())
                                        : asio::ip::address(asio::ip::address_v6::loopback());
  const std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return "http://" + host + ":" + std::to_string(impl_->bound_port);
}

bool HttpServer::on_every_interface() const { return impl_->bound_address.is_unspecified(); }

void HttpServer::run() {
  impl_->signals.async_wait([impl = impl_.get()](beast::error_code e, int signo) {
    if (!e) impl->on_signal(signo);
  });
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->ctx.set_io_cpu_probe([impl = impl_.get()] { return impl->io_cpu_seconds(); });
  // The other loops have nothing to do until connections arrive: keep them running.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->ios.size(); ++i) {
    guards.push_back(asio::make_work_guard(*impl_->ios[i]));
    threads.emplace_back([impl = impl_.get(), i] { impl->run_io(i); });
  }
  impl_->run_io(0);
  for (auto& ios : impl_->ios) ios->stop();
  for (auto& t : threads) t.join();
  impl_->ctx.set_io_cpu_probe(nullptr);
}

void HttpServer::stop() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->stop_now(); });
}

}  // namespace agentserve::server
