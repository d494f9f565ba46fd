// Internal to the extractor: what was read from each resource, before the
// considerations are derived from it. Readers append to `ignored`; derivers
// only combine readings.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mst/fhir/datatypes.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/considerations.h"
#include "mst/mappings/patient_record.h"

namespace mst::mappings::detail {

// What a deriver may read besides its inputs: the code tables and the
// as-of time. Derivers return what they derive; only readers write, through
// a Context.
struct Basis {
  const CodeTables& tables;
  fhir::DateTime as_of;

  // True when `when` is absent or older than the window of `recency_key`.
  bool stale(const std::optional<fhir::DateTime>& when, const std::string& recency_key) const;
  // True when `when` lies within the "new symptom" window before as_of.
  bool is_new(const std::optional<fhir::DateTime>& when) const;
  // True when the value was recorded after as_of (not known then).
  bool after_as_of(const fhir::DateTime& when) const;
};

// A reader's view: the Basis and the considerations it lists what it could
// not read (and the data gaps it noticed) in.
struct Context : Basis {
  Considerations& out;

  void ignore(const std::string& ref, std::string reason) const {
    out.ignored.push_back({ref, std::move(reason)});
  }
  // `ref` holds a fact read from text, not from a code.
  void from_text(const std::string& ref) const { out.read_from_text.push_back(ref); }
  void gap(std::string consideration, std::string detail) const {
    out.data_gaps.push_back({std::move(consideration), std::move(detail)});
  }
};

// A Condition the tables know, after the evidence rules.
struct ConditionFacts {
  std::string ref;
  bool active = true;
  std::string clinical_status;  // as sent, may be empty
  std::optional<fhir::DateTime> onset;
  bool onset_is_recorded_date = false;
  std::optional<fhir::DateTime> recorded;
  SourceCode code;  // the coding (or text) that matched
  std::string label;
  const CancerEntry* cancer = nullptr;
  const MetastasisEntry* metastasis = nullptr;
  const ComorbidityEntry* comorbidity = nullptr;
  const FindingEntry* finding = nullptr;
  std::vector<const SpineSiteEntry*> levels;   // vertebrae named by bodySite
  std::vector<const SpineSiteEntry*> regions;  // level-less spinal sites
  std::vector<std::string> other_sites;        // non-spinal bodySites (code or text)
  std::string related_primary;                 // "Condition/id" from the related extension
  std::optional<SourceCode> histology;
  std::string note;  // free text of note[] (preferences)
};

// One value read from an Observation or one of its components.
struct Reading {
  const ObservationEntry* entry = nullptr;
  std::string ref;
  std::optional<fhir::DateTime> when;
  std::optional<double> number;  // scores, quantities (canonical unit), booleans as 0/1
  std::string token;             // grades
  std::string text;              // text values and labels
  std::vector<const SpineSiteEntry*> levels;  // bodySite vertebrae
  bool from_text = false;                     // code or value read from text
  std::string lesion_key() const;             // "T12,L1", or "" when no level
};

struct CarePlanFacts {
  std::string ref;
  std::vector<ActiveTreatment> treatments;
};

// Readers: append what they could read; malformed resources go to ignored.
void read_condition(const Context& ctx, const RecordResource& r, std::vector<ConditionFacts>& out);
// Observations coded as a metastasis or clinical finding become ConditionFacts.
void read_observation(const Context& ctx, const RecordResource& r, std::vector<Reading>& out,
                      std::vector<ConditionFacts>& findings);
void read_care_plan(const Context& ctx, const RecordResource& r,
                    const std::set<std::string>& cancer_conditions,
                    std::vector<CarePlanFacts>& out);

// A completed spinal operation inside recency.spinal-surgery; others are
// skipped (older history) or ignored (not done, unreadable, unknown code).
void read_procedure(const Context& ctx, const RecordResource& r, std::vector<SpinalSurgery>& out);

// Medication resources of the record by "Medication/id" and by fullUrl:
// the node and its ref.
using MedicationIndex = std::map<std::string, std::pair<fhir::Node, std::string>, std::less<>>;
MedicationIndex index_medications(const PatientRecord& record);

// A MedicationRequest, MedicationAdministration or MedicationStatement of a
// cancer medication that is ongoing as of ctx.as_of (read_treatments.cc);
// other medicines are skipped quietly, unreadable ones ignored.
void read_medication_use(const Context& ctx, const RecordResource& r, const MedicationIndex& meds,
                         std::vector<ActiveTreatment>& out);
// A chemotherapy or radiotherapy Procedure (care-plans.json activity codes
// in code or category). False when the Procedure is not a cancer treatment.
bool read_treatment_procedure(const Context& ctx, const RecordResource& r,
                              std::vector<ActiveTreatment>& out);

// Patient.deceased[x] into out.death. An absent element asserts nothing; a
// malformed one is listed in ignored and, being a modifier, read as unknown.
void read_death(const Context& ctx, const RecordResource& patient);

// A statement of preference read from a resource other than an
// Observation or Condition (read_preferences.cc): `text` is classified by
// derive_preferences with the preference phrases; `token` when the resource
// itself says what (a refused radiotherapy Procedure, a Consent).
struct PreferenceStatement {
  std::string token;  // a treatment-preference grade, or empty
  std::string text;
  std::string ref;
  std::optional<fhir::DateTime> when;
  PreferenceSource source = PreferenceSource::kPatient;
};

// Goal with expressedBy Patient or RelatedPerson: its description and notes.
// Goals set by clinicians (or ours) are not preferences: false, untouched.
bool read_goal_preference(const Context& ctx, const RecordResource& r,
                          std::vector<PreferenceStatement>& out);
// Consent (scope treatment or any active Consent naming a treatment): a
// permit agrees to what it names, a deny declines it.
bool read_consent(const Context& ctx, const RecordResource& r,
                  std::vector<PreferenceStatement>& out);
// Procedure status=not-done with a refusal statusReason (fhir-coding.md
// §16.2): the patient declined that operation or radiotherapy.
bool read_procedure_refusal(const Context& ctx, const RecordResource& r,
                            std::vector<PreferenceStatement>& out);
// ServiceRequest that is a portable medical order (POLST, category LOINC
// 100823-4, or a POLST answer in orderDetail): a clinician's order that
// constrains the plan, never a preference of the patient's.
bool read_portable_order(const Context& ctx, const RecordResource& r,
                         std::vector<PreferenceStatement>& out);
// How the plan names a POLST answer ("comfort-focused", "selective-treatment",
// "full-treatment").
std::string portable_order_text(std::string_view token);

// What the readers found, which the derivers combine.
struct Inputs {
  std::vector<ConditionFacts> conditions;  // sorted by ref
  std::vector<Reading> readings;           // sorted by (key, when, ref)
  std::vector<CarePlanFacts> plans;
  std::vector<ActiveTreatment> treatments;  // from medications and Procedures
  std::vector<PreferenceStatement> stated;  // Goals, Consents, refused Procedures
  std::string gender;                       // Patient.gender
  std::string patient_ref;
};

// The data gaps a deriver noticed, in the order it noticed them.
using Gaps = std::vector<DataGap>;

// What a deriver returns: its part of the considerations and its gaps.
template <typename T>
struct Derived {
  T value;
  Gaps gaps;
};

// The disease itself: the spine, other metastases and the primary cancer.
struct DiseaseFacts {
  std::optional<PrimaryCancer> cancer;
  SpinalDisease spine;
  OtherMetastases other_metastases;
  Evidence metastasis_conditions;  // Condition refs only
  Evidence primary_conditions;     // Condition refs only
  Gaps gaps;
};

DiseaseFacts derive_cancer_and_metastases(const Basis& basis, const Inputs& in);
Derived<QualityOfLife> derive_quality_of_life(const Basis& basis, const Inputs& in);
Derived<GeneralCondition> derive_general_condition(const Basis& basis, const Inputs& in);
Derived<NeurologicalStatus> derive_neurology(const Basis& basis, const Inputs& in);
Derived<MechanicalStatus> derive_mechanics(const Basis& basis, const Inputs& in);
// Scores Tokuhashi from what the derivers before it found in `earlier`
// (performance status, spine, other metastases, cancer, palsy).
Derived<LifeExpectancy> derive_life_expectancy(const Basis& basis, const Inputs& in,
                                               const Considerations& earlier);
Derived<std::vector<ActiveTreatment>> derive_treatments(const Basis& basis, const Inputs& in);
Derived<std::vector<Preference>> derive_preferences(const Basis& basis, const Inputs& in);

// The safety net. A resource a reader ignored whose words name a
// safety-relevant finding, not negated, is a Mention; once `used` is final,
// each Mention no fact rests on becomes an Alert (sorted by ref).
struct Mention {
  const RecordResource* resource = nullptr;
  std::string finding;  // "cord compression; weakness"
};
void screen_ignored(const RecordResource& r, std::vector<Mention>& out);
void raise_alerts(const Context& ctx, const std::vector<Mention>& mentions);
// A code read through a site ConceptMap whose equivalence is not exact
// (narrower, specializes, inexact, relatedto) adds a data gap asking a
// clinician to confirm it; once per resource and translation.
void note_site_map(const Context& ctx, const std::string& ref,
                   const std::optional<SiteMapped>& via);

// Helpers shared by derivers.
void add_evidence(Evidence& e, const std::string& ref);
void merge_evidence(Evidence& into, const Evidence& from);
// The latest reading of `key` (by when, then ref); nullptr when none.
const Reading* latest(const Inputs& in, std::string_view key);
// All readings of `key`, oldest first.
std::vector<const Reading*> all_of(const Inputs& in, std::string_view key);
template <typename T>
Fact<T> fact_from(const Basis& basis, const Reading& r, T value) {
  Fact<T> f;
  f.value = value;
  add_evidence(f.evidence, r.ref);
  f.when = r.when;
  f.stale = basis.stale(r.when, r.entry->recency);
  return f;
}
std::string format_number(double v);
std::string when_text(const std::optional<fhir::DateTime>& when);

}  // namespace mst::mappings::detail
