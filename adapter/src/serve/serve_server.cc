#include "mst/adapter/serve/serve_server.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

#include <istream>

namespace mst::adapter {

namespace {

// Reads at most `limit` bytes; false when the body is longer.
bool read_body(std::istream& in, std::size_t limit, std::string& out) {
  char buf[16384];
  while (in) {
    in.read(buf, sizeof buf);
    out.append(buf, static_cast<std::size_t>(in.gcount()));
    if (out.size() > limit) return false;
  }
  return true;
}

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  Handler(const ServeHandler& handler, const ServeLimits& limits, Metrics& metrics,
          const std::function<int()>& queued)
      : handler_(handler), limits_(limits), metrics_(metrics), queued_(queued) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    const auto started = std::chrono::steady_clock::now();
    const std::string path = request.getURI();
    const std::string label = endpoint_label(path);
    ServeReply reply;
    try {
      std::string body;
      const bool has_length =
          request.getContentLength() != Poco::Net::HTTPMessage::UNKNOWN_CONTENT_LENGTH;
      // A declared length over the limit is refused before reading; an
      // undeclared one when the read passes it.
      const bool too_large = (has_length && static_cast<std::size_t>(request.getContentLength()) >
                                                limits_.max_body_bytes) ||
                             !read_body(request.stream(), limits_.max_body_bytes, body);
      if (too_large) {
        reply = error_reply(413, "too-costly", "request body over the limit");
      } else {
        const BrowserHeaders browser{request.get("Origin", ""), request.get("Sec-Fetch-Site", "")};
        reply =
            handler_(request.getMethod(), path, body, request.get("Authorization", ""), browser);
      }
    } catch (const std::exception&) {
      // The handler maps every expected failure; what is left is a bug, and
      // its text is not the caller's business.
      reply = error_reply(500, "exception", "internal error");
    }
    response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
    response.setContentType(reply.content_type);
    if (!reply.allow.empty()) response.set("Allow", reply.allow);
    if (!reply.www_authenticate.empty()) response.set("WWW-Authenticate", reply.www_authenticate);
    response.set("Cache-Control", "no-store");
    for (const auto& [name, value] : reply.headers) response.set(name, value);
    if (reply.content_type.starts_with("text/html")) {
      // The review page: nothing but its own inline style runs or loads, its
      // form posts only here, no other site frames it (the write button),
      // and its address (which holds the review id) is never sent on as a
      // Referer when a clinician follows an evidence link.
      response.set("Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                   "frame-ancestors 'none'; base-uri 'none'");
      response.set("Referrer-Policy", "no-referrer");
      response.set("X-Content-Type-Options", "nosniff");
    }
    if (!keep_alive_after(reply.status, queued_())) response.setKeepAlive(false);
    const bool head = request.getMethod() == "HEAD";
    response.setContentLength(static_cast<std::streamsize>(reply.body.size()));
    auto& out = response.send();
    if (!head) out << reply.body;
    metrics_.count("mst_serve_requests_total", label);
    metrics_.observe(
        "mst_serve_" + label_metric(label) + "_duration_seconds",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }

 private:
  static std::string label_metric(const std::string& label) {
    if (label == "discovery" || label == "feedback") return label;
    if (label == "patient-view") return "patient_view";
    if (label == "review") return label;
    return "ops";
  }
  const ServeHandler& handler_;
  const ServeLimits& limits_;
  Metrics& metrics_;
  const std::function<int()>& queued_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(ServeHandler handler, ServeLimits limits, Metrics& metrics, std::function<int()> queued)
      : handler_(std::move(handler)),
        limits_(limits),
        metrics_(metrics),
        queued_(std::move(queued)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Handler(handler_, limits_, metrics_, queued_);
  }

 private:
  ServeHandler handler_;
  ServeLimits limits_;
  Metrics& metrics_;
  std::function<int()> queued_;
};

}  // namespace

std::string endpoint_label(std::string_view path) {
  path = path.substr(0, path.find('?'));
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/cds-services") return "discovery";
  if (path.starts_with("/cds-services/")) {
    return path.ends_with("/feedback") ? "feedback" : "patient-view";
  }
  if (path == "/healthz") return "healthz";
  if (path == "/readyz") return "readyz";
  if (path == "/metrics") return "metrics";
  if (path.starts_with("/review/")) return "review";
  return "other";
}

bool keep_alive_after(int status, int queued_connections) {
  return status != 413 && queued_connections <= 0;
}

bool is_loopback_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") return true;
  Poco::Net::IPAddress ip;
  return Poco::Net::IPAddress::tryParse(host, ip) && ip.isLoopback();
}

struct ServeServer::Impl {
  Poco::ThreadPool pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  Impl(int threads) : pool(1, threads) {}
};

ServeServer::ServeServer(const std::string& listen, const ServeLimits& limits, ServeHandler handler,
                         Metrics& metrics)
    : impl_(std::make_unique<Impl>(limits.threads)) {
  auto fail = [&](const std::string& why) {
    return std::runtime_error("cannot serve on " + listen + ": " + why);
  };
  Poco::Net::ServerSocket socket;
  try {
    socket.bind(Poco::Net::SocketAddress(listen), /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(128);
  } catch (const Poco::Exception& e) {
    throw fail(e.displayText());
  }
  port_ = socket.address().port();
  auto params = new Poco::Net::HTTPServerParams;  // owned by the server (AutoPtr)
  params->setMaxThreads(limits.threads);
  params->setMaxQueued(limits.queued);
  params->setTimeout(Poco::Timespan(static_cast<long>(limits.timeout.count()), 0));
  params->setKeepAliveTimeout(Poco::Timespan(static_cast<long>(limits.timeout.count()), 0));
  params->setServerName("mst-adapter");
  // Set before start(): no request reads it earlier.
  auto queued = [impl = impl_.get()] { return impl->server->queuedConnections(); };
  impl_->server = std::make_unique<Poco::Net::HTTPServer>(
      new Factory(std::move(handler), limits, metrics, queued), impl_->pool, socket, params);
  impl_->server->start();
}

ServeServer::~ServeServer() {
  // Stops accepting and waits for the requests in flight to finish.
  impl_->server->stopAll(false);
  impl_->pool.joinAll();
}

}  // namespace mst::adapter
