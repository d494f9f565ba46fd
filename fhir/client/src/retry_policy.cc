#include "mst/fhir/retry_policy.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <random>
#include <vector>

#include "mst/fhir/client_errors.h"
#include "mst/fhir/datetime.h"
#include "mst/fhir/url.h"

namespace mst::fhir {

using std::chrono::milliseconds;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

double default_random_unit() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lock(mu);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

const char* kind_name(TransportError::Kind kind) {
  switch (kind) {
    case TransportError::Kind::kConnect:
      return "cannot connect";
    case TransportError::Kind::kTimeout:
      return "no response in time";
    case TransportError::Kind::kTls:
      return "TLS failure";
    case TransportError::Kind::kProtocol:
      return "broken HTTP exchange";
    case TransportError::Kind::kTooLarge:
      return "response too large";
    default:  // kinds added later read as a generic failure
      return "transport failure";
  }
}

// A run of exactly `width` digits (any width when 0) as a number.
std::optional<int> number(std::string_view s, std::size_t width = 0) {
  if (s.empty() || s.size() > 4 || (width != 0 && s.size() != width)) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

int month_number(std::string_view m) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (kMonths[i] == m) return i + 1;
  }
  return 0;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    auto end = s.find(' ');
    if (!s.empty()) out.push_back(s.substr(0, end));
    s = end == std::string_view::npos ? std::string_view() : s.substr(end);
  }
  return out;
}

// The three HTTP-date forms of RFC 9110 section 5.6.7, as epoch seconds:
// "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
// "Sun Nov  6 08:49:37 1994".
std::optional<std::int64_t> parse_http_date(std::string_view text) {
  auto w = words(text);
  std::optional<int> day, year, hour, minute, second;
  int month = 0;
  std::string_view time;
  if (w.size() == 6 && w[0].ends_with(',') && w[5] == "GMT") {
    day = number(w[1], 2);
    month = month_number(w[2]);
    year = number(w[3], 4);
    time = w[4];
  } else if (w.size() == 4 && w[0].ends_with(',') && w[3] == "GMT" && w[1].size() == 9 &&
             w[1][2] == '-' && w[1][6] == '-') {
    day = number(w[1].substr(0, 2), 2);
    month = month_number(w[1].substr(3, 3));
    year = number(w[1].substr(7, 2), 2);
    if (year) *year += *year < 70 ? 2000 : 1900;
    time = w[2];
  } else if (w.size() == 5 && !w[0].ends_with(',')) {
    month = month_number(w[1]);
    day = number(w[2]);
    time = w[3];
    year = number(w[4], 4);
  } else {
    return std::nullopt;
  }
  if (time.size() == 8 && time[2] == ':' && time[5] == ':') {
    hour = number(time.substr(0, 2), 2);
    minute = number(time.substr(3, 2), 2);
    second = number(time.substr(6, 2), 2);
  }
  if (!day || !year || !hour || !minute || !second || month == 0 || *day < 1 || *day > 31 ||
      *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  return days_from_civil(*year, month, *day) * 86400 + std::int64_t{*hour} * 3600 +
         std::int64_t{*minute} * 60 + *second;
}

// The transport's message without the "METHOD url: " prefix that the
// ClientError adds again, led by the kind of failure when it does not say so.
std::string transport_detail(const HttpRequest& request, const TransportError& e) {
  std::string_view what = e.what();
  const std::string prefix = request.method + " ";
  if (what.starts_with(prefix)) {
    std::string_view rest = what.substr(prefix.size());
    if (auto sep = rest.find(": "); (rest.starts_with("http://") || rest.starts_with("https://")) &&
                                    sep != std::string_view::npos) {
      what = rest.substr(sep + 2);
    }
  }
  std::string detail = redact_urls_in(what);
  const std::string kind = kind_name(e.kind());
  if (detail.starts_with(kind)) return detail;
  return kind + " (" + detail + ")";
}

}  // namespace

bool is_retryable_status(int status) {
  switch (status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

bool is_retryable_transport(TransportError::Kind kind) {
  return kind == TransportError::Kind::kConnect || kind == TransportError::Kind::kTimeout ||
         kind == TransportError::Kind::kProtocol;
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    // More than a day is as good as forever here; avoid overflow on long digit runs.
    if (value.size() > 6) return std::chrono::hours(24);
    return std::chrono::seconds(std::stol(std::string(value)));
  }
  auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  const auto at = std::chrono::system_clock::time_point(std::chrono::seconds(*when));
  if (at <= now) return milliseconds(0);
  return std::chrono::duration_cast<milliseconds>(at - now);
}

milliseconds backoff_delay(const RetryPolicy& policy, int retry, double unit) {
  unit = std::clamp(unit, 0.0, 1.0);
  double cap = static_cast<double>(policy.initial_backoff.count());
  for (int i = 1; i < retry && cap < static_cast<double>(policy.max_backoff.count()); ++i) cap *= 2;
  cap = std::min(cap, static_cast<double>(policy.max_backoff.count()));
  return milliseconds(static_cast<std::int64_t>(cap * unit));
}

std::string format_duration(milliseconds d) {
  if (d.count() < 1000) return std::to_string(d.count()) + " ms";
  const auto tenths = d.count() / 100;
  std::string s = std::to_string(tenths / 10);
  if (tenths % 10 != 0) s += "." + std::to_string(tenths % 10);
  return s + " s";
}

RetryingSender::RetryingSender(std::shared_ptr<HttpTransport> transport, RetryPolicy policy,
                               std::shared_ptr<Clock> clock, std::function<double()> random_unit)
    : transport_(std::move(transport)),
      policy_(policy),
      clock_(std::move(clock)),
      random_unit_(random_unit ? std::move(random_unit)
                               : std::function<double()>(default_random_unit)) {
  if (policy_.max_attempts < 1) policy_.max_attempts = 1;
}

std::chrono::steady_clock::time_point RetryingSender::deadline_from_now() const {
  return clock_->steady_now() + policy_.deadline;
}

SendResult RetryingSender::send(HttpRequest request, bool idempotent,
                                std::chrono::steady_clock::time_point deadline) const {
  return run(std::move(request), idempotent, nullptr, nullptr, deadline);
}

SendResult RetryingSender::send_streamed(HttpRequest request, const BodySink& sink,
                                         std::chrono::steady_clock::time_point deadline) const {
  return run(std::move(request), true, nullptr, &sink, deadline);
}

SendResult RetryingSender::send_renewed(HttpRequest first,
                                        const std::function<HttpRequest()>& remake,
                                        std::chrono::steady_clock::time_point deadline) const {
  return run(std::move(first), true, &remake, nullptr, deadline);
}

SendResult RetryingSender::run(HttpRequest request, bool idempotent,
                               const std::function<HttpRequest()>* remake, const BodySink* sink,
                               std::chrono::steady_clock::time_point deadline) const {
  const int max_attempts = idempotent ? policy_.max_attempts : 1;
  const std::string deadline_text = "deadline of " + format_duration(policy_.deadline);
  std::string last;  // the last failure, for messages
  int last_status = 0;
  for (int attempt = 1;; ++attempt) {
    const auto remaining =
        std::chrono::duration_cast<milliseconds>(deadline - clock_->steady_now());
    if (remaining.count() <= 0) {
      throw DeadlineExceeded(request.method, request.url, last_status, "",
                             deadline_text + " passed after " + std::to_string(attempt - 1) +
                                 " attempt(s)" + (last.empty() ? "" : "; last: " + last));
    }
    if (attempt > 1 && remake != nullptr && *remake) request = (*remake)();
    request.timeout = remaining;
    milliseconds wait{0};
    std::uint64_t handed_over = 0;  // body bytes this attempt gave the sink
    try {
      HttpResponse response = sink == nullptr
                                  ? transport_->send(request)
                                  : transport_->send_streamed(request, [&](std::string_view piece) {
                                      handed_over += piece.size();
                                      (*sink)(piece);
                                    });
      if (!is_retryable_status(response.status)) return {std::move(response), attempt, ""};
      last_status = response.status;
      last = "HTTP " + std::to_string(response.status);
      if (attempt >= max_attempts) {
        std::string why = idempotent ? "after " + std::to_string(attempt) + " attempts"
                                     : "not retried: the request is not idempotent";
        return {std::move(response), attempt, why};
      }
      std::optional<milliseconds> retry_after;
      if (auto header = response.header("retry-after"))
        retry_after = parse_retry_after(*header, clock_->now());
      if (retry_after && *retry_after > policy_.max_retry_after) {
        return {std::move(response), attempt,
                "server asked to retry after " + format_duration(*retry_after) +
                    ", beyond the limit of " + format_duration(policy_.max_retry_after)};
      }
      wait = retry_after ? *retry_after : backoff_delay(policy_, attempt, random_unit_());
    } catch (const TransportError& e) {
      last_status = 0;
      last = transport_detail(request, e);
      if (handed_over > 0) {
        throw ServerUnreachable(request.method, request.url, e.kind(),
                                last + " after " + std::to_string(handed_over) +
                                    " body bytes had been handed over; a streamed body is not "
                                    "resumed");
      }
      if (e.kind() == TransportError::Kind::kTimeout && clock_->steady_now() >= deadline) {
        throw DeadlineExceeded(request.method, request.url, 0, "",
                               deadline_text + " passed after " + std::to_string(attempt) +
                                   " attempt(s); last: " + last);
      }
      if (!is_retryable_transport(e.kind()) || attempt >= max_attempts) {
        std::string why = last;
        if (attempt > 1) why += " after " + std::to_string(attempt) + " attempts";
        throw ServerUnreachable(request.method, request.url, e.kind(), why);
      }
      wait = backoff_delay(policy_, attempt, random_unit_());
    }
    if (clock_->steady_now() + wait >= deadline) {
      throw DeadlineExceeded(request.method, request.url, last_status, "",
                             deadline_text + " would pass before attempt " +
                                 std::to_string(attempt + 1) + "; last: " + last);
    }
    clock_->sleep_for(wait);
  }
}

}  // namespace mst::fhir
