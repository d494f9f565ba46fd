// The fixture patient (fixture_server.h) held by a MemoryFhirServer, a
// pipeline over it, and the edits a clinician makes between runs: the setup
// the write-back tests on the in-memory server share.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "mst/adapter/pipeline/pipeline.h"
#include "support/fixture_server.h"
#include "support/memory_fhir_server.h"

namespace mst::adapter::testing {

// Mix into a fixture (`class T : public ::testing::Test, protected
// FixtureStore`): the store starts holding every resource of the fixture.
class FixtureStore {
 protected:
  FixtureStore() : tables_(mappings::CodeTables::load({kTables}, kCanonical)) {
    store_.put_bundle(read_file(kFixture));
  }

  // One pipeline run for the fixture patient, reading and writing the store.
  PatientRun run_on_store(const PipelineSettings& settings) {
    Pipeline pipeline(&store_, tables_, thresholds_, settings);
    return pipeline.run_safely(kPatient);
  }

  // `ref` as a clinician leaves it: `from` replaced by `to` in its JSON.
  void edit(const std::string& ref, const std::string& from, const std::string& to) {
    std::string json = store_.get(ref);
    const auto at = json.find(from);
    ASSERT_NE(at, std::string::npos) << from << " in " << json;
    json.replace(at, from.size(), to);
    store_.put(json);
  }

  // Changes an input (the pain score, 4 to 9) so that the next run revises
  // the plan.
  void worsen_pain() { edit("Observation/mst-p02-obs-pain", "\"value\":4", "\"value\":9"); }

  mappings::CodeTables tables_;
  RuleThresholds thresholds_;
  MemoryFhirServer store_;
};

}  // namespace mst::adapter::testing
