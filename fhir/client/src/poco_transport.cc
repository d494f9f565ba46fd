// HttpTransport over Poco::Net's HTTP(S)ClientSession, with a keep-alive pool,
// a whole-exchange deadline and strict TLS verification.
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/X509Certificate.h>
#include <Poco/Timespan.h>
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <csignal>
#include <exception>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "deadline_watchdog.h"
#include "http_url.h"
#include "mst/fhir/http_transport.h"
#include "transport_rules.h"

namespace mst::fhir {

namespace {

using detail::BodyOut;
using detail::Clock;
using detail::fail;
using detail::HttpUrl;
using detail::Outgoing;
using detail::SinkFailed;
using Kind = TransportError::Kind;
using std::chrono::milliseconds;

Poco::Timespan to_timespan(Clock::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return Poco::Timespan(std::max<Poco::Timespan::TimeDiff>(us, 1000));
}

long long to_ms(Clock::duration d) {
  return static_cast<long long>(std::chrono::duration_cast<milliseconds>(d).count());
}

// OpenSSL writes to sockets with plain send(), so a peer that went away
// raises SIGPIPE, which kills a process that did not ignore it. A library
// must not change the process's signal dispositions: block SIGPIPE in this
// thread for the duration of a call and discard one that it caused.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    sigset_t old;
    pthread_sigmask(SIG_BLOCK, &set_, &old);
    was_blocked_ = sigismember(&old, SIGPIPE) == 1;
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeBlock() {
    if (was_blocked_) return;
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        sigtimedwait(&set_, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_UNBLOCK, &set_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t set_;
  bool was_blocked_ = false;
  bool was_pending_ = false;
};

// One pooled keep-alive connection.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Poco::Net::HTTPClientSession& http() = 0;
  // TCP connect and, for https, the TLS handshake.
  virtual void open() = 0;
  // The session's buffered reader, beneath Poco's body streams: next byte or
  // -1 at EOF, and up to `n` bytes (0 at EOF).
  virtual int next_byte() = 0;
  virtual int read_some(char* buffer, std::streamsize n) = 0;

  bool reused = false;
  bool secured = false;  // TLS handshake done and the peer's name checked
  Clock::time_point idle_since{};
};

template <class Base>
class PocoConnection final : public Connection {
 public:
  template <class... Args>
  explicit PocoConnection(Args&&... args) : session_(std::forward<Args>(args)...) {
    session_.setKeepAlive(true);
  }
  Poco::Net::HTTPClientSession& http() override { return session_; }
  void open() override { session_.open(); }
  int next_byte() override { return session_.next_byte(); }
  int read_some(char* buffer, std::streamsize n) override { return session_.read_some(buffer, n); }

 private:
  class Session final : public Base {
   public:
    using Base::Base;
    // Poco's request stream flushes whatever it still buffers when it is
    // destroyed. Left to ~HTTPClientSession, that write goes through
    // HTTPClientSession::write, which reconnects and sends the rest of a
    // failed request to the server on a new connection. Drop it here, while
    // write() below is still the one called.
    ~Session() override {
      discarding_ = true;
      try {
        this->flushRequest();
      } catch (...) {
        // The failure was reported when it happened.
      }
    }
    void open() { this->reconnect(); }
    int next_byte() { return this->get(); }
    int read_some(char* buffer, std::streamsize n) { return this->read(buffer, n); }

   protected:
    // Poco re-sends a request on a new connection when a write fails on a
    // kept-alive one, whatever the method; here the transport decides that.
    int write(const char* buffer, std::streamsize length) override {
      if (discarding_) return static_cast<int>(length);
      // Past HTTPClientSession::write on purpose: it is the re-send.
      return Poco::Net::HTTPSession::write(buffer, length);  // NOLINT(bugprone-parent-virtual-call)
    }
    // Idle expiry and "Connection: close" are the pool's business.
    bool mustReconnect() const override { return false; }

   private:
    bool discarding_ = false;
  };
  Session session_;
};

// Connections per origin; a send() owns a connection exclusively until it
// hands it back.
class SessionPool {
 public:
  SessionPool(const TransportOptions& options, Poco::Net::Context::Ptr tls)
      : options_(options), tls_(std::move(tls)) {}

  // An idle connection that still looks alive, or a new unconnected one.
  std::unique_ptr<Connection> acquire(const HttpUrl& url, bool fresh) {
    while (!fresh) {
      std::unique_ptr<Connection> candidate;
      {
        std::lock_guard lock(mu_);
        auto it = idle_.find(url.origin());
        if (it == idle_.end() || it->second.empty()) break;
        candidate = std::move(it->second.back());
        it->second.pop_back();
      }
      if (usable(*candidate)) return candidate;
      // Destroyed here, outside the lock: closing may block briefly.
    }
    if (url.scheme == "https") {
      return std::make_unique<PocoConnection<Poco::Net::HTTPSClientSession>>(url.host, url.port,
                                                                             tls_);
    }
    return std::make_unique<PocoConnection<Poco::Net::HTTPClientSession>>(url.host, url.port);
  }

  void release(const HttpUrl& url, std::unique_ptr<Connection> connection) {
    connection->reused = true;
    connection->idle_since = Clock::now();
    std::lock_guard lock(mu_);
    auto& idle = idle_[url.origin()];
    if (idle.size() < options_.max_idle_per_origin) idle.push_back(std::move(connection));
  }

  // After one kept-alive connection turned out dead, the others to the same
  // server (idle as long or longer) are suspect too.
  void drop_idle(const HttpUrl& url) {
    std::vector<std::unique_ptr<Connection>> doomed;
    std::lock_guard lock(mu_);
    auto it = idle_.find(url.origin());
    if (it != idle_.end()) doomed.swap(it->second);
  }

  void clear() {
    std::lock_guard lock(mu_);
    idle_.clear();
  }

 private:
  bool usable(Connection& c) const {
    if (Clock::now() - c.idle_since >= options_.idle_timeout) return false;
    try {
      // An idle connection has nothing to say: readable means the server
      // closed it (EOF) or sent something unexpected.
      return !c.http().socket().poll(
          Poco::Timespan(0), Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR);
    } catch (const Poco::Exception&) {
      return false;
    }
  }

  const TransportOptions& options_;
  Poco::Net::Context::Ptr tls_;
  std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
};

// Duplicate of a connection's socket descriptor, owned by one exchange: the
// watchdog shuts the connection down through it, and since it stays open
// until the exchange ends, the number cannot be reused by another socket
// even if Poco closes its own descriptor meanwhile.
class DupFd {
 public:
  explicit DupFd(int fd) : fd_(::dup(fd)) {}
  ~DupFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  DupFd(const DupFd&) = delete;
  DupFd& operator=(const DupFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Thrown when a reused connection failed before any response: the server
// closed it while it sat in the pool.
struct StaleConnection {};

enum class Phase { kSend, kHeaders, kBody };

struct Exchanged {
  HttpResponse response;
  bool reusable = false;
};

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string host_header(const HttpUrl& url) {
  // authority_url() is "scheme://authority".
  const std::string a = url.authority_url();
  return a.substr(a.find("://") + 3);
}

std::string detail_of(const Poco::Exception& e) {
  std::string text = e.name();
  if (!e.message().empty()) text += ": " + e.message();
  return detail::sanitize_detail(text);
}

Poco::Net::Context::Ptr make_tls_context(const TransportOptions& options) {
  using Poco::Net::Context;
  if (!options.ca_file.empty()) detail::check_ca_bundle(options.ca_file);
  Context::Params params;
  params.verificationMode = options.verify_tls ? Context::VERIFY_RELAXED : Context::VERIFY_NONE;
  params.caLocation = options.ca_file;
  params.loadDefaultCAs = options.ca_file.empty();
  params.cipherList = detail::kCipherList;
  Context::Ptr context;
  try {
    context = new Context(Context::TLS_CLIENT_USE, params);
  } catch (const Poco::Exception& e) {
    throw TransportError(Kind::kTls, "cannot set up TLS: " + detail_of(e));
  }
  context->requireMinimumProtocol(Context::PROTO_TLSV1_2);
  // Host names are checked strictly by verify_peer_name(); Poco's own check
  // also accepts a name that merely resolves to the peer's address.
  context->enableExtendedCertificateVerification(false);
  if (options.verify_tls) {
    // OpenSSL's verdict, not Poco's process-wide handler (an application
    // that installs an "accept all" handler must not weaken this client).
    SSL_CTX_set_verify(context->sslContext(), SSL_VERIFY_PEER, nullptr);
  }
  return context;
}

void verify_peer_name(Poco::Net::SecureStreamSocket& secure, const Outgoing& out) {
  const Poco::Net::X509Certificate certificate = secure.peerCertificate();
  X509* x509 = const_cast<X509*>(certificate.certificate());
  const std::string& host = out.url.host;
  const int ok = is_ip_literal(host)
                     ? X509_check_ip_asc(x509, host.c_str(), 0)
                     : X509_check_host(x509, host.data(), host.size(),
                                       X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr);
  if (ok != 1) fail(Kind::kTls, out.method, out.url, "server certificate does not match the host");
}

class PocoTransport final : public HttpTransport {
 public:
  explicit PocoTransport(const TransportOptions& options)
      : options_(options), pool_(options_, make_tls_context(options_)) {}

  ~PocoTransport() override {
    SigpipeBlock sigpipe;
    pool_.clear();
  }

  HttpResponse send(const HttpRequest& request) override { return send_with(request, nullptr); }

  HttpResponse send_streamed(const HttpRequest& request, const BodySink& sink) override {
    return send_with(request, &sink);
  }

 private:
  HttpResponse send_with(const HttpRequest& request, const BodySink* sink) {
    SigpipeBlock sigpipe;
    const auto started = Clock::now();
    const auto deadline = detail::exchange_deadline(options_, request, started);
    return detail::send_following_redirects(options_, request, [&](const Outgoing& out) {
      return send_once(out, deadline, deadline - started, sink);
    });
  }

  // One request on a pooled connection, retried once on a fresh connection
  // when an idempotent request met a connection the server had closed
  // (always before any body, so before anything reached a sink).
  HttpResponse send_once(const Outgoing& out, Clock::time_point deadline, Clock::duration budget,
                         const BodySink* sink) {
    auto connection = pool_.acquire(out.url, /*fresh=*/false);
    Exchanged result;
    try {
      result = exchange(*connection, out, deadline, budget, sink);
    } catch (const StaleConnection&) {
      pool_.drop_idle(out.url);
      if (!detail::is_idempotent(out.method)) {
        fail(Kind::kConnect, out.method, out.url,
             "the server closed the kept-alive connection before responding; not re-sent "
             "because the method is not idempotent");
      }
      connection = pool_.acquire(out.url, /*fresh=*/true);
      result = exchange(*connection, out, deadline, budget, sink);
    }
    if (result.reusable) pool_.release(out.url, std::move(connection));
    return std::move(result.response);
  }

  Exchanged exchange(Connection& connection, const Outgoing& out, Clock::time_point deadline,
                     Clock::duration budget, const BodySink* sink) {
    auto& session = connection.http();
    const bool reused = connection.reused;
    auto remaining = deadline - Clock::now();
    if (remaining <= Clock::duration::zero()) {
      fail(Kind::kTimeout, out.method, out.url,
           "timed out after " + std::to_string(to_ms(budget)) + " ms before the request was sent");
    }
    if (!session.connected()) open(connection, out, remaining);
    session.socket().setReceiveTimeout(to_timespan(remaining));
    session.socket().setSendTimeout(to_timespan(remaining));

    DupFd fd(session.socket().impl()->sockfd());
    if (fd.get() < 0) fail(Kind::kConnect, out.method, out.url, "cannot watch the connection");
    auto guard = watchdog_.arm(deadline, [raw = fd.get()] { ::shutdown(raw, SHUT_RDWR); });
    if (out.url.scheme == "https" && !connection.secured) secure(connection, out, guard, budget);

    Exchanged result;
    Phase phase = Phase::kSend;
    Poco::Net::HTTPResponse head;
    bool complete = false;
    std::optional<BodyOut> body;
    try {
      Poco::Net::HTTPRequest request(out.method, out.url.target(),
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.set("Host", host_header(out.url));
      for (const auto& [name, value] : *out.headers) request.add(name, value);
      if (!detail::has_header(*out.headers, "user-agent"))
        request.set("User-Agent", options_.user_agent);
      if (detail::sends_content_length(out.method, *out.body)) {
        request.setContentLength64(static_cast<Poco::Int64>(out.body->size()));
      }
      request.setKeepAlive(true);
      std::ostream& os = session.sendRequest(request);
      os.write(out.body->data(), static_cast<std::streamsize>(out.body->size()));
      os.flush();
      if (!os.good()) rethrow_network(session, "the request could not be written");

      phase = Phase::kHeaders;
      std::istream& is = session.receiveResponse(head);
      phase = Phase::kBody;
      result.response.status = head.getStatus();
      for (const auto& [name, value] : head) {
        std::string lower = name;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        result.response.headers.emplace_back(std::move(lower), value);
      }
      const bool streamed = sink != nullptr && head.getStatus() >= 200 && head.getStatus() < 300;
      body.emplace(result.response.body, streamed ? sink : nullptr, options_.max_response_bytes);
      const bool no_body = detail::bodiless(out.method, head.getStatus());
      if (no_body) {
        complete = true;
      } else if (head.getChunkedTransferEncoding()) {
        read_chunked_body(connection, out, *body);
        complete = true;
      } else {
        complete = read_body(is, head, session, out, *body);
      }
      result.reusable = complete && head.getKeepAlive() &&
                        (no_body || head.hasContentLength() || head.getChunkedTransferEncoding());
    } catch (const SinkFailed& e) {
      guard.disarm();
      std::rethrow_exception(e.error);
    } catch (const TransportError&) {
      // A body cut short by the watchdog is a timeout, not a protocol error.
      guard.disarm();
      if (guard.fired()) timed_out(out, budget);
      throw;
    } catch (const Poco::Exception& e) {
      guard.disarm();
      classify(e, phase, guard.fired(), reused, out, budget);
    } catch (const std::exception& e) {
      guard.disarm();
      if (guard.fired()) timed_out(out, budget);
      fail(Kind::kConnect, out.method, out.url, detail::sanitize_detail(e.what()));
    }
    guard.disarm();
    // The watchdog's shutdown can look like a clean end of a body that is
    // delimited by the connection closing; it always means "too late".
    if (guard.fired()) timed_out(out, budget);
    if (!complete) {
      fail(Kind::kProtocol, out.method, out.url,
           "the connection closed after " + std::to_string(body ? body->size() : 0) + " of " +
               std::to_string(head.getContentLength64()) + " body bytes");
    }
    return result;
  }

  void open(Connection& connection, const Outgoing& out, Clock::duration remaining) {
    auto& session = connection.http();
    const auto connect_budget = std::min<Clock::duration>(options_.connect_timeout, remaining);
    session.setTimeout(to_timespan(connect_budget), to_timespan(remaining), to_timespan(remaining));
    try {
      if (out.url.scheme == "https") {
        // Connect only; the handshake happens in secure(), under the
        // deadline watchdog, so a peer that stalls it cannot outlast it.
        Poco::Net::SecureStreamSocket(session.socket()).setLazyHandshake(true);
      }
      connection.open();
    } catch (const Poco::TimeoutException&) {
      fail(Kind::kTimeout, out.method, out.url,
           "connect timed out after " + std::to_string(to_ms(connect_budget)) + " ms");
    } catch (const Poco::Net::SSLException& e) {
      fail(Kind::kTls, out.method, out.url, "TLS handshake failed (" + detail_of(e) + ")");
    } catch (const Poco::Exception& e) {
      fail(Kind::kConnect, out.method, out.url, "cannot connect (" + detail_of(e) + ")");
    }
  }

  void secure(Connection& connection, const Outgoing& out,
              const detail::DeadlineWatchdog::Guard& guard, Clock::duration budget) {
    try {
      Poco::Net::SecureStreamSocket socket(connection.http().socket());
      socket.completeHandshake();
      if (options_.verify_tls) verify_peer_name(socket, out);
      connection.secured = true;
    } catch (const TransportError&) {
      throw;
    } catch (const Poco::Exception& e) {
      if (guard.fired() || dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr) {
        timed_out(out, budget);
      }
      fail(Kind::kTls, out.method, out.url, "TLS handshake failed (" + detail_of(e) + ")");
    }
  }

  // Reads the body into `body`; false when the peer closed before the
  // announced Content-Length arrived.
  bool read_body(std::istream& is, const Poco::Net::HTTPResponse& head,
                 Poco::Net::HTTPClientSession& session, const Outgoing& out, BodyOut& body) {
    const std::size_t limit = options_.max_response_bytes;
    const auto too_large = [&] {
      fail(Kind::kTooLarge, out.method, out.url,
           "response body exceeds the limit of " + std::to_string(limit) + " bytes");
    };
    if (head.hasContentLength()) {
      const auto length = head.getContentLength64();
      if (length < 0 || body.exceeds(static_cast<std::uint64_t>(length))) too_large();
      body.reserve(static_cast<std::size_t>(length));
    }
    std::array<char, std::size_t{16} * 1024> buffer;
    while (true) {
      is.read(buffer.data(), buffer.size());
      const auto n = static_cast<std::size_t>(is.gcount());
      if (body.exceeds(n)) too_large();
      body.put(buffer.data(), n);
      if (!is) break;
    }
    if (is.bad()) rethrow_network(session, "the response body could not be read");
    if (head.hasContentLength()) {
      return body.size() == static_cast<std::size_t>(head.getContentLength64());
    }
    return true;
  }

  // Decodes a chunked body straight from the connection (RFC 9112 7.1).
  // Poco 1.11's chunked stream reports a connection closed mid-chunk as a
  // normal end of body, which would hand a truncated resource to the caller;
  // reading the chunks here also refuses an oversized chunk before reading it.
  void read_chunked_body(Connection& connection, const Outgoing& out, BodyOut& body) {
    const std::size_t limit = options_.max_response_bytes;
    const auto malformed = [&](const char* what) {
      fail(Kind::kProtocol, out.method, out.url, std::string("malformed chunked body: ") + what);
    };
    const auto truncated = [&] {
      fail(Kind::kProtocol, out.method, out.url,
           "the connection closed inside the chunked body after " + std::to_string(body.size()) +
               " bytes");
    };
    // One line without its CRLF; chunk lines are short, so cap them.
    const auto read_line = [&](std::string& line) {
      line.clear();
      while (true) {
        const int c = connection.next_byte();
        if (c < 0) truncated();
        if (c == '\n') break;
        if (line.size() >= 4096) malformed("line too long");
        line.push_back(static_cast<char>(c));
      }
      if (!line.empty() && line.back() == '\r') line.pop_back();
    };
    std::string line;
    std::array<char, std::size_t{16} * 1024> buffer;
    while (true) {
      read_line(line);
      std::uint64_t size = 0;
      std::size_t digits = 0;
      for (char c : line) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) break;
        if (++digits > 15) malformed("chunk size too large");
        size = size * 16 + static_cast<std::uint64_t>(
                               std::isdigit(static_cast<unsigned char>(c))
                                   ? c - '0'
                                   : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
      }
      if (digits == 0) malformed("no chunk size");
      if (digits < line.size() && line[digits] != ';' && line[digits] != ' ' &&
          line[digits] != '\t') {
        malformed("bad chunk size");
      }
      if (size == 0) break;
      if (body.exceeds(size)) {
        fail(Kind::kTooLarge, out.method, out.url,
             "response body exceeds the limit of " + std::to_string(limit) + " bytes");
      }
      while (size > 0) {
        const auto want =
            static_cast<std::streamsize>(std::min<std::uint64_t>(size, buffer.size()));
        const int n = connection.read_some(buffer.data(), want);
        if (n <= 0) truncated();
        body.put(buffer.data(), static_cast<std::size_t>(n));
        size -= static_cast<std::uint64_t>(n);
      }
      read_line(line);
      if (!line.empty()) malformed("chunk data longer than its size");
    }
    // Trailer fields are read and dropped, up to the blank line.
    for (int fields = 0;; ++fields) {
      read_line(line);
      if (line.empty()) return;
      if (fields >= 100) malformed("too many trailer fields");
    }
  }

  // Poco's streams swallow the socket's exception and set badbit; the
  // session keeps a copy.
  [[noreturn]] static void rethrow_network(Poco::Net::HTTPClientSession& session,
                                           const char* what) {
    if (const Poco::Exception* e = session.networkException()) e->rethrow();
    throw Poco::IOException(what);
  }

  [[noreturn]] static void timed_out(const Outgoing& out, Clock::duration budget) {
    fail(Kind::kTimeout, out.method, out.url,
         "no complete response within " + std::to_string(to_ms(budget)) + " ms");
  }

  [[noreturn]] static void classify(const Poco::Exception& e, Phase phase, bool fired, bool reused,
                                    const Outgoing& out, Clock::duration budget) {
    if (fired || dynamic_cast<const Poco::TimeoutException*>(&e) != nullptr) {
      timed_out(out, budget);
    }
    if (phase == Phase::kBody &&
        dynamic_cast<const Poco::Net::SSLConnectionUnexpectedlyClosedException*>(&e) != nullptr) {
      fail(Kind::kProtocol, out.method, out.url,
           "the connection closed before the body was complete");
    }
    const bool closed =
        dynamic_cast<const Poco::Net::NoMessageException*>(&e) != nullptr ||
        dynamic_cast<const Poco::Net::ConnectionResetException*>(&e) != nullptr ||
        dynamic_cast<const Poco::Net::ConnectionAbortedException*>(&e) != nullptr ||
        dynamic_cast<const Poco::Net::SSLConnectionUnexpectedlyClosedException*>(&e) != nullptr;
    const bool write_failed = phase == Phase::kSend &&
                              dynamic_cast<const Poco::IOException*>(&e) != nullptr &&
                              dynamic_cast<const Poco::Net::SSLException*>(&e) == nullptr;
    if (reused && (write_failed || (phase == Phase::kHeaders && closed))) throw StaleConnection{};
    if (closed) {
      fail(Kind::kConnect, out.method, out.url,
           phase == Phase::kBody
               ? "the connection was lost while reading the body (" + detail_of(e) + ")"
               : "the server closed the connection without a response (" + detail_of(e) + ")");
    }
    if (dynamic_cast<const Poco::Net::SSLException*>(&e) != nullptr) {
      fail(Kind::kTls, out.method, out.url, "TLS failure (" + detail_of(e) + ")");
    }
    if (dynamic_cast<const Poco::Net::MessageException*>(&e) != nullptr ||
        dynamic_cast<const Poco::DataFormatException*>(&e) != nullptr ||
        dynamic_cast<const Poco::SyntaxException*>(&e) != nullptr) {
      // Not detail_of(): Poco quotes the offending bytes, which came from the server.
      fail(Kind::kProtocol, out.method, out.url,
           std::string("malformed HTTP response (") + e.name() + ")");
    }
    fail(Kind::kConnect, out.method, out.url, "connection failed (" + detail_of(e) + ")");
  }

  const TransportOptions options_;
  SessionPool pool_;
  detail::DeadlineWatchdog watchdog_;
};

std::once_flag ssl_initialised;

}  // namespace

std::unique_ptr<HttpTransport> make_poco_transport(const TransportOptions& options) {
  std::call_once(ssl_initialised, [] { Poco::Net::initializeSSL(); });
  return std::make_unique<PocoTransport>(options);
}

}  // namespace mst::fhir
