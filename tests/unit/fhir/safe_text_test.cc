#include "mst/fhir/safe_text.h"

#include <gtest/gtest.h>

#include "mst/fhir/client_errors.h"

namespace mst::fhir {
namespace {

void expect_absent(const std::string& text, std::initializer_list<const char*> leaks) {
  for (const char* leak : leaks)
    EXPECT_EQ(text.find(leak), std::string::npos) << leak << " in " << text;
}

TEST(SafeText, RemovesEveryControlAndBidiCharacter) {
  // ESC (CSI colour), CR, LF, TAB, DEL, C1 CSI (U+009B), RLO (U+202E), LRI
  // (U+2066), zero-width space, line separator, BOM.
  const std::string in =
      "a\x1b[31mb\rc\nd\te\x7f"
      "f\xc2\x9bg\xe2\x80\xaeh\xe2\x81\xa6i\xe2\x80\x8bj\xe2\x80\xa8k\xef\xbb\xbfl";
  EXPECT_EQ(printable(in), "a [31mb c d e f g h i j k l");
  EXPECT_EQ(printable("caf\xc3\xa9 \xe6\x97\xa5"), "caf\xc3\xa9 \xe6\x97\xa5");  // text stays
  EXPECT_EQ(printable("bad \xff\xc3 end \xc0\xaf"), "bad ?? end ??");  // invalid, overlong
}

TEST(SafeText, RedactsPatientIdentifyingText) {
  const std::string out = safe_text(
      "Patient Jane Smith DOB 1961-04-02 MRN 00123456, NHS 943 476 5919, SSN 123-45-6789, "
      "born 02/04/1961, name: jane o, family=Ng, patient José Álvarez");
  expect_absent(out, {"Jane", "Smith", "1961", "00123456", "943", "5919", "6789", "02/04", "jane",
                      "Ng", "Jos", "varez"});
  EXPECT_EQ(out.find("Patient [name] DOB [date] MRN [number], NHS [number], SSN [number]"), 0u)
      << out;
}

TEST(SafeText, RedactsCredentials) {
  const std::string jwt =
      "eyJhbGciOiJSUzM4NCJ9.eyJzdWIiOiJjbGllbnQifQ.c2lnbmF0dXJlc2lnbmF0dXJlc2ln";
  const std::string out = safe_text(
      "Authorization: Bearer abc123SECRET; authorization=Basic dXNlcjpwYXNz; bearer zzTOKENzz "
      "POST /token?grant_type=client_credentials&client_assertion=" +
          jwt + "&access_token=AT-secret-1 client_secret=s3cr3t jwt " + jwt +
          " opaque 0123456789abcdefABCDEF0123456789abcd",
      1000);
  expect_absent(out, {"abc123SECRET", "dXNlcjpwYXNz", "zzTOKENzz", "eyJ", "AT-secret", "s3cr3t",
                      "0123456789abcdefABCDEF"});
  EXPECT_NE(out.find("Authorization: Bearer ***"), std::string::npos) << out;
  EXPECT_NE(out.find("grant_type=client_credentials"), std::string::npos) << out;
  EXPECT_NE(out.find("client_assertion=***"), std::string::npos) << out;
}

TEST(SafeText, KeepsWhatAnOperatorNeeds) {
  const std::string msg =
      "GET https://ehr.example:8443/fhir/Patient/00123456/CarePlan: HTTP 503 Service Unavailable: "
      "gave up after 4 attempts [error (transient) HAPI-0389] "
      "CarePlan/6f1c2a3b-1d2e-4f50-8a9b-0c1d2e3f4a5b";
  EXPECT_EQ(safe_text(msg, 1000), msg);
}

TEST(SafeText, RedactsBeforeCutting) {
  // A token across the cut: cutting first would keep "Bearer 0123456789ab".
  const std::string text = std::string(280, 'x') + " Bearer 0123456789abcdefghij";
  const std::string out = safe_text(text, 300);
  EXPECT_LE(out.size(), 300u);
  expect_absent(out, {"0123"});
  const std::string jwt =
      std::string(285, 'y') + " eyJhbGciOiJSUzM4NCJ9.eyJzdWIiOiJjbGllbnQifQ.sig";
  expect_absent(safe_text(jwt, 300), {"eyJ"});
  // The cut falls on a character boundary.
  EXPECT_EQ(safe_text("\xc3\xa9\xc3\xa9\xc3\xa9", 5), "\xc3\xa9...");
}

TEST(SafeText, IsIdempotent) {
  const std::string once =
      safe_text("Patient Jane Smith DOB 1961-04-02 Bearer abcdefgh access_token=x MRN 00123456");
  EXPECT_EQ(safe_text(once), once);
}

TEST(OutcomeSummary, KeepsOnlySeverityCodeAndMessageId) {
  std::vector<OutcomeIssue> issues(5);
  issues[0] = {"error", "processing", "HAPI-0450: Patient Jane Smith 1961-04-02", "", {}};
  issues[1] = {"warning", "made-up\x1b[2J", "HAPI-99999 is no id; Bearer abc", "Jane", {}};
  issues[2] = {"<script>", "not-found", "", "", {}};
  EXPECT_EQ(outcome_summary(issues),
            "error (processing) HAPI-0450; warning; issue (not-found); 2 more");
  EXPECT_EQ(outcome_summary({}), "");
}

TEST(OutcomeSummary, KeepsHapisNestedMessageIds) {
  // HAPI 8 on a stale If-Match; the inner id is the one that says why.
  std::vector<OutcomeIssue> issues{
      {"error",
       "processing",
       "HAPI-0550: HAPI-0989: Trying to update Goal/1607/_history/1 but this is not the current "
       "version",
       "",
       {}}};
  EXPECT_EQ(outcome_summary(issues), "error (processing) HAPI-0550 HAPI-0989");
}

TEST(OutcomeSummary, KeepsTheSmartScopesA403Names) {
  // Our HAPI launcher's 403 (tests/hapi-server, SmartAuthInterceptor).
  std::vector<OutcomeIssue> issues{
      {"error",
       "forbidden",
       "searching Procedure needs system/Procedure.s (v1: system/Procedure.read) for Jane Smith",
       "",
       {}}};
  EXPECT_EQ(outcome_summary(issues),
            "error (forbidden) scope system/Procedure.s scope system/Procedure.read");
  // Look-alikes are not scopes.
  issues[0].diagnostics = "see mysystem/Foo.bar, system/.x, patient/Jane";
  EXPECT_EQ(outcome_summary(issues), "error (forbidden)");
}

}  // namespace
}  // namespace mst::fhir
