// When and how the client repeats a request: connection failures, timeouts
// and 408/429/500/502/503/504, with exponential backoff and full jitter,
// honouring Retry-After, bounded by attempts and by an overall deadline.
// Only requests the caller marks idempotent are ever repeated.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mst/fhir/clock.h"
#include "mst/fhir/http_transport.h"

namespace mst::fhir {

struct RetryPolicy {
  int max_attempts = 4;  // including the first
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{20'000};
  // Whole operation: every attempt, wait and re-authentication.
  std::chrono::milliseconds deadline{120'000};
  // A server asking to wait longer than this is not waited for.
  std::chrono::milliseconds max_retry_after{60'000};
};

// 408, 429, 500, 502, 503, 504.
bool is_retryable_status(int status);
// Connect failures, timeouts and broken exchanges; not TLS or size refusals,
// which a second try would meet again.
bool is_retryable_transport(TransportError::Kind kind);

// Reads a Retry-After value: delta-seconds or an HTTP-date (IMF-fixdate,
// RFC 850 or asctime form). Returns the wait from `now` (zero for a date in
// the past), or nullopt when the value is neither.
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// Full jitter: `unit` (uniform in [0,1)) times min(max_backoff,
// initial_backoff * 2^(retry-1)), for the retry-th repetition (1-based).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, double unit);

struct SendResult {
  HttpResponse response;
  int attempts = 0;
  // Why retrying stopped with a retryable status ("after 4 attempts"), or empty.
  std::string gave_up;
};

// Runs one logical request under a RetryPolicy. Thread-safe.
class RetryingSender {
 public:
  // `random_unit` returns uniform values in [0,1); empty = a private PRNG.
  RetryingSender(std::shared_ptr<HttpTransport> transport, RetryPolicy policy,
                 std::shared_ptr<Clock> clock, std::function<double()> random_unit = {});

  // Sends until an answer that is final (success, or an error status that is
  // not retryable, or retryable but attempts ran out), and returns it. A
  // request that is not `idempotent` is sent exactly once. Throws
  // ServerUnreachable when the last attempt got no response and
  // DeadlineExceeded when `deadline` passes (or would pass while waiting).
  SendResult send(HttpRequest request, bool idempotent,
                  std::chrono::steady_clock::time_point deadline) const;

  // Like send() of an idempotent request, except that every repetition
  // sends a fresh request from `remake`: for one-time credentials, such as a
  // client assertion's jti, that a server must refuse to see twice.
  SendResult send_renewed(HttpRequest first, const std::function<HttpRequest()>& remake,
                          std::chrono::steady_clock::time_point deadline) const;

  // Like send() of an idempotent request whose 2xx body goes to `sink` as it
  // arrives (HttpTransport::send_streamed). Repeated only while nothing has
  // reached the sink: once part of the body has, a broken connection throws
  // ServerUnreachable saying so, for the caller to decide what the part it
  // holds is worth (a retry here would hand the same bytes over twice).
  SendResult send_streamed(HttpRequest request, const BodySink& sink,
                           std::chrono::steady_clock::time_point deadline) const;

  // now + policy().deadline.
  std::chrono::steady_clock::time_point deadline_from_now() const;
  const RetryPolicy& policy() const { return policy_; }
  Clock& clock() const { return *clock_; }
  HttpTransport& transport() const { return *transport_; }

 private:
  SendResult run(HttpRequest request, bool idempotent, const std::function<HttpRequest()>* remake,
                 const BodySink* sink, std::chrono::steady_clock::time_point deadline) const;

  std::shared_ptr<HttpTransport> transport_;
  RetryPolicy policy_;
  std::shared_ptr<Clock> clock_;
  std::function<double()> random_unit_;
};

// "1.5 s", "250 ms": for messages.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace mst::fhir
