#include "mst/fhir/datatypes.h"

#include <gtest/gtest.h>

namespace mst::fhir {
namespace {

TEST(Reference, ParsesEveryForm) {
  auto rel = Reference::parse("Patient/p-1");
  EXPECT_EQ(rel.kind, Reference::Kind::kRelative);
  EXPECT_EQ(rel.relative(), "Patient/p-1");

  auto ver = Reference::parse("Observation/o1/_history/3");
  EXPECT_EQ(ver.kind, Reference::Kind::kRelative);
  EXPECT_EQ(ver.id, "o1");
  EXPECT_EQ(ver.version, "3");

  auto abs = Reference::parse("https://ehr.example.org/fhir/R4/Condition/c9/_history/2");
  EXPECT_EQ(abs.kind, Reference::Kind::kAbsolute);
  EXPECT_EQ(abs.base, "https://ehr.example.org/fhir/R4");
  EXPECT_EQ(abs.relative(), "Condition/c9");
  EXPECT_EQ(abs.version, "2");

  auto urn = Reference::parse("urn:uuid:0f4e0c5a-1111-4a3a-9c55-000000000001");
  EXPECT_EQ(urn.kind, Reference::Kind::kUrnUuid);
  EXPECT_EQ(urn.id, "0f4e0c5a-1111-4a3a-9c55-000000000001");

  auto contained = Reference::parse("#med1");
  EXPECT_EQ(contained.kind, Reference::Kind::kContained);
  EXPECT_EQ(contained.id, "med1");

  EXPECT_EQ(Reference::parse("urn:oid:1.2.3").kind, Reference::Kind::kOther);
  EXPECT_EQ(Reference::parse("p-1").kind, Reference::Kind::kOther);
  EXPECT_EQ(Reference::parse("patient/p-1").kind, Reference::Kind::kOther);
  EXPECT_EQ(Reference::parse("").kind, Reference::Kind::kNone);
}

TEST(CodeableConcept, MatchesCodeSetsAndLabels) {
  auto doc = JsonDocument::parse(R"({"code":{"coding":[
      {"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"C79.51"},
      {"system":"http://snomed.info/sct","code":"94222008","display":"Bone mets"}],
      "text":"Bone metastasis"}})");
  auto cc = read_codeable_concept(doc.root()["code"]);
  ASSERT_TRUE(cc);
  CodeSet set{{"http://snomed.info/sct", "94222008"}};
  auto hit = cc->first_in(set);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->display, "Bone mets");
  EXPECT_TRUE(cc->has("http://hl7.org/fhir/sid/icd-10-cm", "C79.51"));
  EXPECT_FALSE(set.contains("http://hl7.org/fhir/sid/icd-10-cm", "C79.51"));
  EXPECT_EQ(cc->label(), "Bone metastasis");
}

TEST(ObservationValue, ReadsEveryChoiceType) {
  auto doc = JsonDocument::parse(R"([
    {"valueQuantity":{"value":7.1,"unit":"g/dL","system":"http://unitsofmeasure.org","code":"g/dL"}},
    {"valueCodeableConcept":{"text":"ESCC 2"}},
    {"valueString":"T12"},
    {"valueBoolean":true},
    {"valueInteger":3},
    {"valueRange":{"low":{"value":3},"high":{"value":6}}},
    {"valueRatio":{"numerator":{"value":1},"denominator":{"value":2}}},
    {"valueSampledData":{"period":1}},
    {"valueTime":"10:00:00"},
    {"valueDateTime":"2024-05"},
    {"valuePeriod":{"start":"2024-01-01"}},
    {}
  ])");
  auto items = doc.root().elements();
  EXPECT_DOUBLE_EQ(*std::get<Quantity>(read_value(items[0])).value, 7.1);
  EXPECT_EQ(std::get<CodeableConcept>(read_value(items[1])).label(), "ESCC 2");
  EXPECT_EQ(std::get<std::string_view>(read_value(items[2])), "T12");
  EXPECT_TRUE(std::get<bool>(read_value(items[3])));
  EXPECT_EQ(std::get<std::int64_t>(read_value(items[4])), 3);
  EXPECT_DOUBLE_EQ(*std::get<Range>(read_value(items[5])).high->value, 6);
  EXPECT_DOUBLE_EQ(*std::get<Ratio>(read_value(items[6])).denominator->value, 2);
  EXPECT_TRUE(std::holds_alternative<SampledDataValue>(read_value(items[7])));
  EXPECT_EQ(std::get<TimeValue>(read_value(items[8])).text, "10:00:00");
  EXPECT_EQ(std::get<DateTime>(read_value(items[9])).to_string(), "2024-05");
  EXPECT_EQ(std::get<Period>(read_value(items[10])).start->to_string(), "2024-01-01");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(read_value(items[11])));
}

TEST(ObservationValue, WrongTypesAreElementErrors) {
  auto doc = JsonDocument::parse(R"([
    {"valueQuantity":"12 mg"},
    {"valueQuantity":{"value":"12"}},
    {"valueInteger":1.5},
    {"valueDateTime":"yesterday"},
    {"valueCodeableConcept":{"coding":{"code":"x"}}}
  ])");
  for (Node n : doc.root().elements()) {
    EXPECT_THROW(read_value(n), ElementError);
  }
}

TEST(ReadReference, KeepsTypeAndDisplay) {
  auto doc = JsonDocument::parse(
      R"({"r":{"reference":"Patient/a1","display":"x"},"t":{"type":"Patient","identifier":{}}})");
  auto r = read_reference(doc.root()["r"]);
  EXPECT_EQ(r->relative(), "Patient/a1");
  EXPECT_EQ(r->display, "x");
  auto t = read_reference(doc.root()["t"]);
  EXPECT_EQ(t->kind, Reference::Kind::kNone);
  EXPECT_EQ(t->type, "Patient");
}

}  // namespace
}  // namespace mst::fhir
