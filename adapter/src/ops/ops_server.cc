#include "mst/adapter/ops/ops_server.h"

#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <thread>

#include "mst/fhir/safe_text.h"

namespace mst::adapter {

namespace {

using SteadyClock = std::chrono::steady_clock;

// A probe sends its whole request at once; anything slower than this from
// accept to the last byte written is an idle or slow client and is dropped.
constexpr auto kExchangeDeadline = std::chrono::seconds(5);
// Beyond this many open connections the oldest is closed to admit the new
// one, so a flood of idle connections cannot lock out a fresh probe.
constexpr std::size_t kMaxConnections = 256;
// Request line and headers; the endpoints take no body.
constexpr std::size_t kMaxRequestBytes = 8192;
constexpr const char* kAllow = "GET, HEAD";

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

std::string serialize(const OpsReply& r, bool with_body) {
  std::string s = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) + "\r\n";
  s += "Content-Type: " + r.content_type + "\r\n";
  s += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  if (!r.allow.empty()) s += "Allow: " + r.allow + "\r\n";
  s += "Connection: close\r\n\r\n";
  if (with_body) s += r.body;
  return s;
}

OpsReply plain(int status, std::string body) {
  OpsReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

struct Connection {
  int fd = -1;
  SteadyClock::time_point deadline;
  std::string in;
  std::string out;
  std::size_t written = 0;
  bool responding = false;
};

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

OpsReply ops_reply(std::string_view method, std::string_view target, const Metrics& metrics,
                   const std::function<Readiness()>& readiness) {
  const std::string_view path = target.substr(0, target.find('?'));
  const bool known = path == "/healthz" || path == "/readyz" || path == "/metrics";
  if (method != "GET" && method != "HEAD") {
    OpsReply r = plain(405, "method not allowed\n");
    r.allow = kAllow;
    return r;
  }
  if (!known) return plain(404, "not found\n");
  if (path == "/healthz") return plain(200, "ok\n");
  if (path == "/readyz") {
    const Readiness r = readiness ? readiness() : Readiness{true, ""};
    // Anyone who reaches the port reads this: one filtered line.
    return r.ready ? plain(200, "ready\n")
                   : plain(503, "not ready: " + fhir::safe_text(r.reason) + "\n");
  }
  OpsReply r = plain(200, metrics.render());
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

struct OpsServer::Loop {
  const Metrics& metrics;
  std::function<Readiness()> readiness;
  int listener = -1;
  int wake[2] = {-1, -1};
  std::deque<Connection> connections;  // oldest first
  std::thread thread;

  Loop(const Metrics& m, std::function<Readiness()> r) : metrics(m), readiness(std::move(r)) {}

  ~Loop() {
    if (thread.joinable()) {
      const char byte = 0;
      while (::write(wake[1], &byte, 1) < 0 && errno == EINTR) {
      }
      thread.join();
    }
    for (auto& c : connections) ::close(c.fd);
    for (int fd : {listener, wake[0], wake[1]}) {
      if (fd >= 0) ::close(fd);
    }
  }

  void run() {
    std::vector<pollfd> fds;
    for (;;) {
      const auto now = SteadyClock::now();
      std::erase_if(connections, [&](const Connection& c) {
        if (c.deadline > now) return false;
        ::close(c.fd);  // idle or slow: no answer owed
        return true;
      });
      fds.assign({{wake[0], POLLIN, 0}, {listener, POLLIN, 0}});
      auto timeout = std::chrono::milliseconds(1000);
      for (const auto& c : connections) {
        fds.push_back({c.fd, static_cast<short>(c.responding ? POLLOUT : POLLIN), 0});
        timeout = std::min(timeout, std::chrono::ceil<std::chrono::milliseconds>(c.deadline - now));
      }
      const int n = ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
      if (n < 0 && errno != EINTR) return;
      if (n <= 0) continue;
      if (fds[0].revents != 0) return;
      // Serve the connections polled, then accept: their indices must match.
      for (std::size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents != 0) serve(connections[i - 2]);
      }
      std::erase_if(connections, [](const Connection& c) { return c.fd < 0; });
      if (fds[1].revents & POLLIN) accept_all();
    }
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a client gone before accept
      if (connections.size() >= kMaxConnections) {
        ::close(connections.front().fd);
        connections.pop_front();
      }
      connections.push_back({.fd = fd,
                             .deadline = SteadyClock::now() + kExchangeDeadline,
                             .in = {},
                             .out = {},
                             .written = 0,
                             .responding = false});
    }
  }

  void serve(Connection& c) {
    if (!c.responding) {
      char buf[2048];
      const ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) return drop(c);
      if (got > 0) c.in.append(buf, static_cast<std::size_t>(got));
      const auto end = c.in.find("\r\n\r\n");
      if (end == std::string::npos && c.in.size() < kMaxRequestBytes) return;
      respond(c, end == std::string::npos);
    }
    while (c.written < c.out.size()) {
      const ssize_t sent =
          ::send(c.fd, c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return drop(c);
      }
      c.written += static_cast<std::size_t>(sent);
    }
    ::shutdown(c.fd, SHUT_WR);
    drop(c);
  }

  void respond(Connection& c, bool too_large) {
    c.responding = true;
    if (too_large) {
      c.out = serialize(plain(431, "request too large\n"), true);
      return;
    }
    // "METHOD SP target SP HTTP/x.y"
    const std::string_view line = std::string_view(c.in).substr(0, c.in.find("\r\n"));
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/")) {
      c.out = serialize(plain(400, "bad request\n"), true);
      return;
    }
    const std::string_view method = line.substr(0, sp1);
    try {
      c.out = serialize(ops_reply(method, line.substr(sp1 + 1, sp2 - sp1 - 1), metrics, readiness),
                        method != "HEAD");
    } catch (const std::exception&) {
      c.out = serialize(plain(500, "internal error\n"), true);
    }
  }

  void drop(Connection& c) {
    ::close(c.fd);
    c.fd = -1;
  }
};

OpsServer::OpsServer(const std::string& listen, const Metrics& metrics,
                     std::function<Readiness()> readiness)
    : loop_(std::make_unique<Loop>(metrics, std::move(readiness))) {
  auto fail = [&](const std::string& why) {
    return std::runtime_error("cannot serve operations endpoints on " + listen + ": " + why);
  };
  Poco::Net::SocketAddress address;
  try {
    address = Poco::Net::SocketAddress(listen);
  } catch (const Poco::Exception& e) {
    throw fail(e.displayText());
  }
  Loop& l = *loop_;
  l.listener = ::socket(address.af(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (l.listener < 0) throw fail(errno_text(errno));
  // SO_REUSEADDR lets a restart bind past connections in TIME_WAIT; without
  // SO_REUSEPORT a second process on this port is refused, not load-shared.
  const int on = 1;
  ::setsockopt(l.listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(l.listener, address.addr(), address.length()) != 0) {
    const int err = errno;
    throw fail(err == EADDRINUSE ? "the port is in use by another process" : errno_text(err));
  }
  if (::listen(l.listener, 128) != 0) throw fail(errno_text(errno));
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  if (::getsockname(l.listener, reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
    port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                        : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  if (::pipe2(l.wake, O_NONBLOCK | O_CLOEXEC) != 0) throw fail(errno_text(errno));
  l.thread = std::thread([&l] { l.run(); });
}

OpsServer::~OpsServer() = default;

}  // namespace mst::adapter
