// Fuzz target: JSON -> PatientRecord -> extract() -> Considerations, the path
// every patient's data takes. The builder may refuse an input as no one
// patient's record (RecordError); after that nothing may throw, and what the
// extractor reports must hold together.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mst/fhir/errors.h"
#include "mst/fhir/json.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/extract.h"
#include "mst/mappings/patient_record.h"

namespace {

using namespace mst;

const mappings::CodeTables& tables() {
  static const mappings::CodeTables t =
      mappings::CodeTables::load({std::filesystem::path(MST_SOURCE_DIR) / "mappings" / "tables"});
  return t;
}

bool one_line(const std::string& s) {
  return !s.empty() && s.find('\n') == std::string::npos && s.find('\r') == std::string::npos;
}

// Evidence lists are sorted, unique, and name only resources of the record.
void check_evidence(const mappings::Evidence& e, const std::set<std::string>& known) {
  MST_FUZZ_CHECK(std::is_sorted(e.begin(), e.end()));
  MST_FUZZ_CHECK(std::adjacent_find(e.begin(), e.end()) == e.end());
  for (const auto& ref : e) MST_FUZZ_CHECK(known.count(ref) == 1 && one_line(ref));
}

void check(const mappings::PatientRecord& record, const mappings::Considerations& c) {
  std::set<std::string> known;
  if (record.patient()) known.insert(record.patient()->ref);
  for (const auto* list :
       {&record.conditions(), &record.observations(), &record.care_plans(), &record.procedures(),
        &record.medication_uses(), &record.medications(), &record.others()}) {
    for (const auto& r : *list) {
      MST_FUZZ_CHECK(one_line(r.ref));
      known.insert(r.ref);
    }
  }
  check_evidence(c.used, known);
  check_evidence(c.metastasis_conditions, known);
  check_evidence(c.primary_conditions, known);
  check_evidence(c.spine.evidence, known);
  for (const auto& lesion : c.spine.lesions) check_evidence(lesion.evidence, known);
  if (c.cancer) check_evidence(c.cancer->evidence, known);
  for (const auto& t : c.treatments) check_evidence(t.evidence, known);
  for (const auto& p : c.preferences) check_evidence(p.evidence, known);
  for (const auto& g : c.data_gaps) MST_FUZZ_CHECK(one_line(g.consideration) && one_line(g.detail));
  // Refs and reasons go into logs and the plan's note: one line each.
  for (const auto& i : c.ignored) MST_FUZZ_CHECK(one_line(i.ref) && one_line(i.reason));
  // Facts read from text are facts used; an alert names an unused resource.
  check_evidence(c.read_from_text, known);
  MST_FUZZ_CHECK(std::includes(c.used.begin(), c.used.end(), c.read_from_text.begin(),
                               c.read_from_text.end()));
  for (const auto& a : c.alerts) {
    MST_FUZZ_CHECK(known.count(a.ref) == 1 && one_line(a.finding) && one_line(a.reason));
    MST_FUZZ_CHECK(!std::binary_search(c.used.begin(), c.used.end(), a.ref));
  }
  MST_FUZZ_CHECK(std::is_sorted(c.alerts.begin(), c.alerts.end(),
                                [](const auto& x, const auto& y) { return x.ref < y.ref; }));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<mappings::PatientRecord> record;
  try {
    mappings::PatientRecord::Builder builder;
    builder.add_document(fhir::JsonDocument::parse(text));
    record.emplace(builder.build());
  } catch (const fhir::ParseError&) {
    return 0;
  } catch (const mappings::RecordError& e) {
    MST_FUZZ_CHECK(one_line(e.what()));
    return 0;
  }
  // Documented never to throw for bad input: anything escaping fails the run.
  static const fhir::DateTime as_of = *fhir::DateTime::parse("2026-11-20");
  const mappings::Considerations c = mappings::extract(*record, tables(), as_of);
  MST_FUZZ_CHECK(c.as_of == as_of);
  check(*record, c);
  // Pure: the same record gives the same considerations.
  const mappings::Considerations again = mappings::extract(*record, tables(), as_of);
  MST_FUZZ_CHECK(again.used == c.used && again.data_gaps.size() == c.data_gaps.size() &&
                 again.ignored.size() == c.ignored.size() &&
                 again.read_from_text == c.read_from_text &&
                 again.alerts.size() == c.alerts.size());
  return 0;
}
