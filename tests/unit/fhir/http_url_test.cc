// Internal pieces of the transports (fhir/src): request URL validation and
// the redirect rules both implementations share.
#include "http_url.h"

#include <gtest/gtest.h>

#include "mst/fhir/http_transport.h"
#include "transport_rules.h"

namespace mst::fhir::detail {
namespace {

TEST(HttpUrl, ParsesTheParts) {
  const HttpUrl u =
      HttpUrl::parse("HTTPS://FHIR.Example.org:8443/r4/Patient?name=a%20b&_count=5#frag");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "fhir.example.org");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.path, "/r4/Patient");
  EXPECT_EQ(u.query, "name=a%20b&_count=5");
  EXPECT_EQ(u.target(), "/r4/Patient?name=a%20b&_count=5");
  EXPECT_EQ(u.origin(), "https://fhir.example.org:8443");
  EXPECT_EQ(u.redacted(), "https://fhir.example.org:8443/r4/Patient");
  EXPECT_EQ(u.str(), "https://fhir.example.org:8443/r4/Patient?name=a%20b&_count=5");
}

TEST(HttpUrl, DefaultsPortAndPath) {
  const HttpUrl u = HttpUrl::parse("http://localhost");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.path, "/");
  EXPECT_EQ(u.origin(), "http://localhost:80");
  EXPECT_EQ(u.authority_url(), "http://localhost");
  EXPECT_EQ(HttpUrl::parse("https://h:/x").port, 443);
  EXPECT_TRUE(HttpUrl::parse("https://h/x").same_origin(HttpUrl::parse("https://H:443/y")));
  EXPECT_FALSE(HttpUrl::parse("https://h/x").same_origin(HttpUrl::parse("http://h/x")));
  EXPECT_FALSE(HttpUrl::parse("http://h/x").same_origin(HttpUrl::parse("http://h:8080/x")));
}

TEST(HttpUrl, KeepsPercentEncodingAndFhirTokenBars) {
  const HttpUrl u = HttpUrl::parse("http://h/Observation?code=http://loinc.org|8480-6&x=%2F");
  EXPECT_EQ(u.query, "code=http://loinc.org|8480-6&x=%2F");
}

TEST(HttpUrl, Ipv6Literal) {
  const HttpUrl u = HttpUrl::parse("http://[::1]:8080/a");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.origin(), "http://[::1]:8080");
}

TEST(HttpUrl, RejectsWhatCannotBeSentSafely) {
  for (const char* bad :
       {"", "/Patient/1", "ftp://h/x", "http:/h/x", "http://", "http://:80/x", "http://u:p@h/x",
        "http://h:99999/x", "http://h:8a/x", "http://h/a b", "http://h/a\r\nX: y", "http://h/%zz",
        "http://h/caf\xc3\xa9", "http://[::1/x", "http://h^/x"}) {
    SCOPED_TRACE(bad);
    try {
      (void)HttpUrl::parse(bad);
      ADD_FAILURE() << "accepted";
    } catch (const TransportError& e) {
      EXPECT_EQ(e.kind(), TransportError::Kind::kInvalidRequest);
      EXPECT_EQ(std::string(e.what()).find(" p@"), std::string::npos) << "never echo user info";
    }
  }
}

TEST(NextRedirect, FollowsSameOriginOnly) {
  const HttpUrl here = HttpUrl::parse("https://fhir.example.org/r4/Patient/1?x=1");
  const auto relative = next_redirect(here, "GET", 302, "../Patient/2");
  ASSERT_TRUE(relative.has_value());
  EXPECT_EQ(relative->url.str(), "https://fhir.example.org/r4/Patient/2");
  EXPECT_EQ(relative->method, "GET");
  EXPECT_TRUE(next_redirect(here, "GET", 308, "https://FHIR.example.org:443/other").has_value());

  EXPECT_FALSE(next_redirect(here, "GET", 302, "https://evil.example/r4").has_value());
  EXPECT_FALSE(next_redirect(here, "GET", 302, "http://fhir.example.org/r4").has_value())
      << "a downgrade to http is another origin";
  EXPECT_FALSE(next_redirect(here, "GET", 302, "https://fhir.example.org:8443/r4").has_value());
  EXPECT_FALSE(next_redirect(here, "GET", 302, "//evil.example/x").has_value());
  EXPECT_FALSE(next_redirect(here, "GET", 302, std::nullopt).has_value());
  EXPECT_FALSE(next_redirect(here, "GET", 302, "").has_value());
  EXPECT_FALSE(next_redirect(here, "GET", 302, "ftp://fhir.example.org/x").has_value());
  EXPECT_FALSE(next_redirect(here, "GET", 304, "/x").has_value());
  EXPECT_FALSE(next_redirect(here, "GET", 200, "/x").has_value());
}

TEST(NextRedirect, RewritesMethodAsDeployedClientsDo) {
  const HttpUrl here = HttpUrl::parse("http://h/a");
  const auto see_other = next_redirect(here, "PUT", 303, "/b");
  EXPECT_EQ(see_other->method, "GET");
  EXPECT_TRUE(see_other->drop_body);
  EXPECT_EQ(next_redirect(here, "HEAD", 303, "/b")->method, "HEAD");
  EXPECT_EQ(next_redirect(here, "POST", 302, "/b")->method, "GET");
  EXPECT_EQ(next_redirect(here, "POST", 301, "/b")->method, "GET");
  EXPECT_EQ(next_redirect(here, "PUT", 301, "/b")->method, "PUT");
  const auto temporary = next_redirect(here, "POST", 307, "/b");
  EXPECT_EQ(temporary->method, "POST");
  EXPECT_FALSE(temporary->drop_body);
  EXPECT_EQ(next_redirect(here, "POST", 308, "/b")->method, "POST");
}

TEST(ValidateRequest, RejectsFramingHeadersAndInjection) {
  const auto kind_of = [](const HttpRequest& r) {
    try {
      validate_request(r);
      return std::string("accepted");
    } catch (const TransportError& e) {
      EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << "values never quoted";
      return std::string(to_string(e.kind()));
    }
  };
  EXPECT_EQ(kind_of({"GET", "http://h/", {{"Authorization", "Bearer s3cret"}}, {}, {}}),
            "accepted");
  EXPECT_EQ(kind_of({"GET", "http://h/", {{"X-A", "s3cret\r\nX-B: 1"}}, {}, {}}),
            "invalid_request");
  EXPECT_EQ(kind_of({"GET", "http://h/", {{"X-A", std::string("s3cret\0", 7)}}, {}, {}}),
            "invalid_request");
  for (const char* framing : {"Host", "content-length", "Transfer-Encoding", "Connection", "TE",
                              "Upgrade", "Expect", "Keep-Alive"}) {
    EXPECT_EQ(kind_of({"GET", "http://h/", {{framing, "s3cret"}}, {}, {}}), "invalid_request")
        << framing;
  }
  EXPECT_EQ(kind_of({"G T", "http://h/", {}, {}, {}}), "invalid_request");
  EXPECT_EQ(kind_of({"", "http://h/", {}, {}, {}}), "invalid_request");
}

TEST(ExchangeDeadline, TheShorterOfTransportAndRequestTimeouts) {
  TransportOptions options;
  options.request_timeout = std::chrono::seconds(10);
  const auto now = Clock::now();
  HttpRequest request;
  EXPECT_EQ(exchange_deadline(options, request, now), now + std::chrono::seconds(10));
  request.timeout = std::chrono::seconds(3);
  EXPECT_EQ(exchange_deadline(options, request, now), now + std::chrono::seconds(3));
  request.timeout = std::chrono::seconds(30);
  EXPECT_EQ(exchange_deadline(options, request, now), now + std::chrono::seconds(10));
}

}  // namespace
}  // namespace mst::fhir::detail
