// The behaviour every HttpTransport implementation must have, run against
// each of them with a real local server that also misbehaves on purpose.
#include <Poco/Net/Context.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mst/fhir/http_transport.h"
#include "support/test_http_server.h"
#include "support/test_tls.h"

namespace mst::fhir {
namespace {

using namespace std::chrono_literals;
using Kind = TransportError::Kind;
using mst::testing::Reply;
using mst::testing::ServedRequest;
using mst::testing::TestCertificate;
using mst::testing::TestHttpServer;
using Clock = std::chrono::steady_clock;

struct Implementation {
  const char* name;
  std::function<std::unique_ptr<HttpTransport>(const TransportOptions&)> make;
  // Whether a connection is back in the pool when send() returns. cpprestsdk
  // hands it back from a worker thread a moment later, so a request sent
  // right after may open another one.
  bool pools_synchronously;
};

void PrintTo(const Implementation& implementation, std::ostream* os) { *os << implementation.name; }

std::string PrintName(const ::testing::TestParamInfo<Implementation>& info) {
  return info.param.name;
}

// Short limits keep the suite fast; tests that need others set them.
TransportOptions fast_options() {
  TransportOptions o;
  o.connect_timeout = 1000ms;
  o.request_timeout = 2000ms;
  o.max_response_bytes = 1u << 20;
  return o;
}

HttpRequest get(std::string url, Headers headers = {}) {
  return HttpRequest{"GET", std::move(url), std::move(headers), {}, {}};
}

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// Peak resident set of this process in MiB.
long peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

class TransportContract : public ::testing::TestWithParam<Implementation> {
 protected:
  std::unique_ptr<HttpTransport> make(const TransportOptions& options = fast_options()) {
    return GetParam().make(options);
  }

  // Sends and expects a TransportError of `kind`; returns it for more checks.
  TransportError expect_error(HttpTransport& transport, const HttpRequest& request, Kind kind) {
    try {
      const HttpResponse r = transport.send(request);
      ADD_FAILURE() << "expected TransportError " << to_string(kind) << ", got status " << r.status;
    } catch (const TransportError& e) {
      EXPECT_EQ(to_string(e.kind()), std::string(to_string(kind))) << e.what();
      return e;
    }
    return TransportError(kind, "");
  }

  TestHttpServer server_;
};

TEST_P(TransportContract, RoundTripsMethodHeadersAndBody) {
  server_.handle("/echo", [](const ServedRequest& r, Reply& reply) {
    reply.send(201, r.body,
               {{"Content-Type", "application/fhir+json"},
                {"X-Method", r.method},
                {"X-Seen", std::string(r.header("x-custom").value_or("none"))},
                {"X-Repeat", "a=1"},
                {"X-Repeat", "b=2"}});
  });
  auto transport = make();
  const std::string body = R"({"resourceType":"Patient","name":[{"family":"Ñandú"}]})";
  const HttpResponse r =
      transport->send({"POST",
                       server_.url("/echo?_format=json"),
                       {{"X-Custom", "v 1"}, {"Content-Type", "application/fhir+json"}},
                       body,
                       {}});

  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(r.header("x-method"), "POST");
  EXPECT_EQ(r.header("X-SEEN"), "v 1");
  EXPECT_EQ(r.header("content-type"), "application/fhir+json");
  EXPECT_FALSE(r.header("x-absent").has_value());
  std::string repeated;
  for (const auto& [name, value] : r.headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(name, lower) << "header names are lower-cased";
    if (name == "x-repeat") repeated += (repeated.empty() ? "" : ", ") + value;
  }
  // Separate fields or one joined with ", " (RFC 9110 5.3) mean the same.
  EXPECT_EQ(repeated, "a=1, b=2") << "repeated headers are all kept, in order";

  const auto seen = server_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/echo?_format=json");
  EXPECT_EQ(seen[0].body, body);
  EXPECT_EQ(seen[0].header("content-type"), "application/fhir+json");
  EXPECT_EQ(seen[0].header("content-length"), std::to_string(body.size()));
  EXPECT_EQ(seen[0].header("host"), "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_EQ(seen[0].header("user-agent"), TransportOptions().user_agent);
}

TEST_P(TransportContract, SendsEveryMethodAndBinaryBodies) {
  server_.handle("/r", [](const ServedRequest& r, Reply& reply) {
    reply.send(200, r.method == "HEAD" ? "" : r.method + ":" + r.body,
               {{"X-Length", std::to_string(r.body.size())}});
  });
  auto transport = make();
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  EXPECT_EQ(transport->send({"PUT", server_.url("/r"), {}, binary, {}}).body, "PUT:" + binary);
  EXPECT_EQ(transport->send({"PATCH", server_.url("/r"), {}, "p", {}}).body, "PATCH:p");
  EXPECT_EQ(transport->send({"DELETE", server_.url("/r"), {}, {}, {}}).body, "DELETE:");
  EXPECT_EQ(transport->send(get(server_.url("/r"))).body, "GET:");
  const HttpResponse head = transport->send({"HEAD", server_.url("/r"), {}, {}, {}});
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(server_.requests().size(), 5u);
}

TEST_P(TransportContract, UserAgentCanBeOverridden) {
  server_.reply("/ua", 204);
  auto transport = make();
  EXPECT_EQ(transport->send(get(server_.url("/ua"), {{"User-Agent", "probe/1"}})).status, 204);
  EXPECT_EQ(server_.requests().at(0).header("user-agent"), "probe/1");
}

TEST_P(TransportContract, ErrorStatusesAreResponsesNotRetried) {
  server_.reply("/busy", 429, "slow down", {{"Retry-After", "7"}});
  std::atomic<int> calls{0};
  server_.handle("/flaky", [&](const ServedRequest&, Reply& reply) {
    if (calls++ == 0) {
      reply.send(503, "try later");
    } else {
      reply.send(200, "ok");
    }
  });
  auto transport = make();
  const HttpResponse busy = transport->send(get(server_.url("/busy")));
  EXPECT_EQ(busy.status, 429);
  EXPECT_EQ(busy.header("retry-after"), "7");
  EXPECT_EQ(busy.body, "slow down");
  EXPECT_EQ(server_.count("/busy"), 1u);

  EXPECT_EQ(transport->send(get(server_.url("/flaky"))).status, 503);
  EXPECT_EQ(server_.count("/flaky"), 1u);
  EXPECT_EQ(transport->send(get(server_.url("/flaky"))).status, 200);
  EXPECT_EQ(server_.count("/flaky"), 2u);
}

TEST_P(TransportContract, SlowServerTimesOut) {
  server_.handle("/slow", [](const ServedRequest&, Reply& reply) {
    reply.delay(10s);
    reply.send(200, "late");
  });
  auto options = fast_options();
  options.request_timeout = 300ms;
  auto transport = make(options);
  const auto start = Clock::now();
  expect_error(*transport, get(server_.url("/slow")), Kind::kTimeout);
  EXPECT_GE(ms_since(start), 250);
  EXPECT_LT(ms_since(start), 1500);
}

TEST_P(TransportContract, PerRequestTimeoutShortensTheDeadline) {
  server_.handle("/slow", [](const ServedRequest&, Reply& reply) {
    reply.delay(10s);
    reply.send(200, "late");
  });
  auto transport = make();  // 2 s
  HttpRequest request = get(server_.url("/slow"));
  request.timeout = 200ms;
  const auto start = Clock::now();
  expect_error(*transport, request, Kind::kTimeout);
  EXPECT_LT(ms_since(start), 1200);
}

TEST_P(TransportContract, TricklingBodyTimesOutAtTheDeadline) {
  // Every read makes progress, so only a whole-exchange deadline ends this.
  server_.handle("/trickle", [](const ServedRequest&, Reply& reply) {
    reply.trickle("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", 20ms);
  });
  auto options = fast_options();
  options.request_timeout = 400ms;
  auto transport = make(options);
  const auto start = Clock::now();
  expect_error(*transport, get(server_.url("/trickle")), Kind::kTimeout);
  EXPECT_GE(ms_since(start), 350);
  EXPECT_LT(ms_since(start), 1500);
}

TEST_P(TransportContract, TricklingChunksTimeOutAtTheDeadline) {
  // Each chunk is complete on its own, so a timeout that restarts with
  // every read operation never fires.
  server_.handle("/trickle", [](const ServedRequest&, Reply& reply) {
    reply.trickle("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 20ms, "1\r\nx\r\n");
  });
  auto options = fast_options();
  options.request_timeout = 400ms;
  auto transport = make(options);
  const auto start = Clock::now();
  expect_error(*transport, get(server_.url("/trickle")), Kind::kTimeout);
  EXPECT_LT(ms_since(start), 1500);
}

TEST_P(TransportContract, TricklingHeadersTimeOutAtTheDeadline) {
  server_.handle("/trickle", [](const ServedRequest&, Reply& reply) {
    reply.trickle("HTTP/1.1 200 OK\r\nX-Endless: ", 20ms);
  });
  auto options = fast_options();
  options.request_timeout = 400ms;
  auto transport = make(options);
  const auto start = Clock::now();
  expect_error(*transport, get(server_.url("/trickle")), Kind::kTimeout);
  EXPECT_LT(ms_since(start), 1500);
}

TEST_P(TransportContract, ResetConnectionIsAConnectError) {
  server_.handle("/reset", [](const ServedRequest&, Reply& reply) { reply.reset(); });
  auto transport = make();
  expect_error(*transport, get(server_.url("/reset")), Kind::kConnect);
  // The transport is still usable afterwards.
  server_.reply("/ok", 200, "fine");
  EXPECT_EQ(transport->send(get(server_.url("/ok"))).body, "fine");
}

TEST_P(TransportContract, CloseWithoutResponseIsAConnectError) {
  server_.handle("/drop", [](const ServedRequest&, Reply& reply) { reply.close(); });
  auto transport = make();
  expect_error(*transport, get(server_.url("/drop")), Kind::kConnect);
}

TEST_P(TransportContract, RefusedConnectionIsAConnectError) {
  const std::string url = server_.url("/gone");
  server_.stop();
  auto transport = make();
  const auto start = Clock::now();
  expect_error(*transport, get(url), Kind::kConnect);
  EXPECT_LT(ms_since(start), 1000);
}

TEST_P(TransportContract, UnansweredConnectTimesOut) {
  // A listener that never accepts: once its backlog is full the kernel
  // drops further SYNs, so connecting hangs as with an unreachable host.
  Poco::Net::ServerSocket listener(Poco::Net::SocketAddress("127.0.0.1", 0), 1);
  std::vector<Poco::Net::StreamSocket> fillers;
  for (int i = 0; i < 4; ++i) {
    Poco::Net::StreamSocket s;
    try {
      s.connect(listener.address(), Poco::Timespan(0, 100'000));
      fillers.push_back(s);
    } catch (const Poco::Exception&) {
      break;
    }
  }
  auto options = fast_options();
  options.connect_timeout = 200ms;
  options.request_timeout = 1000ms;
  auto transport = make(options);
  const auto start = Clock::now();
  expect_error(*transport,
               get("http://127.0.0.1:" + std::to_string(listener.address().port()) + "/x"),
               Kind::kTimeout);
  EXPECT_LT(ms_since(start), 1500);
}

TEST_P(TransportContract, GarbageInsteadOfHttpIsAProtocolError) {
  server_.handle("/garbage", [](const ServedRequest&, Reply& reply) {
    reply.raw("SSH-2.0-OpenSSH_9.2 not http at all\r\n\r\n");
  });
  auto transport = make();
  expect_error(*transport, get(server_.url("/garbage")), Kind::kProtocol);
}

TEST_P(TransportContract, TruncatedBodyIsAProtocolError) {
  server_.handle("/short", [](const ServedRequest&, Reply& reply) {
    reply.raw("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this much");
  });
  auto transport = make();
  expect_error(*transport, get(server_.url("/short")), Kind::kProtocol);
}

TEST_P(TransportContract, TruncatedChunkedBodyIsAProtocolError) {
  server_.handle("/short", [](const ServedRequest&, Reply& reply) {
    reply.raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nonly this much");
  });
  auto transport = make();
  expect_error(*transport, get(server_.url("/short")), Kind::kProtocol);
}

TEST_P(TransportContract, BodilessResponsesDoNotWaitForTheAnnouncedLength) {
  server_.reply("/not-modified", 304, "", {{"Content-Length", "10"}, {"ETag", "W/\"3\""}});
  server_.reply("/no-content", 204, "", {{"Content-Length", "0"}});
  server_.handle("/head", [](const ServedRequest&, Reply& reply) {
    reply.send(200, "", {{"Content-Length", "42"}});
  });
  auto transport = make();
  const auto start = Clock::now();
  const HttpResponse not_modified = transport->send(get(server_.url("/not-modified")));
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_EQ(not_modified.header("etag"), "W/\"3\"");
  EXPECT_EQ(transport->send(get(server_.url("/no-content"))).status, 204);
  const HttpResponse head = transport->send({"HEAD", server_.url("/head"), {}, {}, {}});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), "42");
  EXPECT_TRUE(head.body.empty());
  EXPECT_LT(ms_since(start), 1000);
  if (GetParam().pools_synchronously) {
    EXPECT_EQ(server_.connections(), 1u) << "the connection stays usable";
  }
}

TEST_P(TransportContract, BodyAtTheLimitIsAccepted) {
  server_.handle("/exact", [](const ServedRequest&, Reply& reply) {
    reply.stream(200, 1u << 20, /*chunked=*/true);
  });
  auto transport = make();
  EXPECT_EQ(transport->send(get(server_.url("/exact"))).body.size(), 1u << 20);
}

TEST_P(TransportContract, AnnouncedOversizedBodyIsRefusedWithoutReadingIt) {
  server_.handle("/huge", [](const ServedRequest&, Reply& reply) {
    reply.stream(200, 200u << 20, /*chunked=*/false);
  });
  auto transport = make();
  const auto start = Clock::now();
  expect_error(*transport, get(server_.url("/huge")), Kind::kTooLarge);
  EXPECT_LT(ms_since(start), 1000);
}

TEST_P(TransportContract, ChunkedOversizedBodyStopsEarlyWithBoundedMemory) {
  server_.handle("/huge", [](const ServedRequest&, Reply& reply) {
    reply.stream(200, 200u << 20, /*chunked=*/true);
  });
  auto options = fast_options();
  options.request_timeout = 10s;
  auto transport = make(options);
  const long rss_before = peak_rss_mib();
  const auto start = Clock::now();
  expect_error(*transport, get(server_.url("/huge")), Kind::kTooLarge);
  EXPECT_LT(ms_since(start), 3000);
  EXPECT_LT(peak_rss_mib() - rss_before, 64) << "a 200 MiB body must never be buffered";
}

TEST_P(TransportContract, StreamedBodiesArriveInPiecesWithFlatMemory) {
  constexpr std::uint64_t kSize = std::uint64_t{128} << 20;
  server_.handle("/chunked", [](const ServedRequest&, Reply& reply) {
    reply.stream(200, kSize, /*chunked=*/true);
  });
  server_.handle("/sized", [](const ServedRequest&, Reply& reply) {
    reply.stream(200, kSize, /*chunked=*/false);
  });
  auto options = fast_options();  // max_response_bytes 1 MiB: no bound on a stream
  options.request_timeout = 30s;
  auto transport = make(options);
  const long rss_before = peak_rss_mib();
  for (const char* path : {"/chunked", "/sized"}) {
    std::uint64_t bytes = 0;
    std::size_t pieces = 0;
    bool all_x = true;
    const HttpResponse r =
        transport->send_streamed(get(server_.url(path)), [&](std::string_view piece) {
          bytes += piece.size();
          ++pieces;
          all_x = all_x && piece.find_first_not_of('x') == std::string_view::npos;
        });
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_TRUE(r.body.empty()) << path;
    EXPECT_EQ(bytes, kSize) << path;
    EXPECT_TRUE(all_x) << path;
    EXPECT_GT(pieces, 1000u) << path << ": handed over as it arrived, not at the end";
  }
  EXPECT_LT(peak_rss_mib() - rss_before, 64) << "a 128 MiB streamed body must never be buffered";
  if (GetParam().pools_synchronously) {
    EXPECT_EQ(server_.connections(), 1u) << "a streamed exchange keeps the connection";
  }
}

TEST_P(TransportContract, StreamedErrorAnswersKeepTheirBodyAndSinkNothing) {
  server_.reply("/gone", 410, R"({"resourceType":"OperationOutcome"})");
  auto transport = make();
  bool sunk = false;
  const HttpResponse r =
      transport->send_streamed(get(server_.url("/gone")), [&](std::string_view) { sunk = true; });
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(r.body, R"({"resourceType":"OperationOutcome"})");
  EXPECT_FALSE(sunk);
}

TEST_P(TransportContract, ASinksExceptionReachesTheCallerAsItIs) {
  server_.handle("/big", [](const ServedRequest&, Reply& reply) {
    reply.stream(200, 4u << 20, /*chunked=*/true);
  });
  auto transport = make();
  struct Refused : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  EXPECT_THROW(transport->send_streamed(get(server_.url("/big")),
                                        [](std::string_view) { throw Refused("no more"); }),
               Refused);
  // The transport is still usable afterwards.
  server_.reply("/ok", 200, "fine");
  EXPECT_EQ(transport->send(get(server_.url("/ok"))).body, "fine");
}

TEST_P(TransportContract, AStreamedBodyCutShortIsAProtocolErrorAfterWhatArrived) {
  server_.handle("/short", [](const ServedRequest&, Reply& reply) {
    reply.raw("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this much");
  });
  auto transport = make();
  std::string got;
  try {
    transport->send_streamed(get(server_.url("/short")),
                             [&](std::string_view piece) { got.append(piece); });
    ADD_FAILURE() << "a truncated body must not look complete";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), Kind::kProtocol) << e.what();
  }
  // What was handed over is what arrived, never more (cpprestsdk hands over
  // nothing of a body it then reports cut short; Poco hands over all of it).
  EXPECT_EQ(std::string("only this much").rfind(got, 0), 0u) << got;
}

TEST_P(TransportContract, SameOriginRedirectsAreFollowed) {
  server_.reply("/old", 302, "", {{"Location", "/new?x=1"}});
  server_.handle("/new", [](const ServedRequest& r, Reply& reply) {
    reply.send(200, r.method + " " + r.target + " " + r.body);
  });
  server_.reply("/see-other", 303, "", {{"Location", "new"}});
  server_.reply("/temporary", 307, "", {{"Location", server_.url("/new")}});
  auto transport = make();

  const HttpResponse followed =
      transport->send(get(server_.url("/old"), {{"Authorization", "Bearer t"}}));
  EXPECT_EQ(followed.status, 200);
  EXPECT_EQ(followed.body, "GET /new?x=1 ");
  EXPECT_EQ(server_.requests().back().header("authorization"), "Bearer t");

  // 303 turns a POST into a bodiless GET; 307 keeps method and body.
  EXPECT_EQ(
      transport
          ->send({"POST", server_.url("/see-other"), {{"Content-Type", "text/plain"}}, "b", {}})
          .body,
      "GET /new ");
  EXPECT_FALSE(server_.requests().back().header("content-type").has_value());
  EXPECT_EQ(transport->send({"POST", server_.url("/temporary"), {}, "b", {}}).body, "POST /new b");
}

TEST_P(TransportContract, CrossOriginRedirectIsReturnedNotFollowed) {
  TestHttpServer other;
  other.reply("/elsewhere", 200, "should not be reached");
  server_.reply("/away", 301, "moved", {{"Location", other.url("/elsewhere")}});
  auto transport = make();
  const HttpResponse r =
      transport->send(get(server_.url("/away"), {{"Authorization", "Bearer secret"}}));
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("location"), other.url("/elsewhere"));
  EXPECT_EQ(other.requests().size(), 0u)
      << "credentials must never follow a redirect to another origin";
}

TEST_P(TransportContract, RedirectLoopStopsAtMaxRedirects) {
  server_.reply("/loop", 302, "", {{"Location", "/loop"}});
  auto options = fast_options();
  options.max_redirects = 3;
  auto transport = make(options);
  EXPECT_EQ(transport->send(get(server_.url("/loop"))).status, 302);
  EXPECT_EQ(server_.count("/loop"), 4u);
}

TEST_P(TransportContract, KeepAliveReusesConnections) {
  server_.reply("/ka", 200, "same connection");
  auto transport = make();
  for (int i = 0; i < 6; ++i) EXPECT_EQ(transport->send(get(server_.url("/ka"))).status, 200);
  EXPECT_LT(server_.connections(), 6u);
  if (GetParam().pools_synchronously) {
    EXPECT_EQ(server_.connections(), 1u);
  }
}

TEST_P(TransportContract, ConcurrentSendsFromFourThreads) {
  server_.handle("/c", [](const ServedRequest& r, Reply& reply) {
    reply.delay(2ms);
    reply.send(200, r.target);
  });
  auto transport = make();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        const std::string target = "/c?t=" + std::to_string(t) + "&i=" + std::to_string(i);
        try {
          const HttpResponse r = transport->send(get(server_.url(target)));
          if (r.status == 200 && r.body == target) ++ok;
        } catch (const TransportError&) {
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 60);
  EXPECT_LT(server_.connections(), 60u);
}

TEST_P(TransportContract, StaleKeptAliveConnectionIsRetriedForIdempotentMethodsOnly) {
  // The server drops every second request on a connection without a reply,
  // as one does when its keep-alive timer fires just as a request arrives.
  auto second_dies = [](const ServedRequest& r, Reply& reply) {
    if (r.nth_on_connection == 2) {
      reply.close();
    } else {
      reply.send(200, r.method);
    }
  };
  server_.handle("/get", second_dies);
  server_.handle("/post", second_dies);
  auto transport = make();

  // Each request must find the previous one's connection in the pool.
  const auto pooled = [] { std::this_thread::sleep_for(50ms); };
  ASSERT_EQ(transport->send(get(server_.url("/get"))).status, 200);
  pooled();
  const HttpResponse retried = transport->send(get(server_.url("/get")));
  EXPECT_EQ(retried.status, 200);
  EXPECT_EQ(server_.count("/get"), 3u) << "one dropped attempt, one retry";

  ASSERT_EQ(transport->send(get(server_.url("/get"))).status, 200);
  pooled();
  try {
    (void)transport->send({"POST", server_.url("/post"), {}, "create once", {}});
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), Kind::kConnect) << e.what();
  }
  EXPECT_EQ(server_.count("/post"), 1u) << "a POST must never be sent twice";
}

TEST_P(TransportContract, InvalidRequestsAreRejectedBeforeSending) {
  server_.reply("/x", 200);
  auto transport = make();
  const std::vector<HttpRequest> bad = {
      get("ftp://127.0.0.1/x"),
      get("/relative/only"),
      get("http://user:pw@127.0.0.1:" + std::to_string(server_.port()) + "/x"),
      get(server_.url("/x y")),
      get(server_.url("/x\r\nInjected: 1")),
      get(server_.url("/x"), {{"X-Evil", "a\r\nInjected: 1"}}),
      get(server_.url("/x"), {{"Bad Name", "v"}}),
      get(server_.url("/x"), {{"Content-Length", "5"}}),
      get(server_.url("/x"), {{"Host", "example.org"}}),
      {"GE T", server_.url("/x"), {}, {}, {}},
  };
  for (const auto& request : bad) {
    SCOPED_TRACE(request.method + " " + request.url);
    expect_error(*transport, request, Kind::kInvalidRequest);
  }
  EXPECT_EQ(server_.requests().size(), 0u);
}

TEST_P(TransportContract, ErrorsNameMethodAndUrlButNoQueryOrHeaderValues) {
  server_.handle("/slow", [](const ServedRequest&, Reply& reply) {
    reply.delay(5s);
    reply.send(200);
  });
  auto options = fast_options();
  options.request_timeout = 200ms;
  auto transport = make(options);
  const TransportError e = expect_error(
      *transport,
      get(server_.url("/slow?patient=secret-name"), {{"Authorization", "Bearer tok3n"}}),
      Kind::kTimeout);
  const std::string what = e.what();
  EXPECT_NE(what.find("GET " + server_.url("/slow")), std::string::npos) << what;
  EXPECT_EQ(what.find("secret-name"), std::string::npos) << what;
  EXPECT_EQ(what.find("tok3n"), std::string::npos) << what;
}

TEST_P(TransportContract, HttpsVerifiesCertificatesByDefault) {
  TestCertificate certificate({"127.0.0.1"});
  TestHttpServer tls({certificate.certificate_file(), certificate.key_file()});
  tls.handle("/secure",
             [](const ServedRequest& r, Reply& reply) { reply.send(200, "tls " + r.body); });

  auto by_default = make();
  expect_error(*by_default, get(tls.url("/secure")), Kind::kTls);
  EXPECT_EQ(tls.requests().size(), 0u) << "nothing is sent to an unverified server";

  auto options = fast_options();
  options.ca_file = certificate.certificate_file();
  auto trusting = make(options);
  EXPECT_EQ(trusting->send({"POST", tls.url("/secure"), {}, "hi", {}}).body, "tls hi");
  EXPECT_EQ(trusting->send({"POST", tls.url("/secure"), {}, "again", {}}).body, "tls again");
}

TEST_P(TransportContract, HttpsStaleConnectionIsRetriedWithoutKillingTheProcess) {
  // Closing a TLS connection the peer already dropped writes to a dead
  // socket; that must not raise SIGPIPE in the caller's process.
  TestCertificate certificate({"127.0.0.1"});
  TestHttpServer tls({certificate.certificate_file(), certificate.key_file()});
  tls.handle("/get", [](const ServedRequest& r, Reply& reply) {
    if (r.nth_on_connection == 2) {
      reply.reset();
    } else {
      reply.send(200, "ok");
    }
  });
  auto options = fast_options();
  options.ca_file = certificate.certificate_file();
  auto transport = make(options);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(transport->send(get(tls.url("/get"))).status, 200);
  if (GetParam().pools_synchronously) {
    EXPECT_EQ(tls.count("/get"), 7u) << "every second request on a connection is dropped once";
  }
}

// Accepts one connection and reads the first bytes of the request; then
// either hangs up while the client is still uploading, or stops reading
// until `release()` so that the client's writes block. A client that never
// connects is no hang: the destructor releases the wait for it.
class StingyServer {
 public:
  enum class Mode { kHangUp, kStall };
  StingyServer(Poco::Net::ServerSocket listener, Mode mode)
      : listener_(std::move(listener)), thread_([this, mode] {
          sigset_t set;  // see DefaultSigpipe: only the client side is under test
          sigemptyset(&set);
          sigaddset(&set, SIGPIPE);
          pthread_sigmask(SIG_BLOCK, &set, nullptr);
          try {
            // The client may give up before it connects (its deadline can
            // pass on a loaded machine): wait for a connection only until
            // released, or the destructor would join a thread stuck in accept.
            const Poco::Timespan tick(0, 50'000);
            while (!listener_.poll(tick, Poco::Net::Socket::SELECT_READ)) {
              std::lock_guard lock(mu_);
              if (released_) return;
            }
            Poco::Net::StreamSocket s = listener_.acceptConnection();
            char buffer[1024];
            (void)s.receiveBytes(buffer, sizeof buffer);
            if (mode == Mode::kStall) {
              std::unique_lock lock(mu_);
              cv_.wait_for(lock, 10s, [this] { return released_; });
            }
            s.close();
          } catch (const Poco::Exception&) {
          }
        }) {}
  ~StingyServer() {
    release();
    thread_.join();
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  std::uint16_t port() const { return listener_.address().port(); }

 private:
  Poco::Net::ServerSocket listener_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
  std::thread thread_;
};

// SIGPIPE as a program that did nothing about it has it: default action
// (terminate) and not blocked. Test runners may inherit it blocked.
class DefaultSigpipe {
 public:
  DefaultSigpipe() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &dfl, &old_action_);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    // One left pending by earlier tests while it was blocked would be
    // delivered the moment it is unblocked.
    const timespec zero{0, 0};
    while (sigtimedwait(&set, nullptr, &zero) == SIGPIPE) {
    }
    pthread_sigmask(SIG_UNBLOCK, &set, &old_mask_);
  }
  ~DefaultSigpipe() {
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    sigaction(SIGPIPE, &old_action_, nullptr);
  }

 private:
  struct sigaction old_action_ {};
  sigset_t old_mask_{};
};

Poco::Net::SecureServerSocket tls_listener(const TestCertificate& certificate) {
  Poco::Net::Context::Ptr context =
      new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, certificate.key_file(),
                             certificate.certificate_file(), "", Poco::Net::Context::VERIFY_NONE);
  return Poco::Net::SecureServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0), 8, context);
}

Poco::Net::ServerSocket plain_listener() {
  return Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0), 8);
}

TEST_P(TransportContract, StalledUploadTimesOutAtTheDeadline) {
  // The deadline covers sending too; aborting a blocked TLS write must not
  // raise SIGPIPE in the caller's process either.
  DefaultSigpipe sigpipe;
  TestCertificate certificate({"127.0.0.1"});
  StingyServer tls(tls_listener(certificate), StingyServer::Mode::kStall);
  StingyServer plain(plain_listener(), StingyServer::Mode::kStall);
  auto options = fast_options();
  options.ca_file = certificate.certificate_file();
  options.request_timeout = 400ms;
  auto transport = make(options);
  const std::string upload(32u << 20, 'u');
  for (const std::string& url : {"https://127.0.0.1:" + std::to_string(tls.port()) + "/up",
                                 "http://127.0.0.1:" + std::to_string(plain.port()) + "/up"}) {
    SCOPED_TRACE(url);
    const auto start = Clock::now();
    expect_error(*transport, {"POST", url, {}, upload, {}}, Kind::kTimeout);
    EXPECT_LT(ms_since(start), 1500);
  }
}

TEST_P(TransportContract, StalledTlsHandshakeTimesOutAtTheDeadline) {
  // A plain TCP listener that reads the ClientHello and never answers it.
  StingyServer silent(plain_listener(), StingyServer::Mode::kStall);
  auto options = fast_options();
  options.connect_timeout = 1000ms;
  options.request_timeout = 300ms;
  auto transport = make(options);
  const auto start = Clock::now();
  expect_error(*transport, get("https://127.0.0.1:" + std::to_string(silent.port()) + "/x"),
               Kind::kTimeout);
  EXPECT_LT(ms_since(start), 800);
}

TEST_P(TransportContract, ServerHangingUpMidUploadIsAConnectErrorNotASignal) {
  DefaultSigpipe sigpipe;
  TestCertificate certificate({"127.0.0.1"});
  StingyServer tls(tls_listener(certificate), StingyServer::Mode::kHangUp);
  StingyServer plain(plain_listener(), StingyServer::Mode::kHangUp);
  auto options = fast_options();
  options.ca_file = certificate.certificate_file();
  auto transport = make(options);
  const std::string upload(16u << 20, 'u');
  for (const std::string& url : {"https://127.0.0.1:" + std::to_string(tls.port()) + "/up",
                                 "http://127.0.0.1:" + std::to_string(plain.port()) + "/up"}) {
    SCOPED_TRACE(url);
    try {
      const HttpResponse r = transport->send({"POST", url, {}, upload, {}});
      ADD_FAILURE() << "got status " << r.status;
    } catch (const TransportError& e) {
      EXPECT_TRUE(e.kind() == Kind::kConnect || e.kind() == Kind::kTls) << e.what();
    }
  }
}

TEST_P(TransportContract, VerificationCanBeTurnedOffExplicitly) {
  TestCertificate certificate({"127.0.0.1"});
  TestHttpServer tls({certificate.certificate_file(), certificate.key_file()});
  tls.reply("/secure", 200, "unverified");
  auto options = fast_options();
  options.verify_tls = false;
  auto transport = make(options);
  EXPECT_EQ(transport->send(get(tls.url("/secure"))).body, "unverified");
}

TEST_P(TransportContract, HttpsRejectsACertificateForAnotherHost) {
  TestCertificate certificate({"127.0.0.2", "other.invalid"});
  TestHttpServer tls({certificate.certificate_file(), certificate.key_file()});
  tls.reply("/secure", 200, "should not be reached");
  auto options = fast_options();
  options.ca_file = certificate.certificate_file();
  auto transport = make(options);
  expect_error(*transport, get(tls.url("/secure")), Kind::kTls);
  EXPECT_EQ(tls.requests().size(), 0u);
}

TEST_P(TransportContract, MissingCaFileFailsAtConstruction) {
  auto options = fast_options();
  options.ca_file = "/nonexistent/ca.pem";
  try {
    (void)make(options);
    FAIL() << "expected TransportError";
  } catch (const TransportError& e) {
    EXPECT_EQ(e.kind(), Kind::kTls);
  }
}

INSTANTIATE_TEST_SUITE_P(Poco, TransportContract,
                         ::testing::Values(Implementation{"Poco", &make_poco_transport, true}),
                         PrintName);
#ifdef MST_WITH_CPPREST
INSTANTIATE_TEST_SUITE_P(Cpprest, TransportContract,
                         ::testing::Values(Implementation{"Cpprest", &make_cpprest_transport,
                                                          false}),
                         PrintName);
#endif

}  // namespace
}  // namespace mst::fhir
