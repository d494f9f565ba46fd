// Observation values in every shape (docs/considerations.md, "Values"):
// integers, quantities with or without a unit, numbers and grades written
// in words, coded answers with text only, units in any UCUM case, and
// haemoglobin in g/dL, g/L and mmol/L. What rests on words is marked.
#include <gtest/gtest.h>

#include <algorithm>

#include "record_fixture.h"

namespace mst::mappings {
namespace {

using namespace testing;

const std::string kLocal = "http://hospital.example.org/flowsheet";
const std::string kDay = "2025-05-20";

// An Observation whose code is a local flowsheet row with `code_text`.
std::string local_obs(const std::string& id, const std::string& code_text,
                      const std::string& value) {
  return R"({"resourceType":"Observation","id":")" + id +
         R"(","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":")" +
         kLocal + R"(","code":"row-)" + id + R"("}],"text":")" + code_text + R"("},)" + value +
         R"(,"effectiveDateTime":")" + kDay + R"("})";
}

std::string str(const std::string& s) { return R"("valueString":")" + s + "\""; }

bool from_text(const Considerations& c, const std::string& ref) {
  return std::binary_search(c.read_from_text.begin(), c.read_from_text.end(), ref);
}

std::optional<int> sins_of(const std::string& value) {
  auto c = run({patient(), local_obs("s", "Spinal Instability Neoplastic Score (SINS)", value)});
  if (!c.mechanics.sins_total) return std::nullopt;
  EXPECT_EQ(c.mechanics.sins_total->evidence, (Evidence{"Observation/s"}));
  return c.mechanics.sins_total->value;
}

TEST(ValueShapes, ScoresFromIntegersQuantitiesAndWords) {
  EXPECT_EQ(sins_of(R"("valueInteger":9)"), 9);
  EXPECT_EQ(sins_of(R"("valueQuantity":{"value":9})"), 9);  // no unit: a score
  EXPECT_EQ(sins_of(R"("valueQuantity":{"value":9,"unit":"{score}"})"), 9);
  EXPECT_EQ(sins_of(str("SINS 9")), 9);
  EXPECT_EQ(sins_of(str("9/18")), 9);
  EXPECT_EQ(sins_of(str("9 out of 18")), 9);
  EXPECT_EQ(sins_of(str("SINS 9 at T10.")), 9);  // a level is not a number
  EXPECT_EQ(sins_of(str("9")), 9);
  EXPECT_EQ(sins_of(R"("valueCodeableConcept":{"text":"SINS 9"})"), 9);
}

TEST(ValueShapes, AmbiguousOrOutOfRangeWordsAreNotUsedAndSayWhy) {
  for (const std::string& v :
       std::vector<std::string>{str("SINS 9, previously 12"), str("9-11"), str("9/10")}) {
    auto c = run({patient(), local_obs("s", "SINS", v)});
    EXPECT_FALSE(c.mechanics.sins_total) << v;
    EXPECT_TRUE(is_ignored(c, "Observation/s", "more than one number")) << v;
  }
  auto high = run({patient(), local_obs("s", "SINS", str("SINS 19"))});
  EXPECT_FALSE(high.mechanics.sins_total);
  EXPECT_TRUE(is_ignored(high, "Observation/s", "out of range"));
  auto none = run({patient(), local_obs("s", "SINS", str("unstable"))});
  EXPECT_FALSE(none.mechanics.sins_total);
  EXPECT_TRUE(is_ignored(none, "Observation/s", "no number"));
}

TEST(ValueShapes, OtherScoresInWords) {
  auto c = run({patient(), local_obs("pain", "Pain score", str("7/10")),
                local_obs("ecog", "ECOG performance status", str("ECOG 2"))});
  ASSERT_TRUE(c.quality_of_life.pain_score);
  EXPECT_EQ(c.quality_of_life.pain_score->value, 7);
  ASSERT_TRUE(c.quality_of_life.ecog);
  EXPECT_EQ(c.quality_of_life.ecog->value, 2);
  EXPECT_TRUE(from_text(c, "Observation/pain"));
  EXPECT_TRUE(from_text(c, "Observation/ecog"));
}

std::optional<EsccGrade> escc_of(const std::string& value) {
  auto c = run({patient(), local_obs("e", "Bilsky grade", value)});
  if (!c.neurology.escc) return std::nullopt;
  EXPECT_TRUE(from_text(c, "Observation/e"));  // the code is local: its text found the entry
  return c.neurology.escc->value;
}

TEST(ValueShapes, GradesFromWordsAndTextOnlyAnswers) {
  EXPECT_EQ(escc_of(str("Grade 2")), EsccGrade::k2);
  EXPECT_EQ(escc_of(str("ESCC 1b")), EsccGrade::k1b);
  EXPECT_EQ(escc_of(str("Bilsky 1c")), EsccGrade::k1c);
  EXPECT_EQ(escc_of(str("Bilsky grade 1C at T10")), EsccGrade::k1c);
  EXPECT_EQ(escc_of(str("1 b")), EsccGrade::k1b);
  EXPECT_EQ(escc_of(R"("valueCodeableConcept":{"text":"1b"})"), EsccGrade::k1b);
  EXPECT_EQ(
      escc_of(
          R"("valueCodeableConcept":{"coding":[{"system":"urn:x","code":"7"}],"text":"Grade 2"})"),
      EsccGrade::k2);
  EXPECT_EQ(escc_of(R"("valueInteger":3)"), EsccGrade::k3);
  EXPECT_EQ(escc_of(str("1b-1c")), std::nullopt);  // two grades: neither
  EXPECT_EQ(escc_of(str("1d")), std::nullopt);
  auto c = run({patient(), local_obs("e", "ESCC", str("1b or 2"))});
  EXPECT_TRUE(is_ignored(c, "Observation/e", "more than one grade"));
}

Ambulation ambulation_of(const std::string& value) {
  auto c = run({patient(), local_obs("a", "Ambulatory status", value)});
  return c.quality_of_life.ambulation.value;
}

TEST(ValueShapes, AmbulationWrittenInTheWordsChartsUse) {
  // A coded answer sent as its display only, or a flowsheet's free text:
  // "Unable to walk" is the loss of walking rows 1 and 16 act on.
  EXPECT_EQ(ambulation_of(R"("valueCodeableConcept":{"text":"Unable to walk"})"),
            Ambulation::kNonAmbulatory);
  EXPECT_EQ(ambulation_of(str("Pt is bed bound since Monday")), Ambulation::kNonAmbulatory);
  EXPECT_EQ(ambulation_of(str("not able to walk")), Ambulation::kNonAmbulatory);
  EXPECT_EQ(ambulation_of(str("Walks with a frame")), Ambulation::kWithAid);
  EXPECT_EQ(ambulation_of(str("walks independently")), Ambulation::kIndependent);
  EXPECT_EQ(ambulation_of(str("non-ambulatory")), Ambulation::kNonAmbulatory);
  // Negated, or two grades at once: not read, and said why.
  EXPECT_EQ(ambulation_of(str("not walks independently")), Ambulation::kUnknown);
  auto c = run({patient(), local_obs("a", "Ambulation",
                                     str("walks with a stick, unable to walk "
                                         "outdoors"))});
  EXPECT_EQ(c.quality_of_life.ambulation.value, Ambulation::kUnknown);
  EXPECT_TRUE(is_ignored(c, "Observation/a", "more than one grade"));
}

TEST(ValueShapes, ValuesReadByCodeAreNotMarked) {
  auto c = run({patient(), observation("hb", kLnc, "718-7", quantity(9.5, "g/dL"), kDay),
                observation("e", kMst, "escc-grade", str("Grade 2"), kDay)});
  ASSERT_TRUE(c.general_condition.haemoglobin_g_dl);
  EXPECT_FALSE(from_text(c, "Observation/hb"));
  ASSERT_TRUE(c.neurology.escc);
  EXPECT_TRUE(from_text(c, "Observation/e"));  // code is ours, the value was words
}

std::optional<double> hb_of(const std::string& unit, double v) {
  auto c = run({patient(), observation("hb", kLnc, "718-7", quantity(v, unit), kDay)});
  if (!c.general_condition.haemoglobin_g_dl) return std::nullopt;
  return c.general_condition.haemoglobin_g_dl->value;
}

TEST(ValueShapes, HaemoglobinUnitsInAnyCase) {
  EXPECT_DOUBLE_EQ(*hb_of("g/dL", 9.5), 9.5);
  EXPECT_DOUBLE_EQ(*hb_of("G/DL", 9.5), 9.5);  // UCUM case-insensitive form
  EXPECT_DOUBLE_EQ(*hb_of("g/L", 95), 9.5);
  EXPECT_DOUBLE_EQ(*hb_of("G/L", 95), 9.5);
  // Hb monomer: 1 mmol/L = 16.1145 g/L = 1.611 g/dL (ICSH 1995).
  EXPECT_NEAR(*hb_of("mmol/L", 6.0), 9.666, 1e-9);
  EXPECT_NEAR(*hb_of("MMOL/L", 6.0), 9.666, 1e-9);
  EXPECT_FALSE(hb_of("mg/dL", 9500));  // not a unit the table converts
  EXPECT_FALSE(hb_of("g/L", 9.5));     // 0.95 g/dL: out of range, not a silent 9.5
  auto c = run({patient(), observation("hb", kLnc, "718-7", quantity(9.5, "mg/dL"), kDay)});
  EXPECT_TRUE(is_ignored(c, "Observation/hb", "unit 'mg/dL' is not known"));
}

TEST(ValueShapes, QuantitiesWrittenInWords) {
  auto hb = [](const std::string& text) -> std::optional<double> {
    auto c = run({patient(), observation("hb", kLnc, "718-7", str(text), kDay)});
    if (!c.general_condition.haemoglobin_g_dl) return std::nullopt;
    EXPECT_TRUE(
        std::binary_search(c.read_from_text.begin(), c.read_from_text.end(), "Observation/hb"));
    return c.general_condition.haemoglobin_g_dl->value;
  };
  EXPECT_DOUBLE_EQ(*hb("9.8 g/dL"), 9.8);
  EXPECT_DOUBLE_EQ(*hb("Hb 98 G/L (low)"), 9.8);
  EXPECT_DOUBLE_EQ(*hb("9,8 g/dL"), 9.8);  // a decimal comma
  EXPECT_DOUBLE_EQ(*hb("9.8"), 9.8);       // no unit: the canonical one, inside the range
  EXPECT_FALSE(hb("98"));                  // no unit and out of range: not a silent 9.8
  EXPECT_FALSE(hb("9.8 g/dL, was 11.2"));  // two numbers
  EXPECT_FALSE(hb("9.8 mg/dL"));
  auto c = run({patient(), observation("hb", kLnc, "718-7", str("9.8 furlongs"), kDay)});
  EXPECT_TRUE(is_ignored(c, "Observation/hb", "unit 'furlongs' is not known"));
}

TEST(ValueShapes, BloodPressureUnitsKeepUcumBrackets) {
  for (const std::string unit : {"mm[Hg]", "MM[HG]", "mmHg"}) {
    auto c = run({patient(), observation("sbp", kLnc, "8480-6", quantity(150, unit), kDay)});
    ASSERT_TRUE(c.general_condition.systolic_mmhg) << unit;
    EXPECT_EQ(c.general_condition.systolic_mmhg->value, 150) << unit;
  }
}

TEST(ValueShapes, ComponentsWithTextOnlyCodes) {
  const std::string panel =
      R"({"resourceType":"Observation","id":"bp","status":"final","subject":{"reference":"Patient/p1"},
          "code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"effectiveDateTime":")" +
      kDay + R"J(","component":[
          {"code":{"text":"Systolic blood pressure"},"valueQuantity":{"value":150,"code":"MM[HG]"}},
          {"code":{"text":"Diastolic BP (sitting)"},"valueQuantity":{"value":95,"unit":"mmHg"}}]})J";
  auto c = run({patient(), panel});
  ASSERT_TRUE(c.general_condition.systolic_mmhg);
  ASSERT_TRUE(c.general_condition.diastolic_mmhg);
  EXPECT_EQ(c.general_condition.systolic_mmhg->value, 150);
  EXPECT_EQ(c.general_condition.diastolic_mmhg->value, 95);
  EXPECT_TRUE(from_text(c, "Observation/bp"));
}

}  // namespace
}  // namespace mst::mappings
