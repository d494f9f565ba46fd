// The review page of `serve`: the page is the explain report in HTML with
// every chart value escaped, its link expires, and its button writes the
// reviewed draft once through run's write-back (a MemoryFhirServer here).
#include "mst/adapter/serve/review_page.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "mst/adapter/cli/app.h"
#include "mst/adapter/serve/review_service.h"
#include "mst/adapter/serve/review_store.h"
#include "pipeline_setup.h"
#include "support/fake_clock.h"
#include "support/memory_fhir_server.h"

namespace mst::adapter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kFixtures = std::string(MST_SOURCE_DIR) + "/tests/fixtures/patients/";
constexpr const char* kPublic = "https://cds.hospital.test/mst";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fixture bundle with every Condition's code.text and note replaced by
// hostile markup, written to a temporary file.
std::string hostile_copy(const std::string& fixture) {
  std::string text = read_file(kFixtures + fixture);
  const std::string evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
  std::string escaped;
  for (char c : evil) escaped += c == '"' ? std::string("\\\"") : std::string(1, c);
  text = std::regex_replace(text, std::regex(R"("text"\s*:\s*"[^"]*")"),
                            "\"text\": \"" + escaped + "\"");
  std::string path = ::testing::TempDir() + "/hostile-" + fixture;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

struct Harness {
  std::ostringstream out, err, log_out;
  cli::Context context{out, err, {}, nullptr};
  cli::PipelineSetup setup;
  Logger log{log_out, LogLevel::kInfo, LogFormat::kText, [] { return std::int64_t{0}; }};
  std::shared_ptr<fhir::testing::FakeClock> clock = std::make_shared<fhir::testing::FakeClock>();
  ReviewStore store{clock, std::chrono::seconds(900)};
  testing::MemoryFhirServer server{"http://fhir.test/fhir", clock};

  Harness() {
    AdapterConfig config;
    config.as_of = "2026-11-20";
    setup = cli::load_pipeline_setup(config, context);
  }

  Derivation derive_file(const std::string& path) {
    return derive(cli::read_input_record(path, ""), *setup.tables, *setup.thresholds, setup.as_of);
  }

  // Stores the fixture on the in-memory server and its derivation in the
  // store, as patient-view does; returns the id.
  std::string keep(const std::string& fixture, std::string* patient) {
    server.put_bundle(read_file(kFixtures + fixture));
    ReviewEntry e;
    e.derivation = derive_file(kFixtures + fixture);
    e.patient_id = e.derivation.considerations.patient_ref.substr(std::string("Patient/").size());
    e.as_of = setup.as_of;
    e.fhir_base = "https://ehr.test/fhir";
    *patient = e.patient_id;
    return store.put(std::move(e));
  }

  ReviewService service(bool can_write) {
    ReviewWrite write;
    if (can_write) {
      write = [this](const ReviewEntry& e) {
        PipelineSettings s = setup.settings;
        s.as_of = e.as_of;
        Pipeline p(&server, *setup.tables, *setup.thresholds, s);
        return p.write_derived(e.patient_id, e.derivation).outcome;
      };
    }
    return ReviewService(store, kPublic, write, "No FHIR server is configured.", log);
  }
};

std::string field(const std::string& html, const std::string& name) {
  std::smatch m;
  const std::regex re("name=\"" + name + "\" value=\"([0-9a-f]+)\"");
  return std::regex_search(html, m, re) ? m[1].str() : "";
}

TEST(ReviewPage, HasTheSectionsInOrderAndEscapesTheChart) {
  Harness h;
  const Derivation d = h.derive_file(hostile_copy("mst-p01.json"));
  ASSERT_TRUE(d.plan.applicable);
  ReviewPageInput in;
  in.derivation = &d;
  in.patient_id = "mst-p01";
  in.fhir_base = "https://ehr.test/fhir";
  in.no_write_reason = "No FHIR server is configured.";
  Derivation hostile = d;
  hostile.plan.data_gaps.push_back("note: <script>alert(3)</script>");
  in.derivation = &hostile;
  const std::string html = review_page_html(in);
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(3)"));
  EXPECT_THAT(html, HasSubstr("<html lang=\"en\">"));
  EXPECT_EQ(std::count(html.begin(), html.end(), '\0'), 0);
  std::size_t at = 0;
  for (const char* part :
       {"<header>", "<h1>", "<nav", "<main>", "Pathway and actions now", "Proposed goals",
        "Referrals", "Patient preferences", "Data gaps", "Considerations as the rules read them",
        "Why each goal", "Sources the rules rest on", "No FHIR server is configured.", "</main>",
        "@media print"}) {
    const auto found = html.find(part, part[0] == '@' ? 0 : at);
    ASSERT_NE(found, std::string::npos) << part;
    if (part[0] != '@') at = found;
  }
  EXPECT_EQ(html.find("<h1>"), html.rfind("<h1>"));  // one h1
  EXPECT_THAT(html, HasSubstr("<a href=\"https://ehr.test/fhir/Condition/"));
  EXPECT_THAT(html, HasSubstr("class=\"badge u-stat\""));  // p01 is the emergency pathway
  EXPECT_THAT(html, Not(HasSubstr("<form")));
  EXPECT_THAT(html, Not(HasSubstr("http://")));  // no external assets; the link base is https
}

TEST(ReviewService, UnknownOrExpiredLinksAreRefused) {
  Harness h;
  ReviewService review = h.service(false);
  std::string patient;
  const std::string id = h.keep("mst-p01.json", &patient);
  EXPECT_EQ(review.link(patient, id), std::string(kPublic) + "/review/" + patient + "?t=" + id);
  EXPECT_EQ(id.size(), 64u);
  ServeReply ok = review.handle("GET", "/review/" + patient + "?t=" + id, "", {});
  EXPECT_EQ(ok.status, 200);
  EXPECT_THAT(ok.content_type, HasSubstr("text/html"));
  EXPECT_THAT(ok.body, HasSubstr("No FHIR server is configured."));
  EXPECT_EQ(
      review.handle("GET", "/review/" + patient + "?t=" + std::string(64, 'a'), "", {}).status,
      404);
  EXPECT_EQ(review.handle("GET", "/review/" + patient, "", {}).status, 404);
  EXPECT_EQ(review.handle("GET", "/review/other-patient?t=" + id, "", {}).status, 404);
  EXPECT_EQ(review.handle("GET", "/review/%3Cx%3E?t=" + id, "", {}).status, 404);
  h.clock->advance(std::chrono::seconds(901));
  const ServeReply gone = review.handle("GET", "/review/" + patient + "?t=" + id, "", {});
  EXPECT_EQ(gone.status, 410);
  EXPECT_THAT(gone.body, HasSubstr("expired"));
}

TEST(ReviewService, WritesOnceThenRefusesTheReplay) {
  Harness h;
  ReviewService review = h.service(true);
  std::string patient;
  const std::string id = h.keep("mst-p01.json", &patient);
  const std::string html = review.handle("GET", "/review/" + patient + "?t=" + id, "", {}).body;
  ASSERT_THAT(html, HasSubstr("<form method=\"post\" action=\"/review/" + patient + "/write\""));
  const std::string token = field(html, "write_token");
  ASSERT_EQ(token.size(), 64u);
  const std::string path = "/review/" + patient + "/write";
  const std::string form = "t=" + id + "&write_token=" + token;
  const std::size_t plans = h.server.all("CarePlan").size();  // the fixture's own

  // Another site's form, or a wrong token, is refused and uses nothing up.
  EXPECT_EQ(review.handle("POST", path, form, {"https://evil.test", "cross-site"}).status, 403);
  EXPECT_EQ(review
                .handle("POST", path, "t=" + id + "&write_token=" + std::string(64, '0'),
                        {"https://cds.hospital.test", "same-origin"})
                .status,
            403);
  EXPECT_EQ(h.server.all("CarePlan").size(), plans);

  const ServeReply written =
      review.handle("POST", path, form, {"https://cds.hospital.test", "same-origin"});
  EXPECT_EQ(written.status, 200) << written.body;
  EXPECT_THAT(written.body, HasSubstr("Written: CarePlan/"));
  EXPECT_EQ(h.server.all("CarePlan").size(), plans + 1);

  const ServeReply replay = review.handle("POST", path, form, {});
  EXPECT_EQ(replay.status, 409);
  EXPECT_THAT(replay.body, HasSubstr("second write is refused"));
  EXPECT_EQ(h.server.all("CarePlan").size(), plans + 1);
  // The page stays readable, without its button.
  const std::string after = review.handle("GET", "/review/" + patient + "?t=" + id, "", {}).body;
  EXPECT_THAT(after, Not(HasSubstr("<form")));
  EXPECT_THAT(after, HasSubstr("already written"));

  // A second card of the same record: the write-back finds the plan says
  // this already.
  std::string again_patient;
  const std::string again = h.keep("mst-p01.json", &again_patient);
  const std::string again_html =
      review.handle("GET", "/review/" + patient + "?t=" + again, "", {}).body;
  const ServeReply unchanged = review.handle(
      "POST", path, "t=" + again + "&write_token=" + field(again_html, "write_token"), {});
  EXPECT_EQ(unchanged.status, 200) << unchanged.body;
  EXPECT_THAT(unchanged.body, HasSubstr("Unchanged: CarePlan/"));
}

TEST(ReviewService, FormValuesAreDecoded) {
  EXPECT_EQ(form_value("a=1&t=ab%2Fc&x", "t"), "ab/c");
  EXPECT_EQ(form_value("t=a+b", "t"), "a b");
  EXPECT_EQ(form_value("x=1", "t"), "");
  EXPECT_EQ(form_value("t=%zz", "t"), "%zz");
}

}  // namespace
}  // namespace mst::adapter
