#include "mst/fhir/rest_client.h"

#include <gtest/gtest.h>

#include "mst/fhir/client_errors.h"
#include "support/mock_transport.h"

namespace mst::fhir {
namespace {

using std::chrono::milliseconds;
using ::testing::_;
using testing::FakeClock;
using testing::header_of;
using ::testing::Invoke;
using testing::MockTransport;
using testing::response;
using ::testing::Return;

class MockAuth : public AuthProvider {
 public:
  MOCK_METHOD(void, authorize, (HttpRequest & request), (override));
  MOCK_METHOD(bool, invalidate, (), (override));
  std::string_view scheme() const override { return "mock"; }
};

constexpr const char* kBase = "https://ehr.example/fhir";

std::string outcome(const std::string& severity, const std::string& text) {
  return R"({"resourceType":"OperationOutcome","issue":[{"severity":")" + severity +
         R"(","code":"processing","diagnostics":")" + text + R"("}]})";
}

std::string page(const std::vector<std::string>& ids, const std::string& next = "",
                 const std::string& extra = "") {
  std::string s = R"({"resourceType":"Bundle","type":"searchset","total":99,"link":[)";
  s += R"({"relation":"self","url":"x"})";
  if (!next.empty()) s += R"(,{"relation":"next","url":")" + next + R"("})";
  s += R"(],"entry":[)";
  bool first = true;
  for (const auto& id : ids) {
    if (!first) s += ",";
    first = false;
    s += R"({"fullUrl":"x","resource":{"resourceType":"Condition","id":")" + id +
         R"("},"search":{"mode":"match"}})";
  }
  if (!extra.empty()) s += (first ? "" : ",") + extra;
  return s + "]}";
}

class RestClientTest : public ::testing::Test {
 protected:
  RestClientTest() {
    policy.initial_backoff = milliseconds(10);
    policy.max_backoff = milliseconds(40);
    policy.max_attempts = 3;
  }
  RestClient& client() {
    if (!client_) {
      auto sender = std::make_shared<RetryingSender>(transport, policy, clock, [] { return 1.0; });
      client_ = std::make_unique<RestClient>(RestClientOptions{kBase}, sender,
                                             auth ? auth : make_no_auth());
    }
    return *client_;
  }
  // Records each request and answers from `answers` in order.
  void script(std::vector<HttpResponse> answers) {
    EXPECT_CALL(*transport, send(_))
        .Times(static_cast<int>(answers.size()))
        .WillRepeatedly(Invoke([this, answers](const HttpRequest& r) {
          sent.push_back(r);
          return answers.at(sent.size() - 1);
        }));
  }

  std::shared_ptr<MockTransport> transport =
      std::make_shared<::testing::StrictMock<MockTransport>>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::shared_ptr<AuthProvider> auth;
  RetryPolicy policy;
  std::vector<HttpRequest> sent;
  std::unique_ptr<RestClient> client_;
};

TEST_F(RestClientTest, RejectsABadBaseUrl) {
  auto sender = std::make_shared<RetryingSender>(transport, policy, clock);
  EXPECT_THROW(RestClient(RestClientOptions{"ehr.example/fhir"}, sender, make_no_auth()),
               InvalidRequest);
  EXPECT_THROW(
      RestClient(RestClientOptions{"https://ehr.example/fhir?x=1"}, sender, make_no_auth()),
      InvalidRequest);
  RestClient ok(RestClientOptions{"https://ehr.example/fhir/"}, sender, make_no_auth());
  EXPECT_EQ(ok.base_url(), kBase);
}

TEST_F(RestClientTest, ReadSendsFhirHeadersAndKeepsTheBodyAlive) {
  script({response(200, R"({"resourceType":"Patient","id":"p1","meta":{"versionId":"7"}})",
                   {{"etag", "W/\"7\""}, {"last-modified", "Sun, 01 Mar 2026 10:00:00 GMT"}})});
  FhirResponse r = client().read("Patient", "p1");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method, "GET");
  EXPECT_EQ(sent[0].url, "https://ehr.example/fhir/Patient/p1");
  EXPECT_EQ(header_of(sent[0], "Accept"), "application/fhir+json");
  EXPECT_EQ(header_of(sent[0], "User-Agent"), std::string("mst-adapter/") + MST_VERSION);
  EXPECT_EQ(header_of(sent[0], "Content-Type"), "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.etag, "W/\"7\"");
  EXPECT_EQ(r.version_id, "7");
  EXPECT_EQ(r.id, "p1");
  EXPECT_EQ(r.last_modified, "Sun, 01 Mar 2026 10:00:00 GMT");
  FhirResponse copy = r;
  r = FhirResponse{};
  EXPECT_EQ(Resource(copy.resource()).id(), "p1");
}

TEST_F(RestClientTest, ReadRefusesAnAnswerOfAnotherTypeOrId) {
  script({response(200, R"({"resourceType":"Observation","id":"p1"})"),
          response(200, R"({"resourceType":"Patient","id":"p2"})"),
          response(200, R"({"resourceType":"Condition","id":"c9","meta":{"versionId":"2"}})")});
  try {
    client().read("Patient", "p1");
    ADD_FAILURE() << "an Observation was taken for the Patient";
  } catch (const InvalidResponse& e) {
    EXPECT_NE(
        std::string(e.what()).find("answered with a resource of type Observation, not Patient"),
        std::string::npos)
        << e.what();
  }
  try {
    client().read("Patient", "p1");
    ADD_FAILURE() << "Patient/p2 was taken for Patient/p1";
  } catch (const InvalidResponse& e) {
    EXPECT_NE(std::string(e.what()).find("answered with Patient/p2, not the id asked for"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(client().vread("Condition", "c1", "2"), InvalidResponse);
}

TEST_F(RestClientTest, VreadAddressesTheVersion) {
  script({response(200, R"({"resourceType":"Condition","id":"c1","meta":{"versionId":"2"}})")});
  FhirResponse r = client().vread("Condition", "c1", "2");
  EXPECT_EQ(sent[0].url, "https://ehr.example/fhir/Condition/c1/_history/2");
  EXPECT_EQ(r.version_id, "2");
}

TEST_F(RestClientTest, RefusesMalformedTypesAndIdsWithoutSending) {
  EXPECT_CALL(*transport, send(_)).Times(0);
  EXPECT_THROW(client().read("patient", "p1"), InvalidRequest);
  EXPECT_THROW(client().read("Patient", "../metadata"), InvalidRequest);
  EXPECT_THROW(client().read("Patient", ""), InvalidRequest);
  EXPECT_THROW(client().vread("Patient", "p1", "1/x"), InvalidRequest);
  EXPECT_THROW(client().search("Patient?x=1", {}, {}), InvalidRequest);
}

TEST_F(RestClientTest, MapsStatusesToTypedErrorsWithTheOutcome) {
  script({response(404, outcome("error", "Resource Patient/zz is not known")), response(410),
          response(400, outcome("error", "Invalid date")), response(422, "<html>proxy</html>")});
  try {
    client().read("Patient", "zz");
    FAIL();
  } catch (const NotFound& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_EQ(e.method(), "GET");
    EXPECT_EQ(e.url(), "https://ehr.example/fhir/Patient/zz");
    EXPECT_EQ(e.outcome(), "error (processing)");
    EXPECT_EQ(std::string(e.what()),
              "GET https://ehr.example/fhir/Patient/zz: HTTP 404 Not Found [error (processing)]");
  }
  EXPECT_THROW(client().read("Patient", "gone"), NotFound);
  try {
    client().search("Observation", {{"date", "ge2024-13-45"}, {"patient", "Smith"}}, {});
    FAIL();
  } catch (const HttpStatusError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_EQ(e.url(), "https://ehr.example/fhir/Observation?date=***&patient=***");
    EXPECT_EQ(std::string(e.what()).find("Smith"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[error (processing)]"), std::string::npos);
  }
  try {
    client().read("Patient", "p");
    FAIL();
  } catch (const HttpStatusError& e) {
    EXPECT_EQ(e.status(), 422);
    EXPECT_EQ(e.outcome(), "");
  }
}

// A server's diagnostics quote a patient, the request's credential and a
// terminal escape (issue #12, finding 5): only status, issue code and the
// HAPI message id may come through.
TEST_F(RestClientTest, ServerErrorTextKeepsOnlyStatusIssueCodeAndMessageId) {
  const std::string token = "tok3nSecretValue0123456789abcdefXYZ";
  auto mock = std::make_shared<MockAuth>();
  auth = mock;
  EXPECT_CALL(*mock, authorize(_)).WillRepeatedly(Invoke([&](HttpRequest& r) {
    r.headers.emplace_back("Authorization", "Bearer " + token);
  }));
  script({response(400, outcome("error",
                                "HAPI-0389: Patient Jane Smith DOB 1961-04-02 MRN 00123456 "
                                "\\u001b[31mAuthorization: Bearer " +
                                    token + "\\u001b[0m"))});
  try {
    client().read("Patient", "p1");
    FAIL();
  } catch (const HttpStatusError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.outcome(), "error (processing) HAPI-0389");
    EXPECT_NE(what.find("HTTP 400"), std::string::npos) << what;
    for (const char* leak : {"Jane", "Smith", "1961", "00123456", "tok3n", "\x1b"})
      EXPECT_EQ(what.find(leak), std::string::npos) << leak << " in " << what;
  }
}

// The summary used to be cut at 300 characters before the credential was
// looked for, so a token straddling the cut left its prefix (finding 6).
TEST_F(RestClientTest, ATokenAcrossTheOldCutLeavesNoPrefix) {
  const std::string token = "tok3nSecretValue0123456789abcdefXYZ";
  auto mock = std::make_shared<MockAuth>();
  auth = mock;
  EXPECT_CALL(*mock, authorize(_)).WillRepeatedly(Invoke([&](HttpRequest& r) {
    r.headers.emplace_back("Authorization", "Bearer " + token);
  }));
  // "error (processing): " is 20 characters; the token starts at 290.
  script({response(400, outcome("error", std::string(270, 'x') + token))});
  try {
    client().read("Patient", "p1");
    FAIL();
  } catch (const HttpStatusError& e) {
    EXPECT_EQ(std::string(e.what()).find("tok3n"), std::string::npos) << e.what();
  }
}

TEST_F(RestClientTest, StaleIfMatchIsAVersionConflictFor409And412) {
  const std::string body = R"({"resourceType":"CarePlan","id":"cp1","status":"draft"})";
  script(
      {response(409, outcome("error",
                             "HAPI-0989: Trying to update CarePlan/cp1/_history/3 but this is not "
                             "the current version")),
       response(412, outcome("error", "version mismatch"))});
  for (int expected : {409, 412}) {
    try {
      client().update("CarePlan", "cp1", body, "3");
      FAIL();
    } catch (const VersionConflict& e) {
      EXPECT_EQ(e.status(), expected);
      EXPECT_NE(std::string(e.what()).find("If-Match"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(header_of(sent[0], "If-Match"), "W/\"3\"");
  EXPECT_EQ(sent[0].method, "PUT");
  EXPECT_EQ(sent[0].url, "https://ehr.example/fhir/CarePlan/cp1");
}

TEST_F(RestClientTest, A412WithoutIfMatchIsNotAVersionConflict) {
  script({response(412, outcome("error", "multiple matches"))});
  try {
    client().update_conditional("CarePlan", {{"identifier", "sys|1"}},
                                R"({"resourceType":"CarePlan"})");
    FAIL();
  } catch (const VersionConflict&) {
    FAIL() << "412 to a conditional update is not a version conflict";
  } catch (const HttpStatusError& e) {
    EXPECT_EQ(e.status(), 412);
    EXPECT_NE(std::string(e.what()).find("more than one"), std::string::npos);
  }
}

TEST_F(RestClientTest, CreateSendsTheBodyAndReadsLocation) {
  script({response(
      201, R"({"resourceType":"Goal","id":"g9","meta":{"versionId":"1"}})",
      {{"location", "https://ehr.example/fhir/Goal/g9/_history/1"}, {"etag", "W/\"1\""}})});
  FhirResponse r =
      client().create("Goal", R"({"resourceType":"Goal","lifecycleStatus":"proposed"})", {});
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].url, "https://ehr.example/fhir/Goal");
  EXPECT_EQ(header_of(sent[0], "Content-Type"), "application/fhir+json; charset=utf-8");
  EXPECT_EQ(header_of(sent[0], "Prefer"), "return=representation");
  EXPECT_EQ(header_of(sent[0], "If-None-Exist"), "");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.id, "g9");
  EXPECT_EQ(r.version_id, "1");
  EXPECT_EQ(r.location, "https://ehr.example/fhir/Goal/g9/_history/1");
}

TEST_F(RestClientTest, APlainCreateIsNeverRetried) {
  script({response(503)});
  try {
    client().create("Goal", R"({"resourceType":"Goal"})", {});
    FAIL();
  } catch (const HttpStatusError& e) {
    EXPECT_EQ(e.status(), 503);
    EXPECT_NE(std::string(e.what()).find("not idempotent"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(clock->sleeps.empty());
}

TEST_F(RestClientTest, AConditionalCreateIsRetried) {
  script({response(503), response(200, R"({"resourceType":"Goal","id":"g1"})")});
  FhirResponse r =
      client().create("Goal", R"({"resourceType":"Goal"})", {{"identifier", "urn:mst|g-1"}});
  EXPECT_EQ(r.id, "g1");
  EXPECT_EQ(header_of(sent[1], "If-None-Exist"), "identifier=urn:mst%7Cg-1");
}

TEST_F(RestClientTest, RefusesABodyOfAnotherTypeOrId) {
  EXPECT_CALL(*transport, send(_)).Times(0);
  EXPECT_THROW(client().create("Goal", R"({"resourceType":"CarePlan"})", {}), InvalidRequest);
  EXPECT_THROW(client().create("Goal", "not json", {}), InvalidRequest);
  EXPECT_THROW(client().update("Goal", "g1", R"({"resourceType":"Goal","id":"g2"})", ""),
               InvalidRequest);
  EXPECT_THROW(client().update_conditional("Goal", {}, R"({"resourceType":"Goal"})"),
               InvalidRequest);
}

TEST_F(RestClientTest, UpdatesWithIfMatchAndConditionallyAreRetriedPlainUpdatesAreNot) {
  script({response(502),
          response(200, R"({"resourceType":"CareTeam","id":"t1","meta":{"versionId":"4"}})"),
          response(500), response(201, R"({"resourceType":"CareTeam","id":"t2"})"), response(500)});
  EXPECT_EQ(
      client().update("CareTeam", "t1", R"({"resourceType":"CareTeam","id":"t1"})", "3").version_id,
      "4");
  EXPECT_EQ(client()
                .update_conditional("CareTeam", {{"identifier", "urn:mst|t"}},
                                    R"({"resourceType":"CareTeam"})")
                .id,
            "t2");
  EXPECT_EQ(sent[3].method, "PUT");
  EXPECT_EQ(sent[3].url, "https://ehr.example/fhir/CareTeam?identifier=urn:mst%7Ct");
  EXPECT_THROW(client().update("CareTeam", "t1", R"({"resourceType":"CareTeam","id":"t1"})", ""),
               HttpStatusError);
  EXPECT_EQ(sent.size(), 5u);
}

constexpr const char* kConditionalTx = R"({"resourceType":"Bundle","type":"transaction","entry":[
  {"resource":{"resourceType":"Goal"},"request":{"method":"POST","url":"Goal","ifNoneExist":"identifier=a|1"}},
  {"resource":{"resourceType":"CarePlan"},"request":{"method":"PUT","url":"CarePlan?identifier=a|2"}},
  {"resource":{"resourceType":"CareTeam","id":"t"},"request":{"method":"PUT","url":"CareTeam/t","ifMatch":"W/\"2\""}}]})";

constexpr const char* kPlainTx = R"({"resourceType":"Bundle","type":"transaction","entry":[
  {"resource":{"resourceType":"Goal"},"request":{"method":"PUT","url":"Goal?identifier=a|1"}},
  {"resource":{"resourceType":"Provenance"},"request":{"method":"POST","url":"Provenance"}}]})";

TEST_F(RestClientTest, TransactionsWithOnlyConditionalEntriesAreRetried) {
  script({response(504),
          response(200, R"({"resourceType":"Bundle","type":"transaction-response","entry":[]})"),
          response(504)});
  FhirResponse r = client().transaction(kConditionalTx);
  EXPECT_EQ(Bundle(r.resource()).type(), "transaction-response");
  EXPECT_EQ(sent[0].url, kBase);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].body, kConditionalTx);
  EXPECT_THROW(client().transaction(kPlainTx), HttpStatusError);
  EXPECT_EQ(sent.size(), 3u);
}

TEST_F(RestClientTest, RefusesABundleThatIsNotATransaction) {
  EXPECT_CALL(*transport, send(_)).Times(0);
  EXPECT_THROW(client().transaction(R"({"resourceType":"Bundle","type":"collection"})"),
               InvalidRequest);
  EXPECT_THROW(client().transaction(R"({"resourceType":"Patient"})"), InvalidRequest);
  EXPECT_THROW(client().transaction("{"), InvalidRequest);
}

TEST_F(RestClientTest, ASuccessWithAnUnusableBodyIsAnInvalidResponse) {
  script({response(200, "<html>login</html>")});
  EXPECT_THROW(client().read("Patient", "p1"), InvalidResponse);
}

TEST_F(RestClientTest, ReadsTheCapabilityStatement) {
  script({response(200, R"({"resourceType":"CapabilityStatement","fhirVersion":"4.0.1",
    "software":{"name":"HAPI FHIR Server","version":"8.8.0"},
    "rest":[{"mode":"server","interaction":[{"code":"transaction"},{"code":"batch"}],
      "resource":[{"type":"Patient","interaction":[{"code":"read"},{"code":"search-type"}],
                   "searchParam":[{"name":"_id","type":"token"},{"name":"identifier","type":"token"}]},
                  {"type":"CarePlan","interaction":[{"code":"create"},{"code":"update"}],
                   "conditionalCreate":true,"conditionalUpdate":true}]},
     {"mode":"client","interaction":[{"code":"history-system"}]}]})")});
  Capabilities caps = client().capabilities();
  EXPECT_EQ(sent[0].url, "https://ehr.example/fhir/metadata");
  EXPECT_TRUE(caps.is_r4());
  EXPECT_EQ(caps.software, "HAPI FHIR Server 8.8.0");
  EXPECT_TRUE(caps.supports("Patient", "read"));
  EXPECT_TRUE(caps.supports("Patient", "search-type"));
  EXPECT_FALSE(caps.supports("Patient", "update"));
  EXPECT_FALSE(caps.supports("Goal", "create"));
  EXPECT_TRUE(caps.supports_search_param("Patient", "identifier"));
  EXPECT_TRUE(caps.supports_system("transaction"));
  EXPECT_FALSE(caps.supports_system("history-system"));
  EXPECT_TRUE(caps.resources.at("CarePlan").conditional_update);
  EXPECT_FALSE(caps.resources.at("Patient").conditional_update);
}

TEST_F(RestClientTest, ReadsSystemAndTypeOperationsWithoutTheirDollar) {
  script({response(200, R"({"resourceType":"CapabilityStatement","fhirVersion":"4.0.1",
    "rest":[{"mode":"server","operation":[{"name":"export","definition":"x"},{"name":"$meta"}],
      "resource":[{"type":"Group","operation":[{"name":"$export"}]},{"type":"Patient"}]},
     {"mode":"client","operation":[{"name":"client-only"}]}]})")});
  Capabilities caps = client().capabilities();
  EXPECT_TRUE(caps.system_operations.contains("export"));
  EXPECT_TRUE(caps.system_operations.contains("meta"));
  EXPECT_FALSE(caps.system_operations.contains("client-only"));
  EXPECT_TRUE(caps.resources.at("Group").operations.contains("export"));
  EXPECT_TRUE(caps.resources.at("Patient").operations.empty());
}

TEST(Capabilities, KnowsR4FromOtherVersions) {
  Capabilities c;
  for (const char* v : {"4.0.0", "4.0.1"}) {
    c.fhir_version = v;
    EXPECT_TRUE(c.is_r4()) << v;
  }
  for (const char* v : {"3.0.2", "4.3.0", "5.0.0", "4.01", ""}) {
    c.fhir_version = v;
    EXPECT_FALSE(c.is_r4()) << v;
  }
  auto doc = JsonDocument::parse(R"({"resourceType":"Patient"})");
  EXPECT_THROW(read_capabilities(doc.root()), ElementError);
}

TEST(Capabilities, ReadsRequiredSearchCombinations) {
  // As an EHR that refuses CarePlan searches without the patient states it
  // (capabilitystatement-search-parameter-combination, R4).
  auto doc = JsonDocument::parse(R"({"resourceType":"CapabilityStatement","fhirVersion":"4.0.1",
    "rest":[{"mode":"server","resource":[
      {"type":"CarePlan","interaction":[{"code":"search-type"}],"extension":[
        {"url":"http://hl7.org/fhir/StructureDefinition/capabilitystatement-search-parameter-combination",
         "extension":[{"url":"required","valueString":"patient"}]},
        {"url":"http://hl7.org/fhir/StructureDefinition/capabilitystatement-search-parameter-combination",
         "extension":[{"url":"required","valueString":"subject"},{"url":"optional","valueString":"x"}]},
        {"url":"http://example.org/other","extension":[{"url":"required","valueString":"_id"}]}]},
      {"type":"Goal","interaction":[{"code":"search-type"}]}]}]})");
  Capabilities caps = read_capabilities(doc.root());
  ASSERT_EQ(caps.resources.at("CarePlan").required_search_params.size(), 2u);
  EXPECT_FALSE(caps.search_allowed("CarePlan", {"identifier"}));
  EXPECT_FALSE(caps.search_allowed("CarePlan", {"identifier", "_id"}));
  EXPECT_TRUE(caps.search_allowed("CarePlan", {"identifier", "patient"}));
  EXPECT_TRUE(caps.search_allowed("CarePlan", {"subject"}));
  EXPECT_TRUE(caps.search_allowed("Goal", {"identifier"}));
  EXPECT_TRUE(caps.search_allowed("Device", {}));
}

// ---- paging ----

TEST_F(RestClientTest, FollowsRelativeNextLinks) {
  script({response(200, page({"a", "b"}, "?patient=p1&_getpagesoffset=2")),
          response(200, page({"c"}, "Condition?patient=p1&_getpagesoffset=3")),
          response(200, page({"d"}))});
  SearchResult r = client().search("Condition", {{"patient", "p1"}}, {});
  EXPECT_EQ(sent[0].url, "https://ehr.example/fhir/Condition?patient=p1");
  EXPECT_EQ(sent[1].url, "https://ehr.example/fhir/Condition?patient=p1&_getpagesoffset=2");
  EXPECT_EQ(sent[2].url, "https://ehr.example/fhir/Condition?patient=p1&_getpagesoffset=3");
  ASSERT_EQ(r.resources.size(), 4u);
  EXPECT_EQ(Resource(r.resources[3]).id(), "d");
  EXPECT_EQ(r.pages.size(), 3u);
  EXPECT_EQ(r.total, 99);
  EXPECT_TRUE(r.complete);
  EXPECT_NO_THROW(r.require_complete());
}

TEST_F(RestClientTest, ASearchAsksForAFreshAnswerNotACachedOne) {
  script(
      {response(200, page({"a"}, "?_getpages=abc&_getpagesoffset=1")), response(200, page({"b"}))});
  client().search("Condition", {{"_lastUpdated", "gt2026-11-20T08:00:00Z"}}, {});
  auto header = [](const HttpRequest& r, std::string_view name) -> std::string {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  };
  EXPECT_EQ(header(sent[0], "Cache-Control"), "no-cache");
  EXPECT_EQ(header(sent[1], "Cache-Control"), "");  // a page of the search already made
}

TEST_F(RestClientTest, FollowsAbsoluteNextLinks) {
  script(
      {response(200, page({"a"}, "https://ehr.example/fhir?_getpages=abc&_getpagesoffset=1")),
       response(200, page({"b"}, "https://EHR.example:443/fhir?_getpages=abc&_getpagesoffset=2")),
       response(200, page({}))});
  SearchResult r = client().search("Condition", {}, {});
  EXPECT_EQ(sent[0].url, "https://ehr.example/fhir/Condition");
  EXPECT_EQ(sent[1].url, "https://ehr.example/fhir?_getpages=abc&_getpagesoffset=1");
  EXPECT_EQ(sent[2].url, "https://EHR.example:443/fhir?_getpages=abc&_getpagesoffset=2");
  EXPECT_EQ(r.resources.size(), 2u);
  EXPECT_TRUE(r.complete);
}

TEST_F(RestClientTest, StopsWhenANextLinkRepeats) {
  script({response(200, page({"a"}, "https://ehr.example/fhir?_getpages=x&o=1")),
          response(200, page({"b"}, "https://ehr.example/fhir?_getpages=x&o=2")),
          response(200, page({"c"}, "https://ehr.example/fhir?_getpages=x&o=1"))});
  SearchResult r = client().search("Condition", {}, {});
  EXPECT_EQ(r.resources.size(), 3u);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.incomplete_reason.find("repeated a next link"), std::string::npos)
      << r.incomplete_reason;
  EXPECT_THROW(r.require_complete(), SearchIncomplete);
}

TEST_F(RestClientTest, StopsWhenTheNextLinkPointsBackToTheFirstPage) {
  script({response(200, page({"a"}, "https://ehr.example/fhir/Condition?patient=1"))});
  SearchResult r = client().search("Condition", {{"patient", "1"}}, {});
  EXPECT_FALSE(r.complete);
}

TEST_F(RestClientTest, StopsAtTheMaxPagesBound) {
  script({response(200, page({"a"}, "?p=2")), response(200, page({"b"}, "?p=3"))});
  SearchResult r = client().search("Condition", {}, SearchLimits{2, 100});
  EXPECT_EQ(r.resources.size(), 2u);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.incomplete_reason, "stopped at the limit of 2 pages; the server has more");
  try {
    r.require_complete();
    FAIL();
  } catch (const SearchIncomplete& e) {
    EXPECT_NE(std::string(e.what()).find("limit of 2 pages"), std::string::npos) << e.what();
  }
}

TEST_F(RestClientTest, StopsAtTheMaxResourcesBound) {
  script({response(200, page({"a", "b"}, "?p=2")), response(200, page({"c", "d"}, "?p=3"))});
  SearchResult r = client().search("Condition", {}, SearchLimits{10, 3});
  EXPECT_EQ(r.resources.size(), 3u);
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.incomplete_reason.find("limit of 3 resources"), std::string::npos);
}

TEST_F(RestClientTest, ExactlyReachingTheResourceBoundOnTheLastPageIsComplete) {
  script({response(200, page({"a", "b"}))});
  SearchResult r = client().search("Condition", {}, SearchLimits{10, 2});
  EXPECT_TRUE(r.complete);
}

TEST_F(RestClientTest, DoesNotFollowANextLinkToAnotherOrigin) {
  script({response(200, page({"a"}, "https://evil.example/fhir?_getpages=1"))});
  auth = make_no_auth();
  SearchResult r = client().search("Condition", {}, {});
  EXPECT_FALSE(r.complete);
  EXPECT_NE(r.incomplete_reason.find("another origin (https://evil.example)"), std::string::npos);
}

TEST_F(RestClientTest, ReportsOutcomeEntriesAsWarningsNotData) {
  const std::string outcome_entry =
      R"({"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"processing",
      "diagnostics":"Some results were filtered"}]},"search":{"mode":"outcome"}})";
  const std::string include_entry =
      R"({"resource":{"resourceType":"Patient","id":"p1"},"search":{"mode":"include"}})";
  script({response(200, page({"a"}, "", outcome_entry + "," + include_entry))});
  SearchResult r = client().search("Condition", {{"_include", "Condition:subject"}}, {});
  ASSERT_EQ(r.resources.size(), 1u);
  EXPECT_EQ(Resource(r.resources[0]).type(), "Condition");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].severity, "warning");
  EXPECT_EQ(r.warnings[0].diagnostics, "Some results were filtered");
  ASSERT_EQ(r.included.size(), 1u);
  EXPECT_EQ(Resource(r.included[0]).id(), "p1");
  EXPECT_TRUE(r.complete);
}

TEST_F(RestClientTest, APageThatIsNotABundleIsAnInvalidResponse) {
  script({response(200, R"({"resourceType":"Patient","id":"x"})")});
  EXPECT_THROW(client().search("Condition", {}, {}), InvalidResponse);
}

TEST_F(RestClientTest, RetriesAPageOnATransientError) {
  script({response(200, page({"a"}, "?p=2")), response(503), response(200, page({"b"}))});
  SearchResult r = client().search("Condition", {}, {});
  EXPECT_EQ(r.resources.size(), 2u);
  EXPECT_EQ(sent[1].url, sent[2].url);
}

// ---- authentication ----

TEST_F(RestClientTest, ReauthenticatesExactlyOnceOn401) {
  auto mock = std::make_shared<MockAuth>();
  auth = mock;
  int round = 0;
  EXPECT_CALL(*mock, authorize(_)).Times(2).WillRepeatedly(Invoke([&](HttpRequest& r) {
    r.headers.emplace_back("Authorization", "Bearer t" + std::to_string(++round));
  }));
  EXPECT_CALL(*mock, invalidate()).Times(1).WillOnce(Return(true));
  script({response(401), response(200, R"({"resourceType":"Goal","lifecycleStatus":"proposed"})")});
  client().create("Goal", R"({"resourceType":"Goal"})", {});
  EXPECT_EQ(header_of(sent[0], "Authorization"), "Bearer t1");
  EXPECT_EQ(header_of(sent[1], "Authorization"), "Bearer t2");
}

TEST_F(RestClientTest, ASecond401IsAnAuthError) {
  auto mock = std::make_shared<MockAuth>();
  auth = mock;
  EXPECT_CALL(*mock, authorize(_)).Times(2);
  EXPECT_CALL(*mock, invalidate()).Times(1).WillOnce(Return(true));
  script({response(401), response(401)});
  try {
    client().read("Patient", "p1");
    FAIL();
  } catch (const AuthError& e) {
    EXPECT_EQ(e.status(), 401);
    EXPECT_NE(std::string(e.what()).find("after re-authentication"), std::string::npos);
  }
}

TEST_F(RestClientTest, A401WithCredentialsThatCannotChangeIsNotRepeated) {
  auto mock = std::make_shared<MockAuth>();
  auth = mock;
  EXPECT_CALL(*mock, authorize(_)).Times(1);
  EXPECT_CALL(*mock, invalidate()).WillOnce(Return(false));
  script({response(401)});
  EXPECT_THROW(client().read("Patient", "p1"), AuthError);
}

TEST_F(RestClientTest, A403IsAnAuthError) {
  script({response(403, outcome("error", "insufficient scope"))});
  try {
    client().read("Patient", "p1");
    FAIL();
  } catch (const AuthError& e) {
    EXPECT_EQ(e.status(), 403);
    // The server's own words are not repeated (they may quote anything);
    // the issue code and our hint are.
    EXPECT_NE(std::string(e.what()).find("check the client's scopes [error (processing)]"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mst::fhir

namespace mst::fhir {
namespace {

class ExchangeTest : public RestClientTest {};

TEST_F(ExchangeTest, AnswersAnyStatusWithTheCallersHeadersAndRetriesGets) {
  script({response(503, "", {{"retry-after", "1"}}),
          response(202, "", {{"content-location", "https://ehr.example/fhir/status/1"}})});
  HttpRequest kick;
  kick.method = "GET";
  kick.url = std::string(kBase) + "/Patient/$export?_type=Condition";
  kick.headers = {{"Accept", "application/fhir+json"}, {"Prefer", "respond-async"}};
  HttpResponse r = client().exchange(kick, true);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.header("content-location").value_or(""), "https://ehr.example/fhir/status/1");
  EXPECT_EQ(header_of(sent[1], "Prefer"), "respond-async");
  EXPECT_EQ(header_of(sent[1], "User-Agent"), std::string("mst-adapter/") + MST_VERSION);
  EXPECT_EQ(clock->sleeps.at(0), milliseconds(1000));  // Retry-After honoured
}

TEST_F(ExchangeTest, ReturnsAnErrorStatusInsteadOfThrowing) {
  script({response(404, R"({"resourceType":"OperationOutcome"})")});
  HttpRequest r{"GET", std::string(kBase) + "/status/9", {}, "", {}};
  EXPECT_EQ(client().exchange(r, true).status, 404);
}

TEST_F(ExchangeTest, SendsCredentialsOnlyToTheServersOrigin) {
  auto mock = std::make_shared<MockAuth>();
  EXPECT_CALL(*mock, authorize(_)).Times(1).WillRepeatedly(Invoke([](HttpRequest& r) {
    r.headers.emplace_back("Authorization", "Bearer t0ken");
  }));
  auth = mock;
  script({response(200, "{}"), response(200, "{}"), response(200, "{}")});
  client().exchange({"GET", std::string(kBase) + "/files/1.ndjson", {}, "", {}}, true);
  client().exchange({"GET", "https://files.example/1.ndjson", {}, "", {}}, true);
  client().exchange({"GET", std::string(kBase) + "/files/2.ndjson", {}, "", {}}, false);
  EXPECT_EQ(header_of(sent[0], "Authorization"), "Bearer t0ken");
  EXPECT_EQ(header_of(sent[1], "Authorization"), "");
  EXPECT_EQ(header_of(sent[2], "Authorization"), "");
}

TEST_F(ExchangeTest, RefusesAUrlThatIsNotHttp) {
  EXPECT_THROW(client().exchange({"GET", "file:///etc/passwd", {}, "", {}}, true), InvalidRequest);
}

// A streamed GET (a Bulk Data file) is repeated like any GET while
// nothing has reached the sink: a refused connection, a 503 whose body is
// kept for the error, then the file in pieces.
TEST_F(RestClientTest, ExchangeStreamedRetriesWhileNothingHasArrived) {
  int attempts = 0;
  EXPECT_CALL(*transport, send_streamed(_, _))
      .Times(3)
      .WillRepeatedly(Invoke([&](const HttpRequest& r, const BodySink& sink) {
        sent.push_back(r);
        switch (++attempts) {
          case 1:
            throw TransportError(TransportError::Kind::kConnect, "connection refused");
          case 2:
            return response(503, outcome("error", "busy"));
          default:
            sink("{\"resourceType\":\"Patient\",\"id\":\"a\"}\n");
            sink("{\"resourceType\":\"Patient\",\"id\":\"b\"}\n");
            return response(200);
        }
      }));
  std::string got;
  const HttpResponse r =
      client().exchange_streamed({"GET", std::string(kBase) + "/files/1.ndjson", {}, "", {}}, true,
                                 [&](std::string_view piece) { got.append(piece); });
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(got,
            "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n"
            "{\"resourceType\":\"Patient\",\"id\":\"b\"}\n");
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_FALSE(header_of(sent.at(2), "User-Agent").empty());
}

// Once part of the body has been handed over, a repetition would hand it
// over again: the lost connection is the caller's to judge.
TEST_F(RestClientTest, ExchangeStreamedIsNotResumedOncePartOfTheBodyArrived) {
  EXPECT_CALL(*transport, send_streamed(_, _))
      .WillOnce(Invoke([](const HttpRequest&, const BodySink& sink) -> HttpResponse {
        sink("line 1\n");
        throw TransportError(TransportError::Kind::kProtocol, "connection closed mid-body");
      }));
  std::string got;
  try {
    client().exchange_streamed({"GET", std::string(kBase) + "/files/1.ndjson", {}, "", {}}, true,
                               [&](std::string_view piece) { got.append(piece); });
    ADD_FAILURE() << "expected ServerUnreachable";
  } catch (const ServerUnreachable& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("after 7 body bytes had been handed over"));
    EXPECT_EQ(e.kind(), TransportError::Kind::kProtocol);
  }
  EXPECT_EQ(got, "line 1\n");
  EXPECT_TRUE(clock->sleeps.empty()) << "no retry was waited for";
}

TEST_F(RestClientTest, ExchangeStreamedRenewsCredentialsOnceOn401) {
  auto mock_auth = std::make_shared<::testing::StrictMock<MockAuth>>();
  auth = mock_auth;
  int tokens = 0;
  EXPECT_CALL(*mock_auth, authorize(_)).Times(2).WillRepeatedly(Invoke([&](HttpRequest& r) {
    r.headers.emplace_back("Authorization", "Bearer t" + std::to_string(++tokens));
  }));
  EXPECT_CALL(*mock_auth, invalidate()).WillOnce(Return(true));
  EXPECT_CALL(*transport, send_streamed(_, _))
      .Times(2)
      .WillRepeatedly(Invoke([&](const HttpRequest& r, const BodySink& sink) {
        sent.push_back(r);
        if (header_of(r, "Authorization") == "Bearer t1") return response(401);
        sink("x\n");
        return response(200);
      }));
  std::string got;
  EXPECT_EQ(client()
                .exchange_streamed({"GET", std::string(kBase) + "/f.ndjson", {}, "", {}}, true,
                                   [&](std::string_view piece) { got.append(piece); })
                .status,
            200);
  EXPECT_EQ(got, "x\n");
}

TEST_F(RestClientTest, OnlyAGetIsStreamed) {
  EXPECT_THROW(client().exchange_streamed({"DELETE", std::string(kBase) + "/x", {}, "", {}}, true,
                                          [](std::string_view) {}),
               InvalidRequest);
}

}  // namespace
}  // namespace mst::fhir
