// PatientRecord: Bundles of any type, separate resources, duplicates and
// resources that cannot be the patient's (docs/considerations.md, "Input").
#include "mst/mappings/patient_record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "record_fixture.h"

namespace mst::mappings {
namespace {

using namespace testing;

TEST(PatientRecord, ReadsSearchsetAndSkipsOutcomeEntries) {
  auto rec = PatientRecord::from_bundle(fhir::JsonDocument::parse(R"({"resourceType":"Bundle",
    "type":"searchset","entry":[
      {"resource":)" + patient() + R"(,"search":{"mode":"include"}},
      {"resource":)" + condition("c1", kIcd, "C64.9") + R"(,"search":{"mode":"match"}},
      {"resource":{"resourceType":"OperationOutcome","issue":[]},"search":{"mode":"outcome"}},
      {"resource":)" + observation("o1", kLnc, "72514-3", R"("valueInteger":5)", "2025-05-30") +
                                                                  R"(},
      {"resource":{"resourceType":"CarePlan","id":"cp1","subject":{"reference":"Patient/p1"},"status":"active","intent":"plan"}},
      {"resource":{"resourceType":"Procedure","id":"x1","subject":{"reference":"Patient/p1"}}},
      {"resource":{"resourceType":"MedicationAdministration","id":"ma1","subject":{"reference":"Patient/p1"}}},
      {"resource":{"resourceType":"Medication","id":"med1"},"search":{"mode":"include"}},
      {"resource":{"resourceType":"Device","id":"d1"}}]})"));
  EXPECT_EQ(rec.patient_id(), "p1");
  EXPECT_EQ(rec.patient_ref(), "Patient/p1");
  ASSERT_TRUE(rec.patient());
  EXPECT_EQ(rec.conditions().size(), 1u);
  EXPECT_EQ(rec.observations().size(), 1u);
  EXPECT_EQ(rec.care_plans().size(), 1u);
  ASSERT_EQ(rec.procedures().size(), 1u);
  EXPECT_EQ(rec.procedures()[0].ref, "Procedure/x1");
  ASSERT_EQ(rec.medication_uses().size(), 1u);
  EXPECT_EQ(rec.medication_uses()[0].ref, "MedicationAdministration/ma1");
  ASSERT_EQ(rec.medications().size(), 1u);  // no subject of its own: kept
  EXPECT_EQ(rec.medications()[0].ref, "Medication/med1");
  ASSERT_EQ(rec.others().size(), 1u);
  EXPECT_EQ(rec.others()[0].ref, "Device/d1");
  EXPECT_TRUE(rec.ignored().empty());
}

TEST(PatientRecord, TransactionBundleWithUrnUuidSubjects) {
  auto rec = PatientRecord::from_bundle(fhir::JsonDocument::parse(R"({"resourceType":"Bundle",
    "type":"transaction","entry":[
      {"fullUrl":"urn:uuid:aaa","resource":{"resourceType":"Patient","id":"p1"},"request":{"method":"PUT","url":"Patient/p1"}},
      {"fullUrl":"urn:uuid:bbb","resource":{"resourceType":"Condition","subject":{"reference":"urn:uuid:aaa"},
        "code":{"text":"renal cell carcinoma"}},"request":{"method":"POST","url":"Condition"}},
      {"fullUrl":"urn:uuid:ccc","resource":{"resourceType":"Condition","subject":{"reference":"urn:uuid:zzz"},
        "code":{"text":"renal cell carcinoma"}},"request":{"method":"POST","url":"Condition"}}]})"));
  ASSERT_EQ(rec.conditions().size(), 1u);
  EXPECT_EQ(rec.conditions()[0].ref, "urn:uuid:bbb");  // no id: the fullUrl names it
  ASSERT_EQ(rec.ignored().size(), 1u);
  EXPECT_EQ(rec.ignored()[0].ref, "urn:uuid:ccc");
  EXPECT_EQ(rec.ignored()[0].reason, "belongs to another patient");
}

TEST(PatientRecord, NonObjectsMissingTypesAndOtherPatientsAreIgnoredWithReasons) {
  auto rec = PatientRecord::from_bundle(fhir::JsonDocument::parse(R"({"resourceType":"Bundle",
    "type":"collection","entry":[
      "text", 7,
      {"resource":)" + patient() + R"(},
      {"resource":{"id":"x"}},
      {"resource":[1,2]},
      {"resource":{"resourceType":"Patient","id":"p2"}},
      {"resource":)" + condition("c1", kIcd, "C64.9") + R"(},
      {"resource":{"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p2"}}},
      {"resource":{"resourceType":"Condition","id":"c3","subject":{"reference":"Group/g1"}}},
      {"resource":{"resourceType":"Condition","id":"c4","subject":"Patient/p1"}},
      {"resource":{"resourceType":"Condition","id":"c5","subject":{"reference":"https://ehr.example/fhir/Patient/p1"}}}]})"),
                                        "p1");
  std::vector<std::string> reasons;
  for (const auto& i : rec.ignored()) reasons.push_back(i.ref + ": " + i.reason);
  EXPECT_EQ(rec.conditions().size(), 2u);  // c1 and c5 (absolute reference to p1)
  EXPECT_EQ(rec.ignored().size(), 8u) << ::testing::PrintToString(reasons);
  auto has = [&](const std::string& s) {
    return std::find(reasons.begin(), reasons.end(), s) != reasons.end();
  };
  EXPECT_TRUE(has("document[0].entry[0]: Bundle entry is not a JSON object"));
  EXPECT_TRUE(has("document[0].entry[3]: no resourceType"));
  EXPECT_TRUE(has("document[0].entry[4]: not a JSON object"));
  EXPECT_TRUE(has("Patient/p2: another patient"));
  EXPECT_TRUE(has("Condition/c2: belongs to another patient"));
  EXPECT_TRUE(has("Condition/c3: subject is a Group, not the patient"));
  EXPECT_NE(std::find_if(reasons.begin(), reasons.end(),
                         [](const std::string& s) {
                           return s.rfind("Condition/c4: unreadable subject", 0) == 0;
                         }),
            reasons.end());
}

TEST(PatientRecord, SeveralPatientsWithoutAnIdIsAnError) {
  EXPECT_THROW(record_of({patient(), R"({"resourceType":"Patient","id":"p2"})"}), RecordError);
  EXPECT_NO_THROW(record_of({patient(), R"({"resourceType":"Patient","id":"p2"})"}, "p2"));
}

TEST(PatientRecord, PatientIsInferredFromSubjectsWhenNoPatientResource) {
  auto rec = record_of({condition("c1", kIcd, "C64.9")});
  EXPECT_EQ(rec.patient_id(), "p1");
  EXPECT_FALSE(rec.patient());
}

// Duplicates: kept once, highest versionId (numeric), then lastUpdated.
TEST(PatientRecord, DuplicatesKeepTheLatestVersionAndAreListed) {
  auto v = [](const std::string& version, const std::string& updated, int pain) {
    return R"({"resourceType":"Observation","id":"o1","meta":{"versionId":")" + version +
           R"(","lastUpdated":")" + updated +
           R"("},"status":"final","subject":{"reference":"Patient/p1"},"code":)" +
           coding(kLnc, "72514-3") + R"(,"valueInteger":)" + std::to_string(pain) +
           R"(,"effectiveDateTime":"2025-05-30"})";
  };
  auto rec = record_of({patient(), v("10", "2025-05-01T00:00:00Z", 8),
                        v("9", "2025-05-31T00:00:00Z", 2), v("2", "2025-04-01T00:00:00Z", 4)});
  ASSERT_EQ(rec.observations().size(), 1u);
  EXPECT_EQ(rec.observations()[0].node["valueInteger"].as_integer(), 8);  // version 10 > 9 > 2
  ASSERT_EQ(rec.duplicates().size(), 1u);
  EXPECT_EQ(rec.duplicates()[0], "Observation/o1 (3 copies)");
  EXPECT_EQ(rec.ignored().size(), 2u);
  EXPECT_EQ(rec.ignored()[0].reason, "duplicate copy dropped; kept version 10");
  // Same version: the later lastUpdated wins; input order does not matter.
  auto a =
      record_of({patient(), v("1", "2025-05-01T00:00:00Z", 3), v("1", "2025-05-02T00:00:00Z", 6)});
  auto b =
      record_of({patient(), v("1", "2025-05-02T00:00:00Z", 6), v("1", "2025-05-01T00:00:00Z", 3)});
  EXPECT_EQ(a.observations()[0].node["valueInteger"].as_integer(), 6);
  EXPECT_EQ(b.observations()[0].node["valueInteger"].as_integer(), 6);
}

TEST(PatientRecord, SeparateResourcesAndSearchResults) {
  auto page = std::make_shared<const fhir::JsonDocument>(fhir::JsonDocument::parse(
      R"({"resourceType":"Bundle","type":"searchset","entry":[{"resource":)" +
      condition("c1", kIcd, "C64.9") + R"(}]})"));
  PatientRecord::Builder b;
  b.add_document(fhir::JsonDocument::parse(patient()));
  // A search page is kept alive, and only its matches are read.
  b.keep(page);
  b.add_resource(page->root()["entry"].elements()[0]["resource"]);
  auto rec = b.build();
  EXPECT_EQ(rec.conditions().size(), 1u);
  EXPECT_EQ(rec.patient_id(), "p1");
}

TEST(PatientRecord, IdentitiesThatCouldBreakALineAreIgnoredWithoutBeingQuoted) {
  // Found by fuzz_record: a resourceType, id, versionId or fullUrl holding a
  // line break reached refs and ignored reasons, which go to logs and notes.
  auto rec = PatientRecord::from_bundle(fhir::JsonDocument::parse(R"({"resourceType":"Bundle",
    "type":"collection","entry":[
      {"resource":)" + patient() + R"(},
      {"fullUrl":"urn:uuid:a\nb","resource":{"resourceType":"Obse\rvation","id":"o1"}},
      {"resource":{"resourceType":"Observation","id":"o\n2"}},
      {"resource":{"resourceType":"Observation","id":"o3","meta":{"versionId":"1\r\n"}}},
      {"fullUrl":"urn:uuid:c d","resource":{"resourceType":"Condition","subject":{"reference":"Patient/p1"}}}]})"));
  std::vector<std::string> refs;
  for (const auto& i : rec.ignored()) {
    refs.push_back(i.ref);
    EXPECT_EQ(i.reason.find_first_of("\r\n"), std::string::npos) << i.reason;
  }
  EXPECT_EQ(refs, (std::vector<std::string>{"document[0].entry[1]", "document[0].entry[2]",
                                            "document[0].entry[3]"}));
  ASSERT_EQ(rec.conditions().size(), 1u);
  EXPECT_EQ(rec.conditions()[0].ref, "document[0].entry[4]");  // not the unusable fullUrl
}

TEST(PatientRecord, NestedBundlesAreReadInPlaceAndNamedByWhereTheyWereFound) {
  auto rec = PatientRecord::from_bundle(fhir::JsonDocument::parse(R"({"resourceType":"Bundle",
    "type":"collection","entry":[
      {"resource":)" + condition("c2", kIcd, "C64.9") + R"(},
      {"resource":{"resourceType":"Bundle","type":"collection","entry":[
        "text",
        {"resource":{"resourceType":"Condition","subject":{"reference":"Patient/p1"}}},
        {"resource":{"resourceType":"Bundle","entry":{}}},
        {"fullUrl":"urn:uuid:x","resource":)" + patient() + R"(}]}},
      {"resource":{"resourceType":"Condition","subject":{"reference":"Patient/p1"}}},
      {"resource":)" + condition("c1", kIcd, "C64.9") + R"(}]})"));
  EXPECT_EQ(rec.patient_id(), "p1");
  ASSERT_TRUE(rec.patient());
  EXPECT_EQ(rec.patient()->full_url, "urn:uuid:x");
  std::vector<std::string> refs;
  for (const auto& c : rec.conditions()) refs.push_back(c.ref);
  EXPECT_EQ(refs,
            (std::vector<std::string>{"Condition/c1", "Condition/c2",
                                      "document[0].entry[1].entry[1]", "document[0].entry[2]"}));
  std::vector<std::string> ignored;
  for (const auto& i : rec.ignored()) ignored.push_back(i.ref + ": " + i.reason);
  EXPECT_EQ(ignored, (std::vector<std::string>{
                         "document[0].entry[1].entry[0]: Bundle entry is not a JSON object",
                         "document[0].entry[1].entry[2]: Bundle.entry is not an array"}));
}

TEST(PatientRecord, ResourcesWithoutAnIdMayShareAFullUrlAndAreAllKept) {
  auto rec = PatientRecord::from_bundle(fhir::JsonDocument::parse(R"({"resourceType":"Bundle",
    "type":"collection","entry":[
      {"fullUrl":"urn:uuid:b","resource":{"resourceType":"Condition","subject":{"reference":"Patient/p1"}}},
      {"fullUrl":"urn:uuid:a","resource":{"resourceType":"Condition","subject":{"reference":"Patient/p1"}}},
      {"fullUrl":"urn:uuid:a","resource":{"resourceType":"Condition","subject":{"reference":"Patient/p1"}}},
      {"resource":)" + condition("c1", kIcd, "C64.9") + R"(}]})"));
  std::vector<std::string> refs;
  for (const auto& c : rec.conditions()) refs.push_back(c.ref);
  EXPECT_EQ(refs,
            (std::vector<std::string>{"Condition/c1", "urn:uuid:a", "urn:uuid:a", "urn:uuid:b"}));
  EXPECT_TRUE(rec.duplicates().empty());
}

// Offline input (issue #12, finding 8): nothing but the exact reference ties
// a resource to the patient.
PatientRecord strict_record(const std::string& bundle) {
  return PatientRecord::Builder()
      .strict_subjects()
      .add_document(fhir::JsonDocument::parse(bundle))
      .build();
}

std::string condition_with(const std::string& id, const std::string& subject) {
  return R"({"fullUrl":"https://ehr.example/fhir/Condition/)" + id +
         R"(","resource":{"resourceType":"Condition","id":")" + id + R"(")" +
         (subject.empty() ? "" : R"(,"subject":)" + subject) +
         R"(,"code":{"text":"renal cell carcinoma"}}})";
}

TEST(PatientRecordStrict, OnlyExactReferencesToTheOnePatientCount) {
  const std::string bundle =
      R"({"resourceType":"Bundle","type":"collection","entry":[
    {"fullUrl":"https://ehr.example/fhir/Patient/p1","resource":{"resourceType":"Patient","id":"p1"}},
    )" +
      condition_with("ok-relative", R"({"reference":"Patient/p1"})") + "," +
      condition_with("ok-versioned", R"({"reference":"Patient/p1/_history/3"})") + "," +
      condition_with("ok-own-base", R"({"reference":"https://ehr.example/fhir/Patient/p1"})") +
      "," + condition_with("trailing-slash", R"({"reference":"Patient/p1/"})") + "," +
      condition_with("lower-case", R"({"reference":"patient/p1"})") + "," +
      condition_with("no-subject", "") + "," +
      condition_with("no-reference", R"({"display":"Jane"})") + "," +
      condition_with("contained", R"({"reference":"#p1"})") + "," +
      condition_with("bare-id", R"({"reference":"p1"})") + "," +
      condition_with("foreign-host", R"({"reference":"https://evil.example/fhir/Patient/p1"})") +
      "," + condition_with("other", R"({"reference":"Patient/other/"})") + "," +
      condition_with("urn", R"({"reference":"urn:uuid:123"})") + "," +
      R"({"resource":{"resourceType":"Medication","id":"m1"}}]})";
  auto rec = strict_record(bundle);
  EXPECT_EQ(rec.patient_id(), "p1");
  std::vector<std::string> kept;
  for (const auto& c : rec.conditions()) kept.push_back(c.ref);
  EXPECT_THAT(kept, ::testing::ElementsAre("Condition/ok-own-base", "Condition/ok-relative",
                                           "Condition/ok-versioned"));
  EXPECT_EQ(rec.medications().size(), 1u);  // no subject by definition
  std::map<std::string, std::string> why;
  for (const auto& i : rec.ignored()) why[i.ref] = i.reason;
  EXPECT_EQ(why.size(), 9u);
  EXPECT_EQ(why["Condition/trailing-slash"], "subject reference is not of the form Patient/p1");
  EXPECT_EQ(why["Condition/lower-case"], "subject reference is not of the form Patient/p1");
  EXPECT_EQ(why["Condition/bare-id"], "subject reference is not of the form Patient/p1");
  EXPECT_EQ(why["Condition/other"], "subject reference is not of the form Patient/p1");
  EXPECT_EQ(why["Condition/no-subject"], "no subject: cannot be tied to Patient/p1");
  EXPECT_EQ(why["Condition/no-reference"], "subject has no reference");
  EXPECT_EQ(why["Condition/contained"], "subject is a contained resource, not Patient/p1");
  EXPECT_EQ(why["Condition/foreign-host"],
            "subject is Patient/p1 on another server than the input's");
  EXPECT_EQ(why["Condition/urn"], "subject urn:uuid is not the fullUrl of Patient/p1");
}

TEST(PatientRecordStrict, UrnUuidSubjectsResolveThroughThePatientsFullUrl) {
  auto rec = strict_record(R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":"urn:uuid:aaa","resource":{"resourceType":"Patient","id":"p1"}},
      {"fullUrl":"urn:uuid:bbb","resource":{"resourceType":"Condition","subject":{"reference":"urn:uuid:aaa"}}},
      {"fullUrl":"urn:uuid:ccc","resource":{"resourceType":"Condition","subject":{"reference":"Patient/p1"}}},
      {"fullUrl":"urn:uuid:ddd","resource":{"resourceType":"Condition","subject":{"reference":"https://ehr.example/Patient/p1"}}}]})");
  std::vector<std::string> kept;
  for (const auto& c : rec.conditions()) kept.push_back(c.ref);
  EXPECT_THAT(kept, ::testing::ElementsAre("urn:uuid:bbb", "urn:uuid:ccc"));
  ASSERT_EQ(rec.ignored().size(), 1u);  // no absolute fullUrl: no URL base is the input's own
  EXPECT_EQ(rec.ignored()[0].ref, "urn:uuid:ddd");
}

TEST(PatientRecordStrict, SubjectsNamingSeveralPatientsAndNoPatientIsAnError) {
  const std::string bundle = R"({"resourceType":"Bundle","type":"collection","entry":[
      {"resource":{"resourceType":"Condition","id":"a","subject":{"reference":"Patient/p1"}}},
      {"resource":{"resourceType":"Condition","id":"b","subject":{"reference":"Patient/p2"}}}]})";
  EXPECT_THROW(strict_record(bundle), RecordError);
  auto rec = PatientRecord::Builder("p2")
                 .strict_subjects()
                 .add_document(fhir::JsonDocument::parse(bundle))
                 .build();
  ASSERT_EQ(rec.conditions().size(), 1u);
  EXPECT_EQ(rec.conditions()[0].ref, "Condition/b");
}

TEST(PatientRecordStrict, TheLenientBuilderStillKeepsWhatItCannotCompare) {
  // Server pulls search by subject, so the server has already matched them.
  auto rec = PatientRecord::Builder("p1")
                 .add_document(fhir::JsonDocument::parse(
                     R"({"resourceType":"Condition","id":"c","subject":{"reference":"p1"}})"))
                 .build();
  EXPECT_EQ(rec.conditions().size(), 1u);
}

// Issue #12: one number no double holds rejected the whole document; now
// only the resource holding it is lost, listed as unreadable.
TEST(PatientRecord, ANumberOutOfRangeEndsItsResourceOnly) {
  fhir::ParseLimits keep;
  keep.keep_out_of_range_numbers = true;
  auto rec = PatientRecord::from_bundle(fhir::JsonDocument::parse(R"({"resourceType":"Bundle",
    "type":"collection","total":1e400,"entry":[
      {"resource":{"resourceType":"Patient","id":"p1"}},
      {"resource":{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},
        "code":{"text":"renal cell carcinoma"},"onsetAge":{"value":1e400}}},
      {"resource":{"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p1"},
        "code":{"text":"renal cell carcinoma"}}}]})",
                                                                  keep));
  ASSERT_EQ(rec.conditions().size(), 1u);
  EXPECT_EQ(rec.conditions()[0].ref, "Condition/c2");
  ASSERT_EQ(rec.ignored().size(), 1u);
  EXPECT_EQ(rec.ignored()[0].ref, "Condition/c1");
  EXPECT_EQ(rec.ignored()[0].reason,
            "unreadable Condition: number 1e400 is outside the range of a double");
  ASSERT_EQ(rec.unreadable().size(), 1u);
  EXPECT_EQ(rec.unreadable()[0].type, "Condition");
  EXPECT_EQ(rec.unreadable()[0].ref, "Condition/c1");
}

// An impossible date drops its Condition, and the Considerations say that a
// Condition could not be read, so nothing downstream claims the record is
// complete.
TEST(PatientRecord, UnreadableConditionsAreCountedForTheGoalEngine) {
  auto c = run({patient(), R"({"resourceType":"Condition","id":"bad-date",
      "subject":{"reference":"Patient/p1"},"code":{"text":"renal cell carcinoma"},
      "recordedDate":"2023-02-30"})",
                R"({"resourceType":"Condition","id":"bad-month",
      "subject":{"reference":"Patient/p1"},"code":{"text":"renal cell carcinoma"},
      "onsetDateTime":"2023-13-01"})"});
  EXPECT_EQ(c.unreadable_conditions,
            (std::vector<std::string>{"Condition/bad-date", "Condition/bad-month"}));
}

}  // namespace
}  // namespace mst::mappings
