#include "mst/fhir/retry_policy.h"

#include <gtest/gtest.h>

#include "mst/fhir/client_errors.h"
#include "support/mock_transport.h"

namespace mst::fhir {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::_;
using testing::FakeClock;
using ::testing::Invoke;
using testing::MockTransport;
using testing::response;
using ::testing::Return;

TEST(RetryPolicy, RetriesExactlyTheTransientStatuses) {
  for (int s : {408, 429, 500, 502, 503, 504}) EXPECT_TRUE(is_retryable_status(s)) << s;
  for (int s : {200, 201, 301, 400, 401, 403, 404, 409, 410, 412, 422, 501, 505}) {
    EXPECT_FALSE(is_retryable_status(s)) << s;
  }
  EXPECT_TRUE(is_retryable_transport(TransportError::Kind::kConnect));
  EXPECT_TRUE(is_retryable_transport(TransportError::Kind::kTimeout));
  EXPECT_FALSE(is_retryable_transport(TransportError::Kind::kTls));
  EXPECT_FALSE(is_retryable_transport(TransportError::Kind::kTooLarge));
}

TEST(RetryPolicy, ParsesRetryAfterSecondsAndDates) {
  FakeClock clock;
  const auto now = clock.now();  // 2026-03-01T12:00:00Z, a Sunday
  EXPECT_EQ(parse_retry_after("120", now), seconds(120));
  EXPECT_EQ(parse_retry_after(" 0 ", now), seconds(0));
  EXPECT_EQ(parse_retry_after("Sun, 01 Mar 2026 12:00:30 GMT", now), seconds(30));
  EXPECT_EQ(parse_retry_after("Sunday, 01-Mar-26 12:01:00 GMT", now), seconds(60));
  EXPECT_EQ(parse_retry_after("Sun Mar  1 12:00:05 2026", now), seconds(5));
  EXPECT_EQ(parse_retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now), milliseconds(0));
  EXPECT_EQ(parse_retry_after("99999999999999999999", now), std::chrono::hours(24));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("-5", now));
  EXPECT_FALSE(parse_retry_after("", now));
}

TEST(RetryPolicy, BackoffIsExponentialWithFullJitterAndCapped) {
  RetryPolicy p;
  p.initial_backoff = milliseconds(100);
  p.max_backoff = milliseconds(1000);
  EXPECT_EQ(backoff_delay(p, 1, 1.0), milliseconds(100));
  EXPECT_EQ(backoff_delay(p, 2, 1.0), milliseconds(200));
  EXPECT_EQ(backoff_delay(p, 3, 1.0), milliseconds(400));
  EXPECT_EQ(backoff_delay(p, 5, 1.0), milliseconds(1000));
  EXPECT_EQ(backoff_delay(p, 60, 1.0), milliseconds(1000));
  EXPECT_EQ(backoff_delay(p, 3, 0.5), milliseconds(200));
  EXPECT_EQ(backoff_delay(p, 3, 0.0), milliseconds(0));
}

class SenderTest : public ::testing::Test {
 protected:
  SenderTest() {
    policy.max_attempts = 4;
    policy.initial_backoff = milliseconds(100);
    policy.max_backoff = milliseconds(1000);
    policy.deadline = seconds(10);
    policy.max_retry_after = seconds(5);
  }
  RetryingSender sender() {
    return RetryingSender(transport, policy, clock, [] { return 1.0; });
  }
  SendResult send(bool idempotent = true) {
    auto s = sender();
    return s.send(HttpRequest{"GET", "http://h/fhir/Patient?name=Smith", {}, "", {}}, idempotent,
                  s.deadline_from_now());
  }

  std::shared_ptr<MockTransport> transport =
      std::make_shared<::testing::StrictMock<MockTransport>>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  RetryPolicy policy;
};

TEST_F(SenderTest, RetriesEachTransientStatusThenSucceeds) {
  for (int status : {408, 429, 500, 502, 503, 504}) {
    transport = std::make_shared<::testing::StrictMock<MockTransport>>();
    EXPECT_CALL(*transport, send(_))
        .WillOnce(Return(response(status)))
        .WillOnce(Return(response(200, "{}")));
    SendResult r = send();
    EXPECT_EQ(r.response.status, 200) << status;
    EXPECT_EQ(r.attempts, 2) << status;
  }
}

TEST_F(SenderTest, BacksOffExponentially) {
  EXPECT_CALL(*transport, send(_))
      .WillOnce(Return(response(503)))
      .WillOnce(Return(response(503)))
      .WillOnce(Return(response(503)))
      .WillOnce(Return(response(200)));
  EXPECT_EQ(send().attempts, 4);
  EXPECT_EQ(clock->sleeps,
            (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(400)}));
}

TEST_F(SenderTest, HonoursRetryAfterSeconds) {
  EXPECT_CALL(*transport, send(_))
      .WillOnce(Return(response(429, "", {{"retry-after", "3"}})))
      .WillOnce(Return(response(200)));
  EXPECT_EQ(send().response.status, 200);
  EXPECT_EQ(clock->sleeps, std::vector<milliseconds>{seconds(3)});
}

TEST_F(SenderTest, HonoursRetryAfterHttpDate) {
  EXPECT_CALL(*transport, send(_))
      .WillOnce(Return(response(503, "", {{"retry-after", "Sun, 01 Mar 2026 12:00:02 GMT"}})))
      .WillOnce(Return(response(200)));
  EXPECT_EQ(send().response.status, 200);
  EXPECT_EQ(clock->sleeps, std::vector<milliseconds>{seconds(2)});
}

TEST_F(SenderTest, DoesNotWaitForARetryAfterBeyondTheLimit) {
  EXPECT_CALL(*transport, send(_)).WillOnce(Return(response(503, "", {{"retry-after", "3600"}})));
  SendResult r = send();
  EXPECT_EQ(r.response.status, 503);
  EXPECT_NE(r.gave_up.find("retry after 3600 s"), std::string::npos) << r.gave_up;
  EXPECT_TRUE(clock->sleeps.empty());
}

TEST_F(SenderTest, ReturnsTheLastAnswerWhenAttemptsRunOut) {
  EXPECT_CALL(*transport, send(_)).Times(4).WillRepeatedly(Return(response(502)));
  SendResult r = send();
  EXPECT_EQ(r.response.status, 502);
  EXPECT_EQ(r.attempts, 4);
  EXPECT_EQ(r.gave_up, "after 4 attempts");
}

TEST_F(SenderTest, AFiveHundredStormEndsWithinTheDeadline) {
  policy.max_attempts = 1000;
  policy.initial_backoff = seconds(1);
  policy.max_backoff = seconds(4);
  // Each answer takes 300 ms of (fake) time.
  EXPECT_CALL(*transport, send(_)).WillRepeatedly(Invoke([&](const HttpRequest&) {
    clock->advance(milliseconds(300));
    return response(500);
  }));
  try {
    send();
    FAIL() << "expected DeadlineExceeded";
  } catch (const DeadlineExceeded& e) {
    EXPECT_LE(clock->elapsed(), seconds(10));
    EXPECT_EQ(e.status(), 500);
    EXPECT_NE(std::string(e.what()).find("deadline of 10 s"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("last: HTTP 500"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("Smith"), std::string::npos) << e.what();
  }
}

TEST_F(SenderTest, AHangingServerEndsWithinTheDeadline) {
  // The transport honours the per-exchange timeout it is given.
  std::vector<milliseconds> timeouts;
  EXPECT_CALL(*transport, send(_)).WillRepeatedly(Invoke([&](const HttpRequest& r) -> HttpResponse {
    timeouts.push_back(r.timeout);
    const auto wait = std::min(r.timeout, milliseconds(6000));
    clock->advance(wait);
    throw TransportError(TransportError::Kind::kTimeout, "read timed out");
  }));
  try {
    send();
    FAIL() << "expected DeadlineExceeded";
  } catch (const DeadlineExceeded& e) {
    EXPECT_LE(clock->elapsed(), seconds(10));
    EXPECT_NE(std::string(e.what()).find("no response in time"), std::string::npos) << e.what();
  }
  ASSERT_EQ(timeouts.size(), 2u);
  EXPECT_EQ(timeouts[0], seconds(10));
  EXPECT_EQ(timeouts[1], seconds(10) - milliseconds(6000) - milliseconds(100));
}

TEST_F(SenderTest, ConnectionFailuresAreRetriedThenReportedAsUnreachable) {
  EXPECT_CALL(*transport, send(_))
      .Times(4)
      .WillRepeatedly(Invoke([](const HttpRequest&) -> HttpResponse {
        throw TransportError(TransportError::Kind::kConnect,
                             "connection refused to http://h/fhir/Patient?name=Smith");
      }));
  try {
    send();
    FAIL() << "expected ServerUnreachable";
  } catch (const ServerUnreachable& e) {
    EXPECT_EQ(e.kind(), TransportError::Kind::kConnect);
    EXPECT_FALSE(e.timed_out());
    EXPECT_EQ(e.status(), 0);
    EXPECT_EQ(std::string(e.what()),
              "GET http://h/fhir/Patient?name=***: cannot connect (connection refused to "
              "http://h/fhir/Patient?name=***) after 4 attempts");
  }
}

TEST_F(SenderTest, DoesNotRepeatTheTransportsOwnPrefix) {
  policy.max_attempts = 1;
  EXPECT_CALL(*transport, send(_)).WillOnce(Invoke([](const HttpRequest&) -> HttpResponse {
    throw TransportError(TransportError::Kind::kConnect,
                         "GET http://h/fhir/Patient: cannot connect (Connection refused)");
  }));
  try {
    send();
    FAIL();
  } catch (const ServerUnreachable& e) {
    EXPECT_STREQ(e.what(),
                 "GET http://h/fhir/Patient?name=***: cannot connect (Connection refused)");
  }
}

TEST_F(SenderTest, TimeoutsAreDistinguishableFromConnectFailures) {
  policy.max_attempts = 1;
  EXPECT_CALL(*transport, send(_)).WillOnce(Invoke([](const HttpRequest&) -> HttpResponse {
    throw TransportError(TransportError::Kind::kTimeout, "timed out");
  }));
  try {
    send();
    FAIL();
  } catch (const ServerUnreachable& e) {
    EXPECT_TRUE(e.timed_out());
  }
}

TEST_F(SenderTest, TlsFailuresAreNotRetried) {
  EXPECT_CALL(*transport, send(_)).WillOnce(Invoke([](const HttpRequest&) -> HttpResponse {
    throw TransportError(TransportError::Kind::kTls, "certificate verify failed");
  }));
  EXPECT_THROW(send(), ServerUnreachable);
}

TEST_F(SenderTest, NonIdempotentRequestsAreSentOnce) {
  EXPECT_CALL(*transport, send(_)).WillOnce(Return(response(503)));
  SendResult r = send(false);
  EXPECT_EQ(r.response.status, 503);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_NE(r.gave_up.find("not idempotent"), std::string::npos);

  EXPECT_CALL(*transport, send(_)).WillOnce(Invoke([](const HttpRequest&) -> HttpResponse {
    throw TransportError(TransportError::Kind::kConnect, "refused");
  }));
  EXPECT_THROW(send(false), ServerUnreachable);
}

TEST(FormatDuration, IsShortAndReadable) {
  EXPECT_EQ(format_duration(milliseconds(250)), "250 ms");
  EXPECT_EQ(format_duration(milliseconds(1500)), "1.5 s");
  EXPECT_EQ(format_duration(seconds(120)), "120 s");
}

}  // namespace
}  // namespace mst::fhir
