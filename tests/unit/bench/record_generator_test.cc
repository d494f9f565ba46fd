// The benchmark record must stay what docs/performance.md says it is: exact
// counts, the same bytes for the same seed, and a record the extractor reads
// whole into a plan (else the benchmarks would time an error path).
#include "record_generator.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "mst/adapter/goals/goal_engine.h"
#include "mst/fhir/json.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/extract.h"
#include "mst/mappings/patient_record.h"

namespace mst::bench {
namespace {

std::map<std::string, int> count_types(const std::string& json) {
  std::map<std::string, int> counts;
  auto doc = fhir::JsonDocument::parse(json);
  for (fhir::Node e : doc.root().array("entry")) {
    ++counts[std::string(*e["resource"].string("resourceType"))];
  }
  return counts;
}

TEST(RecordGenerator, SameSpecSameBytesOtherSeedOtherBytes) {
  RecordSpec spec;
  spec.observations = 400;
  const std::string a = record_json(spec);
  EXPECT_EQ(a, record_json(spec));
  spec.seed = 2;
  EXPECT_NE(a, record_json(spec));
}

TEST(RecordGenerator, WritesExactlyTheRequestedCounts) {
  RecordSpec spec;
  spec.observations = 777;
  spec.conditions = 40;
  spec.care_plans = 9;
  auto counts = count_types(record_json(spec));
  EXPECT_EQ(counts["Patient"], 1);
  EXPECT_EQ(counts["Observation"], 777);
  EXPECT_EQ(counts["Condition"], 40);
  EXPECT_EQ(counts["CarePlan"], 9);
}

TEST(RecordGenerator, CollectionBundleHasNoRequests) {
  RecordSpec spec;
  spec.observations = 50;
  spec.transaction = false;
  auto doc = fhir::JsonDocument::parse(record_json(spec));
  EXPECT_EQ(doc.root().string("type"), "collection");
  for (fhir::Node e : doc.root().array("entry")) EXPECT_FALSE(e["request"].present());
}

TEST(RecordGenerator, TheDefaultRecordIsReadWholeAndGivesAPlan) {
  const RecordSpec spec;
  const std::string json = record_json(spec);
  EXPECT_GT(json.size(), 5u << 20);  // "several MB"
  auto record = mappings::PatientRecord::from_bundle(fhir::JsonDocument::parse(json));
  EXPECT_EQ(record.patient_id(), spec.patient_id);
  EXPECT_EQ(record.conditions().size(), 100u);
  EXPECT_EQ(record.observations().size(), 5000u);
  EXPECT_EQ(record.care_plans().size(), 20u);

  const auto tables = mappings::CodeTables::load({MST_SOURCE_DIR "/mappings/tables"});
  const auto c = mappings::extract(record, tables, spec.as_of);
  for (const auto& i : c.ignored) {
    EXPECT_EQ(i.reason.find("unreadable"), std::string::npos) << i.ref << ": " << i.reason;
  }
  EXPECT_TRUE(c.spine.present);
  EXPECT_GE(c.spine.lesions.size(), 4u);
  EXPECT_TRUE(c.mechanics.sins_total.has_value());
  EXPECT_TRUE(c.neurology.escc.has_value());
  EXPECT_TRUE(adapter::propose(c).applicable);
}

}  // namespace
}  // namespace mst::bench
