// Issue #17, item 3: targets that take no CarePlan writes get the plan as a
// DocumentReference clinical note (write.mode=document), found again by the
// plan's identifier, revised only while still the adapter's preliminary
// note, never duplicated.
#include <Poco/Base64Decoder.h>
#include <gtest/gtest.h>

#include <sstream>

#include "document_note.h"
#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/pipeline/pipeline.h"
#include "support/fixture_store.h"

namespace mst::adapter {
namespace {

std::string unbase64(std::string_view data) {
  std::istringstream in{std::string(data)};
  Poco::Base64Decoder decoder(in);
  std::ostringstream out;
  out << decoder.rdbuf();
  return out.str();
}

TEST(XhtmlToText, BlocksBecomeLinesEntitiesAreDecoded) {
  EXPECT_EQ(xhtml_to_text("<div xmlns=\"http://www.w3.org/1999/xhtml\"><h2>Plan</h2>"
                          "<p>Pain &gt; 7 &amp; rising</p><ul><li>MRI</li><li>Opinion</li></ul>"
                          "<p>A<br/>B</p></div>"),
            "Plan\nPain > 7 & rising\n- MRI\n- Opinion\nA\nB");
  EXPECT_EQ(xhtml_to_text("a & b <unterminated"), "a & b");
}

class DocumentMode : public ::testing::Test, protected testing::FixtureStore {
 protected:
  DocumentMode() { store_.refuse_transactions = true; }

  PatientOutcome run() {
    PipelineSettings settings = testing::fixture_settings();
    settings.write.mode = WriteMode::kDocument;
    return run_on_store(settings).outcome;
  }
};

TEST_F(DocumentMode, WritesOnePreliminaryPlanOfCareNoteAndNoCarePlan) {
  const std::size_t plans_before = store_.all("CarePlan").size();
  const PatientOutcome o = run();
  ASSERT_EQ(o.kind, OutcomeKind::kWritten) << o.detail;
  EXPECT_EQ(store_.all("CarePlan").size(), plans_before);
  EXPECT_TRUE(store_.all("Goal").size() <= 1u);  // the fixture's own, if any
  EXPECT_TRUE(store_.all("Provenance").empty());
  const auto notes = store_.all("DocumentReference");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(o.plan_ref, notes.front());
  auto doc = fhir::JsonDocument::parse(store_.get(notes.front()));
  fhir::Node n = doc.root();
  EXPECT_EQ(n.string("status"), std::optional<std::string_view>("current"));
  EXPECT_EQ(n.string("docStatus"), std::optional<std::string_view>("preliminary"));
  EXPECT_EQ(n["type"].array("coding")[0].string("code"),
            std::optional<std::string_view>("18776-5"));
  EXPECT_EQ(n["type"].array("coding")[0].string("system"),
            std::optional<std::string_view>("http://loinc.org"));
  EXPECT_EQ(n["subject"].string("reference"), std::optional<std::string_view>("Patient/mst-p02"));
  EXPECT_EQ(n.string("date"), std::optional<std::string_view>("2026-11-20T00:00:00Z"));
  EXPECT_EQ(n.array("author")[0].string("display"),
            std::optional<std::string_view>("MST Care-Plan Adapter"));
  EXPECT_NE(std::string(n.string("description").value_or("")).find("not reviewed by a clinician"),
            std::string::npos);
  EXPECT_NE(std::string(n.array("identifier")[0].string("system").value_or(""))
                .find("/NamingSystem/mst-careplan"),
            std::string::npos);
  ASSERT_EQ(n.array("content").size(), 2u);
  fhir::Node html = n.array("content")[0]["attachment"];
  fhir::Node text = n.array("content")[1]["attachment"];
  EXPECT_EQ(html.string("contentType"), std::optional<std::string_view>("application/xhtml+xml"));
  EXPECT_EQ(text.string("contentType"),
            std::optional<std::string_view>("text/plain; charset=utf-8"));
  const std::string xhtml = unbase64(html.string("data").value_or(""));
  const std::string plain = unbase64(text.string("data").value_or(""));
  EXPECT_EQ(xhtml.rfind("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p><b>PROPOSAL - NOT "
                        "REVIEWED BY A CLINICIAN.",
                        0),
            0u)
      << xhtml.substr(0, 200);
  EXPECT_EQ(plain.rfind("PROPOSAL - NOT REVIEWED BY A CLINICIAN.", 0), 0u) << plain.substr(0, 200);
  EXPECT_EQ(plain.find('<'), std::string::npos) << plain;
  EXPECT_NE(plain.find("Pain"), std::string::npos) << plain;
}

TEST_F(DocumentMode, AReRunWritesNothingAndAChangedInputRevisesTheSameNote) {
  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  const std::string note = store_.all("DocumentReference").front();
  const int writes = store_.write_requests();
  const PatientOutcome same = run();
  EXPECT_EQ(same.kind, OutcomeKind::kUnchanged) << same.detail;
  EXPECT_EQ(store_.write_requests(), writes);

  worsen_pain();
  const PatientOutcome revised = run();
  ASSERT_EQ(revised.kind, OutcomeKind::kWritten) << revised.detail;
  EXPECT_EQ(revised.detail, "revised the note");
  EXPECT_EQ(store_.all("DocumentReference"), std::vector<std::string>{note});
  EXPECT_NE(store_.get(note).find("\"versionId\":\"2\""), std::string::npos);
  EXPECT_EQ(run().kind, OutcomeKind::kUnchanged);
}

TEST_F(DocumentMode, ANoteAClinicianAmendedIsLeftAlone) {
  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  const std::string note = store_.all("DocumentReference").front();
  edit(note, "\"docStatus\":\"preliminary\"", "\"docStatus\":\"amended\"");
  const std::string before = store_.get(note);
  worsen_pain();
  const PatientOutcome o = run();
  EXPECT_EQ(o.kind, OutcomeKind::kSkipped) << o.detail;
  EXPECT_EQ(o.skip_reason, SkipReason::kEdited);
  EXPECT_NE(o.detail.find("its docStatus is 'amended'"), std::string::npos) << o.detail;
  EXPECT_EQ(store_.get(note), before);
  EXPECT_EQ(store_.all("DocumentReference").size(), 1u);
}

TEST_F(DocumentMode, ANoteUnderOurIdentifierByAnotherAuthorIsReportedNeverTouched) {
  ASSERT_EQ(run().kind, OutcomeKind::kWritten);
  const std::string note = store_.all("DocumentReference").front();
  edit(note, "\"author\":[{\"display\":\"MST Care-Plan Adapter\"}]",
       "\"author\":[{\"reference\":\"Practitioner/dr-1\"}]");
  const std::string before = store_.get(note);
  worsen_pain();
  const PatientOutcome o = run();
  EXPECT_EQ(o.kind, OutcomeKind::kFailed);
  EXPECT_EQ(o.skip_reason, SkipReason::kLookAlike);
  EXPECT_EQ(store_.get(note), before);
}

TEST_F(DocumentMode, ADryRunShowsTheNoteAndWritesNothing) {
  PipelineSettings settings;
  settings.canonical_base = testing::kCanonical;
  settings.as_of = fhir::DateTime::from_ymd(2026, 11, 20);
  settings.write.mode = WriteMode::kDocument;
  settings.write.dry_run = true;
  Pipeline pipeline(&store_, tables_, thresholds_, settings);
  const PatientRun r = pipeline.run_safely(testing::kPatient);
  EXPECT_EQ(r.outcome.kind, OutcomeKind::kBuilt) << r.outcome.detail;
  EXPECT_EQ(store_.write_requests(), 0);
  EXPECT_NE(r.transaction.find("DocumentReference"), std::string::npos);
}

}  // namespace
}  // namespace mst::adapter
