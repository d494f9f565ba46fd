// The treatment considerations a spine-oncology team weighs, derived from one
// patient's FHIR record as of one day. Every fact carries the references
// ("Type/id") of the resources it came from; what could not be derived is
// listed in data_gaps, what could not be read in ignored.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mst/fhir/datetime.h"

namespace mst::mappings {

// References ("Type/id") of the resources a fact rests on, sorted, unique.
using Evidence = std::vector<std::string>;

// A code as it appeared in the source data.
struct SourceCode {
  std::string system;
  std::string code;
  std::string display;
};

// A value with its provenance. `when` is the effective/onset time of the
// source; `stale` is set when it is older than the recency window of its kind.
template <typename T>
struct Fact {
  T value{};
  Evidence evidence;
  std::optional<fhir::DateTime> when = {};
  bool stale = false;
};

// ---- Type of cancer -------------------------------------------------------

// Response to conventional external-beam radiotherapy (NOMS "O").
enum class Radiosensitivity { kUnknown, kSensitive, kResistant };

struct PrimaryCancer {
  std::string key;    // code-table key, e.g. "kidney", "breast", "myeloma"
  std::string label;  // e.g. "Renal cell carcinoma"
  Radiosensitivity radiosensitivity = Radiosensitivity::kUnknown;
  std::optional<int> tokuhashi_points;  // revised Tokuhashi 2005 primary-site points
  bool haematological = false;          // lymphoma/myeloma/leukaemia: no surgery-first logic
  SourceCode code;
  Evidence evidence;
  std::string primary_site = {};             // e.g. "kidney"
  std::optional<SourceCode> histology = {};  // mCODE histology-morphology-behavior, when sent
};

// ---- Number and location of spinal tumours --------------------------------

enum class SinsLocation { kJunctional, kMobile, kSemiRigid, kRigid };
enum class SpineRegion { kCervical, kThoracic, kLumbar, kSacral };

struct VertebralLevel {
  std::string name;  // "C1".."C7", "T1".."T12", "L1".."L5", "S1".."S5"
  int ordinal = 0;   // C1 = 1 ... S5 = 29: craniocaudal order, adjacency = +1
  SpineRegion region = SpineRegion::kCervical;
  SinsLocation sins_location = SinsLocation::kMobile;
};

struct SpinalLesion {
  VertebralLevel level;
  Evidence evidence;
};

struct SpinalDisease {
  // True when any active spinal (or bone, with a spinal body site) metastasis
  // Condition or imaging finding exists, even if no level could be read.
  bool present = false;
  std::vector<SpinalLesion> lesions;  // one per distinct level, craniocaudal order
  bool any_junctional = false;
  bool contiguous = false;  // all levels form one run (a "single area" for Patchell)
  Evidence evidence;
  std::vector<SpineRegion> regions = {};  // distinct regions, from levels and region-only sites
  std::optional<Fact<int>> stated_count = {};  // a documented count of vertebral metastases
};

struct OtherMetastases {
  bool visceral = false;  // lung, liver, adrenal, ... (Tokuhashi "major internal organs")
  bool brain = false;
  bool extraspinal_bone = false;
  Evidence evidence;
};

// ---- Current cancer treatment ---------------------------------------------

enum class TreatmentKind {
  kChemotherapy,
  kRadiotherapy,
  kEndocrine,
  kImmunotherapy,
  kTargeted,
  kBoneTargeted,
  kOtherCancerTreatment,
};

// A cancer treatment from a CarePlan, a medication order, administration or
// statement, or a chemotherapy/radiotherapy Procedure. Ongoing unless `end`
// lies before the as-of day (a recent radiotherapy course kept for rule 19).
struct ActiveTreatment {
  TreatmentKind kind = TreatmentKind::kOtherCancerTreatment;
  std::string label;  // the plan title or activity, the drug, or the procedure
  std::optional<fhir::DateTime> start;
  std::optional<fhir::DateTime> end;
  Evidence evidence;
  std::string status = {};  // the source's status: "active", "on-hold", "completed", ...
};

// A spinal decompression or stabilisation already done, inside the
// extractor's recency window (rule row 19: post-operative radiotherapy).
struct SpinalSurgery {
  std::string label;  // e.g. "Decompression of spinal cord"
  std::optional<fhir::DateTime> when = {};
  Evidence evidence;
};

// ---- Life expectancy --------------------------------------------------------

// Survival bands as the revised Tokuhashi 2005 paper states them.
enum class TokuhashiBand { kUnder6Months, kAtLeast6Months, kAtLeast12Months };

struct TokuhashiScore {
  bool complete = false;              // all six inputs known
  int total = 0;                      // meaningful only when complete
  std::optional<TokuhashiBand> band;  // only when complete
  std::vector<std::string> missing;   // names of the inputs that were missing
  Evidence evidence;
  bool stated = false;                   // total documented by a clinician, not computed
  std::vector<std::string> inputs = {};  // "general condition: KPS 70 -> 1", one per known input
};

struct LifeExpectancy {
  std::optional<Fact<double>> stated_months;  // a clinician's stated estimate
  TokuhashiScore tokuhashi;
  // A coded finding of limited life expectancy ("Terminal illness", palliative care).
  std::optional<Fact<std::string>> poor_prognosis = {};
};

// ---- Quality of life --------------------------------------------------------

enum class Ambulation { kUnknown, kIndependent, kWithAid, kNonAmbulatory };

struct QualityOfLife {
  std::optional<Fact<double>> pain_score;  // 0-10 numeric rating
  std::optional<Fact<int>> ecog;           // 0-5
  std::optional<Fact<int>> karnofsky;      // 0-100
  bool ecog_derived = false;               // converted from Karnofsky (not documented as such)
  bool karnofsky_derived = false;          // converted from ECOG
  Fact<Ambulation> ambulation{Ambulation::kUnknown, {}, std::nullopt, false};
  std::optional<fhir::DateTime> non_ambulatory_since;
  bool mechanical_pain = false;             // pain on movement/loading, relieved lying down
  std::optional<Fact<bool>> new_back_pain;  // back pain with onset inside the "new" window
};

// ---- General condition and comorbidities ----------------------------------

enum class ComorbidityKind {
  kAnaemia,
  kDiabetes,
  kHypertension,
  kCardiovascular,
  kRenal,
  kOther,
};

struct Comorbidity {
  ComorbidityKind kind = ComorbidityKind::kOther;
  std::string label;
  // "condition" when a Condition says so, otherwise the measured basis,
  // e.g. "haemoglobin 7.9 g/dL below 8.0".
  std::string basis;
  bool severe = false;  // severe anaemia, uncontrolled diabetes/hypertension (thresholds table)
  Evidence evidence;
};

struct GeneralCondition {
  std::vector<Comorbidity> comorbidities;
  std::optional<Fact<double>> haemoglobin_g_dl;
  std::optional<Fact<double>> hba1c_percent;
  std::optional<Fact<double>> systolic_mmhg;
  std::optional<Fact<double>> diastolic_mmhg;
  std::optional<Fact<double>> albumin_g_dl;
};

// ---- Neurological and mechanical status ------------------------------------

enum class EsccGrade { k0, k1a, k1b, k1c, k2, k3 };

struct NeurologicDeficit {
  std::string label;  // e.g. "Lower limb weakness"
  std::optional<fhir::DateTime> onset;
  bool is_new = false;  // onset inside the "new symptom" window (thresholds table)
  Evidence evidence;
  bool cord_compression = false;  // compression of the cord or cauda equina
};

struct NeurologicalStatus {
  std::optional<Fact<EsccGrade>> escc;  // worst grade documented
  std::vector<NeurologicDeficit> deficits;
  std::optional<Fact<char>> frankel;  // 'A'..'E'
  std::optional<Fact<char>> asia;     // 'A'..'E'
  bool any_new_deficit() const {
    for (const auto& d : deficits) {
      if (d.is_new) return true;
    }
    return false;
  }
};

enum class SinsBand { kStable, kIndeterminate, kUnstable };

// Points of the six SINS components (Fisher 2010); absent when unknown.
struct SinsComponents {
  std::optional<int> location;
  std::optional<int> pain;
  std::optional<int> bone_lesion;
  std::optional<int> alignment;
  std::optional<int> collapse;
  std::optional<int> posterolateral;
};

struct MechanicalStatus {
  std::optional<Fact<int>> sins_total;  // stated, or computed from all six components
  bool sins_computed = false;           // total computed from components
  SinsComponents components;
  std::vector<std::string> missing_components;  // when a total could not be computed
  std::optional<SinsBand> band;
  bool subluxation = false;            // alignment scored 4
  bool pathological_fracture = false;  // a vertebral pathological/compression fracture
  Evidence evidence;
  std::string lesion_level = {};       // level of the lesion the SINS belongs to, if stated
  bool instability_diagnosis = false;  // a "spinal instability" Condition
};

// ---- Patient preferences ------------------------------------------------------

enum class PreferenceKind {
  kDeclinesSurgery,
  kDeclinesRadiotherapy,
  kComfortFocused,
  // A clinician's or the MDT's decision that the patient is not for surgery
  // (always PreferenceSource::kClinician): it stops elective surgical
  // referrals, never an emergency (docs/clinical-rules.md hard rule 5).
  kNotForSurgery,
  kOther,
};

// Who made the statement. A clinician's "not for surgery" is a clinical
// decision, never the patient's preference (issue #11).
enum class PreferenceSource {
  kPatient,        // the patient's words, or a record that says whose they are not
  kRelatedPerson,  // Goal.expressedBy / Consent.performer a RelatedPerson
  kClinician,      // a clinical decision recorded about the patient
};

// The latest statement on each subject (surgery, radiotherapy, comfort
// care): a later agreement or Consent revokes an earlier refusal.
struct Preference {
  PreferenceKind kind = PreferenceKind::kOther;
  std::string text;  // the patient's words or the coded display
  Evidence evidence;
  PreferenceSource source = PreferenceSource::kPatient;
  std::optional<fhir::DateTime> when = {};
  // What the latest statement replaced, e.g. "declined surgery on 2026-10-01"
  // when the patient now agrees; empty when nothing was replaced.
  std::string supersedes = {};
};

// ---- Bookkeeping --------------------------------------------------------------

struct DataGap {
  std::string consideration;  // e.g. "mechanical status"
  std::string detail;         // e.g. "no SINS total and 2 of 6 components missing"
};

struct IgnoredResource {
  std::string ref;     // "Type/id", or "entry[3]" when there is no id
  std::string reason;  // one line, no clinical values
};

// A resource no fact rests on although its text names a finding that
// matters for safety ("MRI: cord compression at T10"): shown at the top of
// the plan and in explain, never as a silent "not used" line.
struct Alert {
  std::string ref;      // "Type/id"
  std::string finding;  // the phrases found, e.g. "cord compression; weakness"
  std::string reason;   // why no fact rests on it
};

// Patient.deceased[x], a modifier element in R4 (fhir-coding.md §16.8):
// deceasedBoolean true, or a deceasedDateTime on or before as_of.
struct Death {
  bool recorded = false;
  std::optional<fhir::DateTime> when = {};
  Evidence evidence;
};

struct Considerations {
  std::string patient_ref;  // "Patient/id"
  fhir::DateTime as_of = fhir::DateTime::from_ymd(1970, 1, 1);

  Death death;
  std::optional<PrimaryCancer> cancer;
  SpinalDisease spine;
  OtherMetastases other_metastases;
  std::vector<ActiveTreatment> treatments;
  std::vector<SpinalSurgery> spinal_surgeries;
  LifeExpectancy life_expectancy;
  QualityOfLife quality_of_life;
  GeneralCondition general_condition;
  NeurologicalStatus neurology;
  MechanicalStatus mechanics;
  std::vector<Preference> preferences;

  // Condition refs only: what a plan `addresses` (R4 Reference(Condition)).
  Evidence metastasis_conditions;
  Evidence primary_conditions;
  Evidence used;  // every resource any fact rests on (supportingInfo, Provenance.entity)

  std::vector<DataGap> data_gaps;
  std::vector<IgnoredResource> ignored;
  // Conditions that could not be read (also in `ignored`): any of them may
  // be the spinal disease, so "none found" cannot be said. Sorted.
  Evidence unreadable_conditions = {};

  // Resources in `used` whose facts rest on text (a synonym found in
  // CodeableConcept.text, a value parsed from a string), not on a code:
  // shown as "read from text: confirm". Sorted, unique.
  Evidence read_from_text = {};
  std::vector<Alert> alerts = {};  // sorted by ref
};

}  // namespace mst::mappings
