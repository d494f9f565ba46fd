#include "fault_proxy/fault_proxy.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <istream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include "mst/fhir/json_value.h"

namespace mst::testing {

namespace {

using fhir::JsonValue;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Headers that describe one connection, not the message: never passed on.
// Content-Length is recomputed for the body actually sent.
bool hop_by_hop(const std::string& name) {
  static const std::array<std::string_view, 10> kNames = {
      "connection", "keep-alive", "proxy-connection",    "transfer-encoding",  "te",
      "trailer",    "upgrade",    "proxy-authorization", "proxy-authenticate", "content-length"};
  const std::string l = lower(name);
  return std::find(kNames.begin(), kNames.end(), l) != kNames.end() || l == "expect";
}

// Writes carry side effects, so no fault may let one reach the upstream
// unseen (except the opt-in reset-after-write).
bool is_write(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

std::string read_all(std::istream& in) {
  std::string out;
  char buffer[16 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    out.append(buffer, static_cast<std::size_t>(in.gcount()));
  }
  return out;
}

std::string outcome(std::string_view code, std::string_view diagnostics) {
  return JsonValue::object(
             {{"resourceType", "OperationOutcome"},
              {"issue",
               JsonValue::array({JsonValue::object(
                   {{"severity", "error"}, {"code", code}, {"diagnostics", diagnostics}})})}})
      .dump();
}

struct UpstreamTarget {
  std::string host;
  std::uint16_t port = 0;
  std::string prefix;  // "" or "/base", no trailing slash
};

UpstreamTarget parse_upstream(const std::string& url) {
  Poco::URI uri;
  try {
    uri = Poco::URI(url);
  } catch (const Poco::Exception& e) {
    throw std::invalid_argument("upstream '" + url + "' is not a URL: " + e.message());
  }
  if (uri.getScheme() != "http" || uri.getHost().empty()) {
    throw std::invalid_argument("upstream must be an http://host:port URL, not '" + url + "'");
  }
  if (!uri.getRawQuery().empty() || !uri.getFragment().empty()) {
    throw std::invalid_argument("upstream URL must not carry a query or fragment");
  }
  UpstreamTarget t{uri.getHost(), uri.getPort(), uri.getPath()};
  while (!t.prefix.empty() && t.prefix.back() == '/') t.prefix.pop_back();
  return t;
}

struct UpstreamReply {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::string> content_length;  // as announced, for HEAD
};

}  // namespace

std::uint64_t FaultCounts::total_injected() const {
  std::uint64_t sum = 0;
  for (auto n : injected) sum += n;
  return sum;
}

std::string FaultCounts::to_json() const {
  JsonValue faults = JsonValue::object();
  for (Fault f : kAllFaults) faults.set(fault_name(f), static_cast<std::int64_t>(of(f)));
  return JsonValue::object({{"requests", static_cast<std::int64_t>(requests)},
                            {"forwarded", static_cast<std::int64_t>(forwarded)},
                            {"upstream_errors", static_cast<std::int64_t>(upstream_errors)},
                            {"faults", std::move(faults)}})
      .dump();
}

std::string FaultCounts::to_line() const {
  std::string s = "requests=" + std::to_string(requests) +
                  " forwarded=" + std::to_string(forwarded) +
                  " upstream_errors=" + std::to_string(upstream_errors);
  for (Fault f : kAllFaults) s += " " + std::string(fault_name(f)) + "=" + std::to_string(of(f));
  return s;
}

class FaultProxy::Impl {
 public:
  explicit Impl(FaultProxyOptions options)
      : options_(std::move(options)),
        upstream_(parse_upstream(options_.upstream)),
        plan_(options_.rate, options_.seed, options_.faults) {
    Poco::Net::IPAddress host;
    if (!Poco::Net::IPAddress::tryParse(options_.listen_host, host) || !host.isLoopback()) {
      throw std::invalid_argument("the fault proxy listens on loopback addresses only, not " +
                                  options_.listen_host);
    }
  }

  std::uint16_t start();
  void stop();
  // The listening host as it goes in a URL ("[::1]" for IPv6).
  std::string url_host() const {
    return options_.listen_host.find(':') == std::string::npos ? options_.listen_host
                                                               : "[" + options_.listen_host + "]";
  }
  FaultCounts counts() const;
  void serve(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

 private:
  class Handler;
  class HandlerFactory;

  void count(Fault f) { ++injected_[static_cast<std::size_t>(f)]; }
  // Waits `d` unless the proxy stops first; false when it stopped.
  bool wait(std::chrono::milliseconds d);
  std::optional<UpstreamReply> forward(const Poco::Net::HTTPServerRequest& request,
                                       const std::string& target, const std::string& body);
  void reply(Poco::Net::HTTPServerResponse& response, const UpstreamReply& up, bool head);
  void reply_truncated(Poco::Net::HTTPServerResponse& response, const UpstreamReply& up);
  static void reply_outcome(Poco::Net::HTTPServerResponse& response, int status,
                            std::string_view code, std::string_view diagnostics);
  static void reset(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

  FaultProxyOptions options_;
  UpstreamTarget upstream_;
  FaultPlan plan_;

  std::atomic<std::uint16_t> port_{0};
  std::atomic<std::uint64_t> next_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> forwarded_{0};
  std::atomic<std::uint64_t> upstream_errors_{0};
  std::array<std::atomic<std::uint64_t>, kFaultKinds> injected_{};

  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;

  std::unique_ptr<Poco::ThreadPool> threads_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

class FaultProxy::Impl::Handler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(Impl& impl) : impl_(impl) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    impl_.serve(request, response);
  }

 private:
  Impl& impl_;
};

class FaultProxy::Impl::HandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HandlerFactory(Impl& impl) : impl_(impl) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Handler(impl_);
  }

 private:
  Impl& impl_;
};

std::uint16_t FaultProxy::Impl::start() {
  if (server_) throw std::logic_error("the fault proxy is already started");
  Poco::Net::ServerSocket socket(
      Poco::Net::SocketAddress(options_.listen_host, options_.listen_port), 64);
  auto params = Poco::AutoPtr<Poco::Net::HTTPServerParams>(new Poco::Net::HTTPServerParams);
  params->setKeepAlive(true);
  params->setTimeout(Poco::Timespan(30, 0));
  params->setMaxThreads(32);
  params->setMaxQueued(64);
  threads_ = std::make_unique<Poco::ThreadPool>(2, 32);
  server_ =
      std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(*this), *threads_, socket, params);
  server_->start();
  port_ = socket.address().port();
  return port_;
}

void FaultProxy::Impl::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !server_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  server_->stopAll(true);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server_->currentConnections() > 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server_.reset();
  threads_->joinAll();
}

FaultCounts FaultProxy::Impl::counts() const {
  FaultCounts c;
  c.requests = requests_.load();
  c.forwarded = forwarded_.load();
  c.upstream_errors = upstream_errors_.load();
  for (std::size_t i = 0; i < kFaultKinds; ++i) c.injected[i] = injected_[i].load();
  return c;
}

bool FaultProxy::Impl::wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, d, [this] { return stopping_; });
}

void FaultProxy::Impl::serve(Poco::Net::HTTPServerRequest& request,
                             Poco::Net::HTTPServerResponse& response) {
  const std::string& method = request.getMethod();
  const std::string target = request.getURI();
  if (target.substr(0, target.find('?')) == "/__proxy/stats") {
    response.setContentType("application/json");
    const std::string body = counts().to_json();
    response.sendBuffer(body.data(), body.size());
    return;
  }
  // The whole request first: a fault then hits a client that is waiting for
  // its response, as when a server fails while processing.
  std::string body = read_all(request.stream());
  ++requests_;
  ProxiedRequest proxied{method, target, std::move(body),
                         "http://" + url_host() + ":" + std::to_string(port_.load())};
  if (options_.filter) {
    if (auto answer = options_.filter->on_request(proxied)) {
      response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer->status));
      response.setContentType(answer->content_type);
      return response.sendBuffer(answer->body.data(), answer->body.size());
    }
  }
  // Rewrites the answer of a forwarded request (when a filter asks to).
  auto forward_filtered = [&]() -> std::optional<UpstreamReply> {
    auto up = forward(request, proxied.target, proxied.body);
    if (up && options_.filter) options_.filter->on_response(proxied, up->status, up->body);
    return up;
  };
  const std::optional<Fault> fault = plan_.fault_for(next_++);
  const bool write = is_write(method);
  const bool head = method == "HEAD";

  if (!fault || *fault == Fault::kLatency) {
    if (fault) {
      count(Fault::kLatency);
      if (!wait(options_.latency)) return reset(request, response);
    }
    if (auto up = forward_filtered()) return reply(response, *up, head);
    return reply_outcome(response, 502, "transient", "mst-fault-proxy: upstream failed");
  }
  switch (*fault) {
    case Fault::kReset:
      count(Fault::kReset);
      return reset(request, response);
    case Fault::kTooManyRequests:
      count(Fault::kTooManyRequests);
      response.set("Retry-After", "1");
      return reply_outcome(response, 429, "throttled", "mst-fault-proxy: injected 429");
    case Fault::kUnavailable:
      count(Fault::kUnavailable);
      return reply_outcome(response, 503, "transient", "mst-fault-proxy: injected 503");
    case Fault::kTruncate: {
      count(Fault::kTruncate);
      if (write) {
        // The write is not forwarded: the cut response is a server error.
        UpstreamReply fake{503,
                           "Service Unavailable",
                           {{"Content-Type", "application/fhir+json"}},
                           outcome("transient", "mst-fault-proxy: injected truncated 503"),
                           std::nullopt};
        return reply_truncated(response, fake);
      }
      if (auto up = forward_filtered()) return reply_truncated(response, *up);
      return reply_outcome(response, 502, "transient", "mst-fault-proxy: upstream failed");
    }
    case Fault::kResetAfterWrite:
      count(Fault::kResetAfterWrite);
      (void)forward(request, proxied.target, proxied.body);
      return reset(request, response);
    case Fault::kLatency:
      break;  // handled above
  }
}

std::optional<UpstreamReply> FaultProxy::Impl::forward(const Poco::Net::HTTPServerRequest& request,
                                                       const std::string& target,
                                                       const std::string& body) {
  ++forwarded_;
  try {
    Poco::Net::HTTPClientSession session(upstream_.host, upstream_.port);
    const Poco::Timespan timeout(
        std::chrono::duration_cast<std::chrono::microseconds>(options_.upstream_timeout).count());
    session.setTimeout(timeout, timeout, timeout);
    Poco::Net::HTTPRequest out(request.getMethod(), upstream_.prefix + target,
                               Poco::Net::HTTPMessage::HTTP_1_1);
    // Host is kept as the client sent it, so the upstream's own links
    // (paging, Location) lead back through the proxy.
    for (const auto& [name, value] : request) {
      if (!hop_by_hop(name)) out.add(name, value);
    }
    out.setKeepAlive(false);
    if (!body.empty() || is_write(request.getMethod())) {
      out.setContentLength64(static_cast<Poco::Int64>(body.size()));
    }
    std::ostream& os = session.sendRequest(out);
    os.write(body.data(), static_cast<std::streamsize>(body.size()));

    Poco::Net::HTTPResponse in;
    std::istream& is = session.receiveResponse(in);
    UpstreamReply up;
    up.status = static_cast<int>(in.getStatus());
    up.reason = in.getReason();
    for (const auto& [name, value] : in) {
      if (lower(name) == "content-length") up.content_length = value;
      if (!hop_by_hop(name)) up.headers.emplace_back(name, value);
    }
    up.body = read_all(is);
    return up;
  } catch (const Poco::Exception&) {
    ++upstream_errors_;
  } catch (const std::exception&) {
    ++upstream_errors_;
  }
  return std::nullopt;
}

void FaultProxy::Impl::reply(Poco::Net::HTTPServerResponse& response, const UpstreamReply& up,
                             bool head) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(up.status),
                              up.reason);
  for (const auto& [name, value] : up.headers) response.add(name, value);
  if (head) {
    if (up.content_length) response.set("Content-Length", *up.content_length);
    response.send();
    return;
  }
  response.setContentLength64(static_cast<Poco::Int64>(up.body.size()));
  std::ostream& out = response.send();
  out.write(up.body.data(), static_cast<std::streamsize>(up.body.size()));
  out.flush();
}

void FaultProxy::Impl::reply_truncated(Poco::Net::HTTPServerResponse& response,
                                       const UpstreamReply& up) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(up.status),
                              up.reason);
  for (const auto& [name, value] : up.headers) response.add(name, value);
  // Announce the whole body (at least one byte), send half, then close.
  const std::size_t announced = std::max<std::size_t>(up.body.size(), 1);
  response.setContentLength64(static_cast<Poco::Int64>(announced));
  response.setKeepAlive(false);
  std::ostream& out = response.send();
  out.write(up.body.data(), static_cast<std::streamsize>(up.body.size() / 2));
  out.flush();
}

void FaultProxy::Impl::reply_outcome(Poco::Net::HTTPServerResponse& response, int status,
                                     std::string_view code, std::string_view diagnostics) {
  response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  response.setContentType("application/fhir+json");
  const std::string body = outcome(code, diagnostics);
  response.sendBuffer(body.data(), body.size());
}

void FaultProxy::Impl::reset(Poco::Net::HTTPServerRequest& request,
                             Poco::Net::HTTPServerResponse& response) {
  response.setKeepAlive(false);
  // With a zero linger, closing the socket sends RST instead of FIN; the
  // server closes it once this handler returns without a response.
  dynamic_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket().setLinger(true, 0);
}

FaultProxy::FaultProxy(FaultProxyOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

FaultProxy::~FaultProxy() { stop(); }

void FaultProxy::start() { port_ = impl_->start(); }

void FaultProxy::stop() { impl_->stop(); }

std::string FaultProxy::url(const std::string& path_and_query) const {
  return "http://" + impl_->url_host() + ":" + std::to_string(port_) + path_and_query;
}

FaultCounts FaultProxy::counts() const { return impl_->counts(); }

}  // namespace mst::testing
