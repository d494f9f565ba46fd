#include "mst/adapter/ops_server.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <stdexcept>

namespace mst::adapter {

namespace {

using Poco::Net::HTTPResponse;

class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  Handler(const Metrics& metrics, const std::function<Readiness()>& readiness)
      : metrics_(metrics), readiness_(readiness) {}

  void handleRequest(Poco::Net::HTTPServerRequest& req,
                     Poco::Net::HTTPServerResponse& resp) override {
    const std::string path = req.getURI().substr(0, req.getURI().find('?'));
    if (req.getMethod() != "GET") {
      send(resp, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n");
    } else if (path == "/healthz") {
      send(resp, HTTPResponse::HTTP_OK, "text/plain", "ok\n");
    } else if (path == "/readyz") {
      Readiness r = readiness_ ? readiness_() : Readiness{true, ""};
      send(resp, r.ready ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE,
           "text/plain", r.ready ? "ready\n" : "not ready: " + r.reason + "\n");
    } else if (path == "/metrics") {
      send(resp, HTTPResponse::HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
           metrics_.render());
    } else {
      send(resp, HTTPResponse::HTTP_NOT_FOUND, "text/plain", "not found\n");
    }
  }

 private:
  static void send(Poco::Net::HTTPServerResponse& resp, HTTPResponse::HTTPStatus status,
                   const std::string& type, const std::string& body) {
    resp.setStatus(status);
    resp.setContentType(type);
    resp.setContentLength(static_cast<std::streamsize>(body.size()));
    resp.send() << body;
  }
  const Metrics& metrics_;
  const std::function<Readiness()>& readiness_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(const Metrics& metrics, std::function<Readiness()> readiness)
      : metrics_(metrics), readiness_(std::move(readiness)) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Handler(metrics_, readiness_);
  }

 private:
  const Metrics& metrics_;
  std::function<Readiness()> readiness_;
};

}  // namespace

OpsServer::OpsServer(const std::string& listen, const Metrics& metrics,
                     std::function<Readiness()> readiness) {
  try {
    Poco::Net::ServerSocket socket{Poco::Net::SocketAddress(listen)};
    port_ = socket.address().port();
    auto params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(2);
    params->setKeepAlive(false);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(metrics, std::move(readiness)),
                                                      socket, params);
    server_->start();
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("cannot serve operations endpoints on " + listen + ": " +
                             e.displayText());
  }
}

OpsServer::~OpsServer() {
  if (server_) server_->stopAll(true);
}

}  // namespace mst::adapter
