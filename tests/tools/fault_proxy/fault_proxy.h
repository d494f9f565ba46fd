// A fault-injecting HTTP proxy for tests, on 127.0.0.1: it forwards every
// request to one upstream (a FHIR server) and returns its response, except
// that FaultPlan picks requests to delay, reset, truncate, or answer 429/503.
// Writes (any method but GET, HEAD and OPTIONS) are never forwarded when
// they get a reset, truncate, 429 or 503, so the upstream never applies a
// write whose response the client did not see; only the opt-in
// reset-after-write fault forwards a request and then drops the response.
// GET /__proxy/stats answers with the counters as JSON and is not forwarded.
// An optional ExchangeFilter answers or rewrites requests before any fault.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fault_proxy/exchange_filter.h"
#include "fault_proxy/fault_plan.h"

namespace mst::testing {

struct FaultProxyOptions {
  std::string listen_host = "127.0.0.1";  // a numeric loopback address
  std::uint16_t listen_port = 0;          // 0: an ephemeral port, see FaultProxy::port()
  // "http://host:port", optionally with a path prefix put before every
  // request target. Without a prefix, and since the client's Host header is
  // passed on, links the upstream writes (paging, Location) point back at
  // the proxy.
  std::string upstream;
  double rate = 0.1;
  std::uint64_t seed = 42;
  std::vector<Fault> faults = default_faults();
  std::chrono::milliseconds latency{200};
  std::chrono::milliseconds upstream_timeout{60'000};
  // Sees every request first (see ExchangeFilter); null: none.
  std::shared_ptr<ExchangeFilter> filter;
};

// Counters since start(); `injected` is indexed by Fault.
struct FaultCounts {
  std::uint64_t requests = 0;         // proxied requests (stats requests excluded)
  std::uint64_t forwarded = 0;        // sent to the upstream
  std::uint64_t upstream_errors = 0;  // upstream unreachable or broken: answered 502
  std::array<std::uint64_t, kFaultKinds> injected{};

  std::uint64_t of(Fault f) const { return injected[static_cast<std::size_t>(f)]; }
  std::uint64_t total_injected() const;
  // {"requests":..,"forwarded":..,"upstream_errors":..,"faults":{"latency":..,...}}
  std::string to_json() const;
  // One line for people: "requests=.. forwarded=.. latency=.. reset=.. ...".
  std::string to_line() const;
};

class FaultProxy {
 public:
  // Throws std::invalid_argument for a bad upstream URL, rate or fault list.
  explicit FaultProxy(FaultProxyOptions options);
  ~FaultProxy();  // stops
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Listens and serves on background threads. Throws if it cannot listen.
  void start();
  // Stops accepting, cuts open connections and waits for handlers (a delay
  // in progress ends early). Idempotent.
  void stop();

  std::uint16_t port() const { return port_; }
  // "http://<listen host>:<port>" followed by `path_and_query`.
  std::string url(const std::string& path_and_query = "") const;
  FaultCounts counts() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

}  // namespace mst::testing
