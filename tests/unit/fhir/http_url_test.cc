#include "mst/fhir/http_url.h"

#include <gtest/gtest.h>

#include "mst/fhir/http_transport.h"

namespace mst::fhir {
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

TEST(HttpUrl, ResolvesReferencesPerRfc3986) {
  // The normal examples of RFC 3986 section 5.4.1, on an http base.
  const HttpUrl base = HttpUrl::parse("http://a/b/c/d;p?q");
  const std::pair<const char*, const char*> cases[] = {
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g/"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q"},
      {"g#s", "http://a/b/c/g"},
      {";x", "http://a/b/c/;x"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../g", "http://a/g"},
      {"../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {"https://x:1/y", "https://x:1/y"},
  };
  for (const auto& [reference, expected] : cases) {
    SCOPED_TRACE(reference);
    EXPECT_EQ(base.resolve(reference).str(), expected);
  }
  EXPECT_THROW((void)base.resolve("mailto:x@y"), TransportError);
}

}  // namespace
}  // namespace mst::fhir
