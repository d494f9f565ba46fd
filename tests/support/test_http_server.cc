#include "test_http_server.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/ThreadPool.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <istream>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace mst::testing {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The server's threads inherit this thread's signal mask. A test server
// writing to a client that gave up must not kill the test with SIGPIPE
// (OpenSSL writes with plain send()), so its threads start with it blocked.
class SigpipeBlockedForNewThreads {
 public:
  SigpipeBlockedForNewThreads() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SigpipeBlockedForNewThreads() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_{};
};

Poco::Net::StreamSocket& socket_of(Poco::Net::HTTPServerRequest& request) {
  return dynamic_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket();
}

}  // namespace

std::optional<std::string_view> ServedRequest::header(std::string_view name) const {
  const std::string wanted = lower(std::string(name));
  for (const auto& [key, value] : headers) {
    if (key == wanted) return std::string_view(value);
  }
  return std::nullopt;
}

// Poco's server pieces, kept out of the header.
class TestHttpServer::Impl {
 public:
  class Handler final : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(TestHttpServer& server) : server_(server) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
      server_.serve(request, response);
    }

   private:
    TestHttpServer& server_;
  };

  class HandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit HandlerFactory(TestHttpServer& server) : server_(server) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(server_);
    }
    // Tells every open connection to end; with `abort`, shuts its socket.
    void stop_connections(bool abort) { serverStopped(this, abort); }

   private:
    TestHttpServer& server_;
  };

  // Counts connections as they are accepted; otherwise Poco's HTTP server.
  class ConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
   public:
    ConnectionFactory(TestHttpServer& server, Poco::Net::HTTPServerParams::Ptr params,
                      Poco::Net::HTTPRequestHandlerFactory::Ptr handlers)
        : server_(server), params_(std::move(params)), handlers_(std::move(handlers)) {}
    Poco::Net::TCPServerConnection* createConnection(
        const Poco::Net::StreamSocket& socket) override {
      server_.accepted(socket.peerAddress().toString());
      return new Poco::Net::HTTPServerConnection(socket, params_, handlers_);
    }

   private:
    TestHttpServer& server_;
    Poco::Net::HTTPServerParams::Ptr params_;
    Poco::Net::HTTPRequestHandlerFactory::Ptr handlers_;
  };

  Impl(TestHttpServer& server, const Poco::Net::ServerSocket& socket)
      : threads_(2, 48), handlers_(new HandlerFactory(server)), handler_owner_(handlers_) {
    auto params = Poco::AutoPtr<Poco::Net::HTTPServerParams>(new Poco::Net::HTTPServerParams);
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(5, 0));
    params->setMaxKeepAliveRequests(1000);
    params->setTimeout(Poco::Timespan(5, 0));
    params->setMaxThreads(40);
    params->setMaxQueued(64);
    server_ = std::make_unique<Poco::Net::TCPServer>(
        new ConnectionFactory(server, params, handler_owner_), threads_, socket, params);
    server_->start();
  }

  void stop() {
    server_->stop();
    handlers_->stop_connections(true);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (server_->currentConnections() > 0 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server_.reset();
    threads_.joinAll();
  }

 private:
  Poco::ThreadPool threads_;
  HandlerFactory* handlers_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr handler_owner_;
  std::unique_ptr<Poco::Net::TCPServer> server_;
};

TestHttpServer::TestHttpServer() : scheme_("http") {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 64);
  port_ = socket.address().port();
  SigpipeBlockedForNewThreads blocked;
  impl_ = std::make_unique<Impl>(*this, socket);
}

TestHttpServer::TestHttpServer(const TlsIdentity& tls) : scheme_("https") {
  static std::once_flag ssl;
  std::call_once(ssl, [] { Poco::Net::initializeSSL(); });
  Poco::Net::Context::Ptr context =
      new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, tls.key_file, tls.certificate_file,
                             "", Poco::Net::Context::VERIFY_NONE);
  Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, context);
  port_ = socket.address().port();
  SigpipeBlockedForNewThreads blocked;
  impl_ = std::make_unique<Impl>(*this, socket);
}

TestHttpServer::~TestHttpServer() { stop(); }

void TestHttpServer::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_cv_.notify_all();
  impl_->stop();
}

void TestHttpServer::handle(const std::string& path, Handler handler) {
  std::lock_guard lock(mu_);
  handlers_[path] = std::move(handler);
}

void TestHttpServer::reply(const std::string& path, int status, std::string body,
                           fhir::Headers headers) {
  handle(path, [status, body = std::move(body), headers = std::move(headers)](
                   const ServedRequest&, Reply& r) { r.send(status, body, headers); });
}

std::string TestHttpServer::url(std::string_view path_and_query) const {
  return scheme_ + "://127.0.0.1:" + std::to_string(port_) + std::string(path_and_query);
}

std::vector<ServedRequest> TestHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::size_t TestHttpServer::count(std::string_view path) const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(std::count_if(
      requests_.begin(), requests_.end(), [&](const ServedRequest& r) { return r.path == path; }));
}

void TestHttpServer::accepted(const std::string& peer) {
  const auto id = ++accepted_;
  std::lock_guard lock(mu_);
  peers_[peer] = {id, 0};
}

bool TestHttpServer::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

bool TestHttpServer::wait_unless_stopping(std::chrono::milliseconds duration) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, duration, [this] { return stopping_; });
}

void TestHttpServer::serve(Poco::Net::HTTPServerRequest& request,
                           Poco::Net::HTTPServerResponse& response) {
  ServedRequest served;
  served.method = request.getMethod();
  served.target = request.getURI();
  served.path = served.target.substr(0, served.target.find('?'));
  for (const auto& [name, value] : request) served.headers.emplace_back(lower(name), value);
  {
    std::istream& in = request.stream();
    char buffer[8192];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
      served.body.append(buffer, static_cast<std::size_t>(in.gcount()));
    }
  }
  Handler handler;
  {
    std::lock_guard lock(mu_);
    auto& peer = peers_[request.clientAddress().toString()];
    served.connection = peer.first;
    served.nth_on_connection = ++peer.second;
    requests_.push_back(served);
    if (auto it = handlers_.find(served.path); it != handlers_.end()) handler = it->second;
  }
  Reply reply(*this, request, response);
  if (!handler) {
    reply.send(404, "no handler for " + served.path);
    return;
  }
  try {
    handler(served, reply);
  } catch (const std::exception& e) {
    if (!reply.replied()) reply.send(500, std::string("handler threw: ") + e.what());
    return;
  }
  if (!reply.replied()) reply.send(500, "handler did not reply");
}

void Reply::mark() {
  if (replied_) throw std::logic_error("a test handler replied twice");
  replied_ = true;
}

void Reply::send(int status, std::string_view body, const fhir::Headers& headers) {
  mark();
  response_.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    response_.add(name, value);
    has_length = has_length || lower(name) == "content-length";
  }
  if (!has_length) response_.setContentLength64(static_cast<Poco::Int64>(body.size()));
  std::ostream& out = response_.send();
  out.write(body.data(), static_cast<std::streamsize>(body.size()));
  out.flush();
}

void Reply::stream(int status, std::uint64_t size, bool chunked) {
  mark();
  response_.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  if (chunked) {
    response_.setChunkedTransferEncoding(true);
  } else {
    response_.setContentLength64(static_cast<Poco::Int64>(size));
  }
  std::ostream& out = response_.send();
  const std::string block(64 * 1024, 'x');
  std::uint64_t sent = 0;
  while (sent < size && out.good() && !server_.stopping()) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), size - sent));
    out.write(block.data(), static_cast<std::streamsize>(n));
    sent += n;
  }
  out.flush();
  if (sent < size) response_.setKeepAlive(false);
}

void Reply::trickle(std::string_view head, std::chrono::milliseconds interval,
                    std::string_view filler) {
  mark();
  response_.setKeepAlive(false);
  auto& socket = socket_of(request_);
  try {
    socket.sendBytes(head.data(), static_cast<int>(head.size()));
    while (server_.wait_unless_stopping(interval)) {
      socket.sendBytes(filler.data(), static_cast<int>(filler.size()));
    }
  } catch (const Poco::Exception&) {
    // The client went away: the point of the exercise.
  }
}

void Reply::raw(std::string_view bytes) {
  mark();
  response_.setKeepAlive(false);
  auto& socket = socket_of(request_);
  try {
    socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
    socket.shutdownSend();
  } catch (const Poco::Exception&) {
  }
}

void Reply::reset() {
  mark();
  response_.setKeepAlive(false);
  // Closing with a zero linger makes the kernel send RST instead of FIN.
  socket_of(request_).setLinger(true, 0);
}

void Reply::close() {
  mark();
  response_.setKeepAlive(false);
  try {
    socket_of(request_).shutdownSend();
  } catch (const Poco::Exception&) {
  }
}

bool Reply::delay(std::chrono::milliseconds duration) {
  return server_.wait_unless_stopping(duration);
}

}  // namespace mst::testing
