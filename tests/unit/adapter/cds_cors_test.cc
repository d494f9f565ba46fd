// CORS on the CDS Hooks endpoints (serve.cors_origins): a browser-based EHR
// or sandbox of an allowed origin gets its preflight and the headers on every
// answer; other origins, the review page and the ops endpoints get none.
#include "mst/adapter/serve/cds_cors.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "mst/adapter/config.h"

namespace mst::adapter {
namespace {

std::map<std::string, std::string> headers_of(const ServeReply& r) {
  return {r.headers.begin(), r.headers.end()};
}

// What the wrapped handler saw, and a 401 for any call without a token, as
// serve's JWT check answers.
struct Inner {
  int calls = 0;
  ServeHandler handler() {
    return [this](std::string_view, std::string_view, std::string_view,
                  std::string_view authorization, const BrowserHeaders&) {
      ++calls;
      if (authorization.empty()) return error_reply(401, "login", "no token");
      return ServeReply{200, "application/json", "{}", "", "", {}};
    };
  }
};

TEST(CdsCors, PathsAreTheCdsHooksEndpointsOnly) {
  for (const char* p : {"/cds-services", "/cds-services/", "/cds-services/mst-spine-careplan",
                        "/cds-services/mst-spine-careplan/feedback", "/cds-services?x=1"}) {
    EXPECT_TRUE(cors_path(p)) << p;
  }
  for (const char* p : {"/review/p1", "/healthz", "/readyz", "/metrics", "/cds-servicesx",
                        "/cds-services/a/b", "/cds-services//feedback", "/"}) {
    EXPECT_FALSE(cors_path(p)) << p;
  }
}

TEST(CdsCors, PreflightOfAnAllowedOriginIsAnsweredBeforeAuthentication) {
  Inner inner;
  const ServeHandler h = with_cors({"https://ehr.example.org"}, inner.handler());
  const ServeReply r =
      h("OPTIONS", "/cds-services/mst-spine-careplan", "", "", {"https://ehr.example.org", ""});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(inner.calls, 0) << "a preflight carries no token: it never meets the JWT check";
  const auto hs = headers_of(r);
  EXPECT_EQ(hs.at("Access-Control-Allow-Origin"), "https://ehr.example.org");
  EXPECT_EQ(hs.at("Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  EXPECT_EQ(hs.at("Access-Control-Allow-Headers"), "Authorization, Content-Type");
  EXPECT_EQ(hs.at("Access-Control-Max-Age"), "7200");
  EXPECT_EQ(hs.at("Vary"), "Origin");
}

TEST(CdsCors, AnswersCarryTheOriginErrorsIncluded) {
  Inner inner;
  const ServeHandler h = with_cors({"https://ehr.example.org"}, inner.handler());
  const BrowserHeaders browser{"https://ehr.example.org", "cross-site"};
  const ServeReply ok = h("GET", "/cds-services", "", "Bearer t", browser);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(headers_of(ok).at("Access-Control-Allow-Origin"), "https://ehr.example.org");
  // The browser shows the page a 401 only when it may read it.
  const ServeReply denied =
      h("POST", "/cds-services/mst-spine-careplan/feedback", "{}", "", browser);
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(headers_of(denied).at("Access-Control-Allow-Origin"), "https://ehr.example.org");
  EXPECT_EQ(inner.calls, 2);
}

TEST(CdsCors, OtherOriginsTheReviewPageAndOpsGetNoHeaders) {
  Inner inner;
  const ServeHandler h = with_cors({"https://ehr.example.org"}, inner.handler());
  const BrowserHeaders other{"https://evil.example.com", "cross-site"};
  const ServeReply pre = h("OPTIONS", "/cds-services", "", "", other);
  EXPECT_EQ(pre.status, 204);
  EXPECT_TRUE(pre.headers.empty());
  EXPECT_TRUE(h("GET", "/cds-services", "", "Bearer t", other).headers.empty());
  // A prefix of an allowed origin is another origin.
  EXPECT_TRUE(h("GET", "/cds-services", "", "Bearer t", {"https://ehr.example.org.evil", ""})
                  .headers.empty());
  const BrowserHeaders allowed{"https://ehr.example.org", "cross-site"};
  for (const char* p : {"/review/p1?t=x", "/healthz", "/metrics"}) {
    EXPECT_TRUE(h("GET", p, "", "Bearer t", allowed).headers.empty()) << p;
    // Their OPTIONS is the handler's (405), not a preflight.
    const int before = inner.calls;
    h("OPTIONS", p, "", "Bearer t", allowed);
    EXPECT_EQ(inner.calls, before + 1) << p;
  }
  // No Origin (a server-to-server EHR call): nothing to add.
  EXPECT_TRUE(h("GET", "/cds-services", "", "Bearer t", {}).headers.empty());
}

TEST(CdsCors, StarIsAnyOriginAndEmptyIsNoCors) {
  Inner inner;
  const ServeHandler any = with_cors({"*"}, inner.handler());
  const ServeReply r = any("OPTIONS", "/cds-services", "", "", {"http://localhost:3000", ""});
  EXPECT_EQ(headers_of(r).at("Access-Control-Allow-Origin"), "*");
  // Authorization is named: "*" in Allow-Headers would not cover it.
  EXPECT_EQ(headers_of(r).at("Access-Control-Allow-Headers"), "Authorization, Content-Type");

  const ServeHandler none = with_cors({}, inner.handler());
  const int before = inner.calls;
  const ServeReply off = none("OPTIONS", "/cds-services", "", "", {"https://ehr.example.org", ""});
  EXPECT_EQ(inner.calls, before + 1) << "no CORS: OPTIONS is the handler's to refuse";
  EXPECT_TRUE(off.headers.empty());
}

TEST(CdsCors, ConfigTakesOriginsAndRefusesWhatIsNotOne) {
  ConfigSources s;
  s.flags = {{"serve.cors_origins", "https://ehr.example.org, http://localhost:3000,*"}};
  EXPECT_EQ(load_config(s).serve.cors_origins,
            (std::vector<std::string>{"https://ehr.example.org", "http://localhost:3000", "*"}));
  EXPECT_TRUE(load_config({}).serve.cors_origins.empty());
  for (const char* bad :
       {"ehr.example.org", "https://ehr.example.org/", "https://ehr.example.org/x",
        "ftp://ehr.example.org", "https://", "https://a b"}) {
    ConfigSources b;
    b.flags = {{"serve.cors_origins", bad}};
    EXPECT_THROW(load_config(b), ConfigError) << bad;
  }
}

}  // namespace
}  // namespace mst::adapter
