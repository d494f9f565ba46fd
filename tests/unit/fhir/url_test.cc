#include "mst/fhir/url.h"

#include <gtest/gtest.h>

namespace mst::fhir {
namespace {

TEST(Url, EncodesQueryComponentsKeepingFhirSeparators) {
  EXPECT_EQ(encode_query_component("http://loinc.org|8480-6"), "http://loinc.org%7C8480-6");
  EXPECT_EQ(encode_query_component("a b&c=d+e#f"), "a%20b%26c%3Dd%2Be%23f");
  EXPECT_EQ(encode_query_component("ge2024-01-01,le2024-12-31"), "ge2024-01-01,le2024-12-31");
  EXPECT_EQ(encode_query_component("M\xC3\xBCller"), "M%C3%BCller");
  EXPECT_EQ(encode_query({{"patient", "p1"}, {"code", "a|b"}, {"_count", "50"}}),
            "patient=p1&code=a%7Cb&_count=50");
  EXPECT_EQ(encode_query({}), "");
}

TEST(Url, ResolvesReferencesAgainstThePage) {
  const std::string page = "https://ehr.example/fhir/Condition?patient=1";
  EXPECT_EQ(resolve_url(page, "https://other/x?y=1"), "https://other/x?y=1");
  EXPECT_EQ(resolve_url(page, "//cdn.example/fhir?p=2"), "https://cdn.example/fhir?p=2");
  EXPECT_EQ(resolve_url(page, "/fhir?_getpages=abc&_getpagesoffset=20"),
            "https://ehr.example/fhir?_getpages=abc&_getpagesoffset=20");
  EXPECT_EQ(resolve_url(page, "?patient=1&page=2"),
            "https://ehr.example/fhir/Condition?patient=1&page=2");
  EXPECT_EQ(resolve_url(page, "Condition?page=2"), "https://ehr.example/fhir/Condition?page=2");
  EXPECT_EQ(resolve_url(page, "../base/Condition?page=3"),
            "https://ehr.example/base/Condition?page=3");
  EXPECT_EQ(resolve_url("http://h:8080", "fhir?a=1"), "http://h:8080/fhir?a=1");
}

TEST(Url, ComparesOrigins) {
  EXPECT_EQ(url_origin("HTTPS://EHR.example:443/fhir"), "https://ehr.example");
  EXPECT_EQ(url_origin("http://127.0.0.1:8080/fhir?x"), "http://127.0.0.1:8080");
  EXPECT_EQ(url_origin("http://u:p@h/fhir"), "http://h");
  EXPECT_EQ(url_origin("/relative"), "");
  EXPECT_EQ(url_origin("ftp://h/x"), "");
  EXPECT_TRUE(is_http_url("http://h"));
  EXPECT_FALSE(is_http_url("http://"));
  EXPECT_FALSE(is_http_url("mailto:x@y"));
}

TEST(Url, RedactsQueryValuesAndUserInfo) {
  EXPECT_EQ(redact_url("https://user:secret@ehr/fhir/Patient?name=Smith&birthdate=1950-01-01#frag"),
            "https://ehr/fhir/Patient?name=***&birthdate=***");
  EXPECT_EQ(redact_url("http://h/fhir/Patient/123"), "http://h/fhir/Patient/123");
  EXPECT_EQ(redact_url("http://h/fhir?_getpages"), "http://h/fhir?_getpages");
  EXPECT_EQ(redact_urls_in("GET http://h/P?name=Smith failed: see https://x/y?t=1."),
            "GET http://h/P?name=*** failed: see https://x/y?t=***");
  EXPECT_EQ(redact_urls_in("no url, only httpish words"), "no url, only httpish words");
}

}  // namespace
}  // namespace mst::fhir
