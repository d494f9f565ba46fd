// A large synthetic patient record for benchmarks: one Bundle with a Patient,
// ~100 Conditions, thousands of Observations over several years and ~20
// CarePlans, coded as the code tables and fixtures code real data. The same
// spec always gives the same bytes (own PRNG, no std distributions).
#pragma once

#include <cstdint>
#include <string>

#include "mst/fhir/datetime.h"
#include "mst/fhir/json_value.h"

namespace mst::bench {

struct RecordSpec {
  std::uint64_t seed = 1;
  std::string patient_id = "bench-p1";
  int conditions = 100;     // at least the ~20 disease resources are always written
  int observations = 5000;  // exact count
  int care_plans = 20;      // at least the oncology plans are always written
  int years = 4;            // history before as_of
  bool transaction = true;  // transaction (PUT entries) or collection
  fhir::DateTime as_of = fhir::DateTime::from_ymd(2026, 11, 20);
};

// The Bundle as a value; record_json() is its compact text.
fhir::JsonValue generate_record(const RecordSpec& spec);
std::string record_json(const RecordSpec& spec);

}  // namespace mst::bench
