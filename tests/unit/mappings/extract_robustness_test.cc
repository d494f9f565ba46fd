// The extractor on a rich record: every resource counts, none is fatal, the
// output does not depend on input order, and bad input is listed in ignored.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "mst/mappings/extract.h"
#include "record_fixture.h"

namespace mst::mappings {
namespace {

using namespace testing;

std::vector<std::string> rich_record() {
  auto cc = [](const std::string& s, const std::string& c) { return coding(s, c); };
  return {
      condition("prim", kIcd, "C64.9"),
      condition("mets", kSct, "94602001", R"("bodySite":[{"text":"T12"},{"text":"L1 vertebra"}])"),
      condition("bone", kIcd, "C79.51", body_site_text("left femur")),
      condition("liver", kIcd, "C78.7"),
      condition("dm", kIcd, "E11.9"),
      condition("pain", kIcd, "M54.50", R"("onsetDateTime":"2025-05-27")"),
      condition("weak", kSct, "23042008", R"("onsetDateTime":"2025-05-29")"),
      condition("frac", kSct, "866087009", body_site_text("T12")),
      observation("ecog", kLnc, "89247-1", R"("valueCodeableConcept":)" + cc(kLnc, "LA9624-3"),
                  "2025-05-30"),
      observation("kps", kLnc, "89243-0", R"("valueInteger":60)", "2025-05-30"),
      observation("nrs", kLnc, "72514-3", R"("valueInteger":7)", "2025-05-31"),
      observation("hb", kLnc, "718-7", quantity(9.5, "g/dL"), "2025-05-28"),
      observation("a1c", kLnc, "4548-4", quantity(9.1, "%"), "2025-04-15"),
      observation("bp", kLnc, "85354-9", "", "2025-05-30",
                  R"("component":[{"code":)" + cc(kLnc, "8480-6") + "," + quantity(150, "mm[Hg]") +
                      R"(},{"code":)" + cc(kLnc, "8462-4") + "," + quantity(95, "mm[Hg]") + "}]"),
      observation("alb", kLnc, "1751-7", quantity(3.2, "g/dL"), "2025-05-28"),
      observation("sins", kMst, "sins-total", R"("valueInteger":11)", "2025-05-20",
                  body_site_text("T12")),
      observation("escc", kMst, "escc-grade", R"("valueCodeableConcept":)" + cc(kMst, "escc-2"),
                  "2025-05-20", body_site_text("T12")),
      observation("frankel", kMst, "frankel-grade", R"("valueString":"D")", "2025-05-30"),
      observation("le", kMst, "estimated-survival-months", quantity(8, "mo"), "2025-05-20"),
      observation("organs", kMst, "internal-organ-metastasis", R"("valueString":"unremovable")",
                  "2025-05-20"),
      observation("xbone", kMst, "extraspinal-bone-metastasis-count", R"("valueInteger":2)",
                  "2025-05-20"),
      observation("walk", kMst, "ambulatory-status",
                  R"("valueCodeableConcept":)" + cc(kMst, "ambulatory-with-aid"), "2025-05-30"),
      observation("pref", kLnc, "81378-2", R"("valueString":"declines surgery")", "2025-05-10"),
      R"({"resourceType":"CarePlan","id":"chemo","status":"active","intent":"plan","subject":{"reference":"Patient/p1"},
        "category":[)" +
          cc(kSct, "736252007") + R"(],"activity":[{"detail":{"status":"in-progress","code":)" +
          cc(kSct, "367336001") + "}}]}",
      R"({"resourceType":"Procedure","id":"surg","status":"completed","subject":{"reference":"Patient/p1"},
        "code":)" +
          cc(kSct, "10836008") + R"(,"performedDateTime":"2025-05-15"})",
  };
}

// Everything but evidence, in one string, to see whether facts changed.
std::string facts(const Considerations& c) {
  std::ostringstream s;
  auto opt = [&](const char* name, const auto& f) {
    s << name << '=';
    if (f) {
      s << f->value << (f->stale ? "(stale)" : "");
    } else {
      s << '-';
    }
    s << ';';
  };
  if (c.cancer) s << "cancer=" << c.cancer->key << ';';
  s << "spine=" << c.spine.present << c.spine.any_junctional << c.spine.contiguous << ';';
  for (const auto& l : c.spine.lesions) s << l.level.name << ',';
  s << "other=" << c.other_metastases.visceral << c.other_metastases.brain
    << c.other_metastases.extraspinal_bone << ';';
  for (const auto& t : c.treatments) s << "tx=" << static_cast<int>(t.kind) << t.label << ';';
  opt("le", c.life_expectancy.stated_months);
  const auto& tk = c.life_expectancy.tokuhashi;
  s << "tk=" << tk.complete << tk.total << ';';
  for (const auto& i : tk.inputs) s << i << ';';
  for (const auto& m : tk.missing) s << m << ';';
  const auto& q = c.quality_of_life;
  opt("pain", q.pain_score);
  opt("ecog", q.ecog);
  opt("kps", q.karnofsky);
  s << q.ecog_derived << q.karnofsky_derived << static_cast<int>(q.ambulation.value)
    << q.mechanical_pain;
  if (q.new_back_pain) s << "nbp=" << q.new_back_pain->value;
  const auto& g = c.general_condition;
  for (const auto& m : g.comorbidities)
    s << "cm=" << static_cast<int>(m.kind) << m.basis << m.severe << ';';
  opt("hb", g.haemoglobin_g_dl);
  opt("a1c", g.hba1c_percent);
  opt("sys", g.systolic_mmhg);
  opt("dia", g.diastolic_mmhg);
  opt("alb", g.albumin_g_dl);
  if (c.neurology.escc) s << "escc=" << static_cast<int>(c.neurology.escc->value) << ';';
  for (const auto& d : c.neurology.deficits) s << "def=" << d.label << d.is_new << ';';
  opt("frankel", c.neurology.frankel);
  opt("sins", c.mechanics.sins_total);
  s << c.mechanics.pathological_fracture << c.mechanics.subluxation << ';';
  for (const auto& p : c.preferences) s << "pref=" << static_cast<int>(p.kind) << ';';
  for (const auto& x : c.spinal_surgeries) s << "surgery=" << x.label << ';';
  return s.str();
}

std::string everything(const Considerations& c) {
  std::ostringstream s;
  s << facts(c) << '|';
  for (const auto& u : c.used) s << u << ',';
  for (const auto& g : c.data_gaps) s << g.consideration << ':' << g.detail << ';';
  for (const auto& i : c.ignored) s << i.ref << ':' << i.reason << ';';
  return s.str();
}

TEST(Robustness, RichRecordUsesEveryResourceWithoutGapsForWhatItHas) {
  auto all = rich_record();
  all.push_back(patient());
  auto c = run(all);
  EXPECT_TRUE(c.ignored.empty()) << c.ignored.at(0).ref << ": " << c.ignored.at(0).reason;
  EXPECT_EQ(c.used.size(), rich_record().size());
  EXPECT_EQ(c.patient_ref, "Patient/p1");
  EXPECT_EQ(c.cancer->key, "kidney");
  EXPECT_EQ(c.spine.lesions.size(), 2u);
  EXPECT_TRUE(c.spine.contiguous);
  EXPECT_TRUE(c.other_metastases.visceral);
  EXPECT_TRUE(c.life_expectancy.tokuhashi.complete);
  // KPS 60 -> 1, extraspinal 2 -> 1, vertebrae 2 -> 1, unremovable -> 0, kidney -> 3, Frankel D
  // -> 1.
  EXPECT_EQ(c.life_expectancy.tokuhashi.total, 7);
  EXPECT_TRUE(c.neurology.any_new_deficit());
  EXPECT_TRUE(c.quality_of_life.new_back_pain->value);
  EXPECT_TRUE(c.mechanics.pathological_fracture);
  EXPECT_EQ(c.mechanics.band, SinsBand::kIndeterminate);
  EXPECT_EQ(c.general_condition.comorbidities.size(),
            3u);  // anaemia, diabetes (uncontrolled), hypertension
  EXPECT_TRUE(c.general_condition.comorbidities[1].severe);
  EXPECT_TRUE(c.data_gaps.empty())
      << c.data_gaps.at(0).consideration << ": " << c.data_gaps.at(0).detail;
}

TEST(Robustness, RemovingAnyResourceAddsAGapOrLosesAFactAndNeverCrashes) {
  const auto rich = rich_record();
  auto with_patient = rich;
  with_patient.push_back(patient());
  const Considerations full = run(with_patient);
  for (std::size_t i = 0; i < rich.size(); ++i) {
    auto less = with_patient;
    less.erase(less.begin() + static_cast<long>(i));
    Considerations c;
    ASSERT_NO_THROW(c = run(less)) << i;
    EXPECT_LT(c.used.size(), full.used.size()) << i;
    const bool more_gaps = c.data_gaps.size() > full.data_gaps.size();
    const bool lost_fact = facts(c) != facts(full);
    EXPECT_TRUE(more_gaps || lost_fact) << "resource " << i << " changed nothing";
  }
}

TEST(Robustness, InputOrderDoesNotChangeTheResult) {
  auto resources = rich_record();
  resources.push_back(patient());
  const std::string expected = everything(run(resources));
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(resources.begin(), resources.end(), rng);
    EXPECT_EQ(everything(run(resources)), expected) << round;
  }
}

TEST(Robustness, UnknownCodesMissingElementsAndWrongTypesAreListed) {
  auto c = run(
      {patient(), condition("c-unknown", kIcd, "J45.909"),  // asthma: not in tables
       R"({"resourceType":"Condition","id":"c-nocode","subject":{"reference":"Patient/p1"}})",
       R"({"resourceType":"Condition","id":"c-badcode","subject":{"reference":"Patient/p1"},"code":"C64.9"})",
       R"({"resourceType":"Condition","id":"c-badsite","subject":{"reference":"Patient/p1"},
                  "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"C79.51"}]},"bodySite":{"text":"T12"}})",
       observation("o-hr", kLnc, "8867-4", R"("valueInteger":80)", "2025-05-30"),  // heart rate
       observation("o-str", kLnc, "718-7", R"("valueQuantity":"9.5 g/dL")", "2025-05-30"),
       observation("o-nov", kLnc, "718-7", "", "2025-05-30"),
       observation("o-date", kLnc, "72514-3", R"("valueInteger":5)", "yesterday"),
       observation("o-range", kLnc, "89247-1", R"("valueInteger":9)", "2025-05-30"),
       R"({"resourceType":"Observation","id":"o-nostatus","subject":{"reference":"Patient/p1"},
                  "code":)" +
           coding(kLnc, "718-7") + "}",
       R"({"resourceType":"CarePlan","id":"cp-bad","status":"active","subject":{"reference":"Patient/p1"},
                  "category":"oncology"})",
       R"({"resourceType":"MedicationRequest","id":"mr1","subject":{"reference":"Patient/p1"}})",
       R"({"resourceType":"DeviceRequest","id":"dr1","subject":{"reference":"Patient/p1"}})"});
  const std::pair<std::string, std::string> expected[] = {
      {"Condition/c-unknown", "not in the code tables"},
      {"Condition/c-nocode", "no code"},
      {"Condition/c-badcode", "unreadable Condition"},
      {"Condition/c-badsite", "unreadable Condition"},
      {"Observation/o-hr", "not in the code tables"},
      {"Observation/o-str", "unreadable Observation"},
      {"Observation/o-nov", "no value"},
      {"Observation/o-date", "unreadable Observation"},
      {"Observation/o-range", "out of range"},
      {"Observation/o-nostatus", "status ''"},
      {"CarePlan/cp-bad", "unreadable CarePlan"},
      {"MedicationRequest/mr1", "no medication[x]"},
      {"DeviceRequest/dr1", "not read by the extractor"},
  };
  for (const auto& [ref, why] : expected)
    EXPECT_TRUE(is_ignored(c, ref, why)) << ref << " / " << why;
  EXPECT_EQ(c.ignored.size(), std::size(expected));
  EXPECT_FALSE(c.general_condition.haemoglobin_g_dl);
  EXPECT_TRUE(std::is_sorted(c.ignored.begin(), c.ignored.end(),
                             [](const auto& a, const auto& b) { return a.ref < b.ref; }));
}

TEST(Robustness, DuplicateResourcesAreToleratedAndListed) {
  auto r = rich_record();
  r.push_back(patient());
  r.push_back(observation("hb", kLnc, "718-7", quantity(9.5, "g/dL"), "2025-05-28"));
  auto c = run(r);
  EXPECT_TRUE(is_ignored(c, "Observation/hb", "duplicate"));
  EXPECT_EQ(c.general_condition.haemoglobin_g_dl->value, 9.5);
}

TEST(Robustness, EmptyRecordGivesGapsForEveryConsideration) {
  auto c = run({});
  for (std::string_view k :
       {"spinal lesions", "cancer type", "quality of life", "general condition",
        "neurological status", "mechanical status", "life expectancy", "current cancer treatment",
        "patient preferences"}) {
    EXPECT_TRUE(has_gap(c, k)) << k;
  }
  EXPECT_TRUE(c.used.empty());
}

}  // namespace
}  // namespace mst::mappings
