// The safety net (docs/considerations.md, "Safety net"): an unused resource
// whose words name a safety-relevant finding, not negated, is an alert; a
// used, negated, withdrawn or later resource is not.
#include <gtest/gtest.h>

#include "record_fixture.h"

namespace mst::mappings {
namespace {

using namespace testing;

const std::string kDay = "2025-05-20";

std::string unknown_obs(const std::string& id, const std::string& extra,
                        const std::string& status = "final") {
  return R"({"resourceType":"Observation","id":")" + id + R"(","status":")" + status +
         R"(","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hospital.example.org/rad","code":"MRI-SP"}],"text":"MRI whole spine"},"effectiveDateTime":")" +
         kDay + "\"," + extra + "}";
}

const Alert* alert_for(const Considerations& c, const std::string& ref) {
  for (const auto& a : c.alerts) {
    if (a.ref == ref) return &a;
  }
  return nullptr;
}

TEST(SafetyNet, UnusedMentionOfCordCompressionIsAnAlertWithItsReason) {
  // In a note: commentary, never a fact, so an alert.
  auto c =
      run({patient(), unknown_obs("mri", R"("note":[{"text":"MRI: cord compression at T10"}])")});
  const Alert* a = alert_for(c, "Observation/mri");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->finding, "cord compression");
  EXPECT_EQ(a->reason, "Observation code is not in the code tables");
  EXPECT_EQ(c.alerts.size(), 1u);
}

TEST(SafetyNet, NegatedMentionsRaiseNothing) {
  auto c =
      run({patient(),
           unknown_obs("mri", R"("valueString":"No cord compression. No evidence of MSCC.")"),
           unknown_obs("n", R"("note":[{"text":"Denies leg weakness; cauda equina ruled out"}])")});
  EXPECT_TRUE(c.alerts.empty());
}

TEST(SafetyNet, EveryFindingIsNamedOnceInTextOrder) {
  auto c =
      run({patient(), unknown_obs("n", R"("note":[{"text":"New leg weakness and urinary retention"},
                                                        {"text":"saddle anaesthesia; weakness"}])")});
  const Alert* a = alert_for(c, "Observation/n");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->finding, "weakness; urinary retention; saddle anaesthesia");
}

TEST(SafetyNet, TextMentionInTheCodeBecomesAFactNotAnAlert) {
  // Read by phrase from code.text: a deficit, marked read from text.
  const std::string obs =
      R"({"resourceType":"Observation","id":"f","status":"final","subject":{"reference":"Patient/p1"},
          "code":{"text":"MRI: cord compression at T10"},"effectiveDateTime":")" +
      kDay + "\"}";
  auto c = run({patient(), obs});
  EXPECT_TRUE(c.alerts.empty());
  ASSERT_EQ(c.neurology.deficits.size(), 1u);
  EXPECT_TRUE(c.neurology.deficits[0].cord_compression);
  EXPECT_EQ(c.read_from_text, (Evidence{"Observation/f"}));
}

// An imaging report with a local code whose finding is in its words: a
// lesion at the levels it names, read from text; negated, nothing at all.
TEST(SafetyNet, ReportWordsBecomeAFindingAtTheirLevels) {
  auto c = run(
      {patient(),
       unknown_obs(
           "scan",
           R"("valueString":"Intense focal uptake in the T5 and L1 vertebral bodies, consistent with osseous metastases.")")});
  EXPECT_TRUE(c.alerts.empty());
  std::vector<std::string> levels;
  for (const auto& l : c.spine.lesions) levels.push_back(l.level.name);
  EXPECT_EQ(levels, (std::vector<std::string>{"T5", "L1"}));
  EXPECT_EQ(c.read_from_text, (Evidence{"Observation/scan"}));

  // The same words as the value of an unknown code: a deficit, not an alert.
  auto mri =
      run({patient(), unknown_obs("mri", R"("valueString":"MRI: cord compression at T10")")});
  EXPECT_TRUE(mri.alerts.empty());
  ASSERT_EQ(mri.neurology.deficits.size(), 1u);
  EXPECT_TRUE(mri.neurology.deficits[0].cord_compression);

  auto none = run(
      {patient(), unknown_obs("scan", R"("valueString":"No osseous metastases in T5 or L1.")")});
  EXPECT_TRUE(none.spine.lesions.empty());
  EXPECT_FALSE(none.spine.present);
  EXPECT_TRUE(none.alerts.empty());
  EXPECT_TRUE(is_ignored(none, "Observation/scan", "not in the code tables"));
}

TEST(SafetyNet, PreliminaryReportsAndOtherResourceTypesAreScanned) {
  const std::string report =
      R"({"resourceType":"DiagnosticReport","id":"dr","status":"final","subject":{"reference":"Patient/p1"},
          "code":{"text":"MRI spine"},"issued":"2025-05-20T10:00:00Z",
          "conclusion":"Pathological fracture of L1 with 50% collapse. Bilsky 2."})";
  auto c = run(
      {patient(),
       unknown_obs("pre", R"("valueString":"Epidural spinal cord compression T10")", "preliminary"),
       report});
  const Alert* pre = alert_for(c, "Observation/pre");
  ASSERT_NE(pre, nullptr);
  EXPECT_EQ(pre->finding, "cord compression");
  EXPECT_NE(pre->reason.find("status 'preliminary'"), std::string::npos);
  const Alert* dr = alert_for(c, "DiagnosticReport/dr");
  ASSERT_NE(dr, nullptr);
  EXPECT_EQ(dr->finding, "fracture; Bilsky ESCC grade");
  EXPECT_EQ(dr->reason, "DiagnosticReport resources are not read by the extractor");
}

TEST(SafetyNet, UsedWithdrawnAndLaterResourcesRaiseNothing) {
  auto used =
      run({patient(), condition("cc", kIcd, "G95.20",
                                R"("note":[{"text":"cord compression with leg weakness"}])")});
  EXPECT_FALSE(used.neurology.deficits.empty());
  EXPECT_TRUE(used.alerts.empty());

  auto error =
      run({patient(), condition("x", "http://hospital.example.org/problems", "123",
                                R"("verificationStatus":{"coding":[{"code":"entered-in-error"}]},
                                            "note":[{"text":"cord compression"}])")});
  EXPECT_TRUE(error.alerts.empty());

  auto later =
      run({patient(), unknown_obs("mri", R"("valueString":"cord compression")")}, "2025-05-01");
  EXPECT_TRUE(later.alerts.empty());

  auto cancelled =
      run({patient(), unknown_obs("mri", R"("valueString":"cord compression")", "cancelled")});
  EXPECT_TRUE(cancelled.alerts.empty());
}

// Hostile input: a note of 60,000 phrases and a value of 10,000 digits are
// read in one pass (a quadratic scan would not finish), and nothing crashes.
TEST(SafetyNet, LongTextsStayLinearAndSafe) {
  std::string note;
  for (int k = 0; k < 30000; ++k) note += "spinal cord compression, ";
  std::string code;
  for (int k = 0; k < 30000; ++k) code += "sins ";
  const std::string obs =
      R"({"resourceType":"Observation","id":"h","status":"final","subject":{"reference":"Patient/p1"},
          "code":{"text":")" +
      code + R"("},"effectiveDateTime":")" + kDay + R"(","valueString":")" +
      std::string(10000, '9') + R"(","note":[{"text":")" + note + R"("}]})";
  auto c = run({patient(), obs});
  EXPECT_FALSE(c.mechanics.sins_total);  // 999...9 is no SINS
  const Alert* a = alert_for(c, "Observation/h");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->finding, "SINS; cord compression");  // code first, then the note
}

TEST(SafetyNet, AlertsAreSortedByReference) {
  auto c = run({patient(), unknown_obs("b", R"("note":[{"text":"paraplegia"}])"),
                unknown_obs("a", R"("valueString":"SINS 12")")});
  ASSERT_EQ(c.alerts.size(), 2u);
  EXPECT_EQ(c.alerts[0].ref, "Observation/a");
  EXPECT_EQ(c.alerts[0].finding, "SINS");
  EXPECT_EQ(c.alerts[1].ref, "Observation/b");
}

}  // namespace
}  // namespace mst::mappings
