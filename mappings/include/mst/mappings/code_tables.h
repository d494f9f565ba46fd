// The code tables (mappings/tables/*.json): codes -> clinical meaning, and
// the thresholds the extractor compares against. Loaded once at start from
// one or more directories, validated whole, then read-only and thread-safe.
//
// Precedence: directories are read in the order given (the shipped tables
// first, then site directories), the *.json files of one directory in
// byte-wise file-name order. Within a table kind, an entry whose key was
// already defined replaces it, unless it says "merge": true (its code lists,
// synonyms, answers and units are added, its other fields override) or
// "remove": true (the key is dropped). When two entries of one kind claim the
// same code, the entry from the later file wins; two claims from the same
// file are an error. docs/considerations.md describes every field.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mst/fhir/datatypes.h"
#include "mst/fhir/error_kind.h"
#include "mst/mappings/canonical_base.h"
#include "mst/mappings/code_systems.h"
#include "mst/mappings/concept_map.h"
#include "mst/mappings/considerations.h"
#include "mst/mappings/vertebral_level.h"

namespace mst::mappings {

// A table that cannot be read or is invalid. what() names the file and, when
// there is one, the entry: "observations.json: entry 'ecog': answers[2]: ...".
class CodeTableError : public ::mst::Error {
 public:
  CodeTableError(std::string file, std::string entry, const std::string& message);
  ErrorKind error_kind() const override { return ErrorKind::kConfiguration; }
  const std::string& file() const { return file_; }
  const std::string& entry() const { return entry_; }

 private:
  std::string file_;
  std::string entry_;
};

// Where a metastasis is. kBone and kUnspecified are spinal only when a body
// site names a vertebra; kSpine and kSpinalCanal always are.
enum class MetastasisSite {
  kSpine,
  kSpinalCanal,
  kBone,
  kUnspecified,
  kVisceral,
  kBrain,
  kBoneMarrow,
  kNodal,
  kOther,
};

struct CancerEntry {
  std::string key;
  std::string label;
  std::string primary_site;
  Radiosensitivity radiosensitivity = Radiosensitivity::kUnknown;
  std::string radiosensitivity_source;
  std::optional<int> tokuhashi_points;  // null when the code does not decide the tier
  std::string tokuhashi_category;
  bool haematological = false;
  // The code itself places the tumour in the vertebral column (C41.2): a
  // primary spinal tumour is spinal disease without a body site.
  bool in_spine = false;
  std::string source;
};

struct MetastasisEntry {
  std::string key;
  std::string label;
  MetastasisSite site = MetastasisSite::kUnspecified;
  std::optional<SpineRegion> region;
  std::string implies_primary;  // a CancerEntry key, or empty
  std::string source;
};

// One vertebra (level set) or a region / the spine as a whole (level unset).
struct SpineSiteEntry {
  std::string key;
  std::string label;
  std::optional<VertebralLevel> level;
  std::optional<SpineRegion> region;          // region entries; a level has its own
  std::optional<SinsLocation> sins_location;  // levels always; junction entries
  std::string source;
};

enum class ValueKind { kScore, kQuantity, kGrade, kBoolean, kPanel, kPresence, kText };

struct UnitConversion {
  double factor = 1.0;
  double offset = 0.0;  // value_in_unit = raw * factor + offset
};

// A coded answer: a number for scores, a token for grades.
using AnswerValue = std::variant<double, std::string>;

struct ObservationEntry {
  std::string key;
  std::string label;
  ValueKind value = ValueKind::kScore;
  std::string unit;  // canonical unit of a quantity
  std::map<std::string, UnitConversion, std::less<>> units;
  std::optional<double> min;
  std::optional<double> max;
  std::vector<int> allowed;         // permitted points, when not a plain range
  std::vector<std::string> grades;  // permitted grade tokens, in table order
  std::string recency;              // thresholds key of the staleness window
  bool per_lesion = false;
  // grade token -> normalised phrases (value kText)
  std::map<std::string, std::vector<std::string>, std::less<>> phrases;
  std::string source;
};

enum class FindingKind {
  kNeurologicalDeficit,
  kBackPain,
  kPathologicalFracture,
  kSpinalInstability,
  kPoorPrognosis,
  kTreatmentRefusal,
};

struct ComorbidityEntry {
  std::string key;
  std::string label;
  ComorbidityKind kind = ComorbidityKind::kOther;
  bool severe = false;
  std::string source;
};

struct FindingEntry {
  std::string key;
  std::string label;
  FindingKind finding = FindingKind::kNeurologicalDeficit;
  bool cord_compression = false;
  std::optional<Ambulation> ambulation;
  std::string source;
};

enum class CarePlanRole { kOncologyCategory, kActivity };

// A CarePlan category or activity code; activity codes are also read from
// Procedure.code (a chemotherapy or radiotherapy Procedure).
struct CarePlanEntry {
  std::string key;
  std::string label;
  CarePlanRole role = CarePlanRole::kActivity;
  std::optional<TreatmentKind> treatment;  // nullopt: an activity that is not a cancer treatment
  std::string source;
  std::optional<TreatmentKind> also = {};  // a second kind (chemoradiotherapy)
};

// A cancer drug or drug class (cancer-medications.json).
struct MedicationEntry {
  std::string key;
  std::string label;
  TreatmentKind treatment = TreatmentKind::kOtherCancerTreatment;
  std::string source;
};

struct MedicationMatch {
  const MedicationEntry* entry = nullptr;
  bool from_text = false;  // a synonym found in the text: "read from text: confirm"
};

enum class SurgeryKind { kDecompression, kStabilisation, kResection };

struct ProcedureEntry {
  std::string key;
  std::string label;
  SurgeryKind surgery = SurgeryKind::kDecompression;
  std::string source;
};

struct Threshold {
  std::string key;
  double value = 0;
  std::string unit;
  std::string citation;
};

// Spine sites a bodySite resolves to: the vertebrae it names, and the
// level-less entries (regions, junctions) it matched.
struct SpineSiteMatch {
  std::vector<const SpineSiteEntry*> levels;  // craniocaudal, unique
  const SpineSiteEntry* region = nullptr;
  bool spinal() const { return !levels.empty() || region != nullptr; }
};

// A lookup that matched through a site ConceptMap: the coding as sent and
// the translation that reached the entry.
struct SiteMapped {
  std::string source_system;
  std::string source_code;
  Translation translation;
};

class CodeTables {
 public:
  // Reads every *.json file of each directory (see the precedence above).
  // `canonical_base` replaces "{canonical}" in table systems. Throws
  // CodeTableError for a missing directory, unreadable file or invalid entry.
  static CodeTables load(const std::vector<std::filesystem::path>& dirs,
                         std::string_view canonical_base = kDefaultCanonicalBase);

  CodeTables(CodeTables&&) noexcept;
  CodeTables& operator=(CodeTables&&) noexcept;
  ~CodeTables();

  const std::string& canonical_base() const;
  // "{canonical}/CodeSystem/mst-observation", the adapter's own codes.
  const std::string& observation_system() const;
  // The files read, in load order.
  const std::vector<std::string>& files() const;

  // Installs the site's ConceptMaps (concept_map.h); call before the tables
  // are shared. Every lookup below then tries the codings as sent, then
  // their translations, then the text.
  void use_concept_maps(ConceptMapSet maps);
  // The installed maps; empty when none.
  const ConceptMapSet& concept_maps() const;

  // Lookups by CodeableConcept: exact codes (any system) first, then
  // ICD-10-CM patterns (longest prefix, then narrowest range), then the
  // translations of the site ConceptMaps, then the synonyms found in the
  // text as phrases, negation-aware (docs/considerations.md §4.1). Displays
  // are never matched. nullptr when nothing matches.
  // `via`, when given, says whether the match came through a site map.
  using Via = std::optional<SiteMapped>*;
  const CancerEntry* cancer(const fhir::CodeableConcept& cc, Via via = nullptr) const;
  const MetastasisEntry* metastasis(const fhir::CodeableConcept& cc, Via via = nullptr) const;
  const ComorbidityEntry* comorbidity(const fhir::CodeableConcept& cc, Via via = nullptr) const;
  const FindingEntry* finding(const fhir::CodeableConcept& cc, Via via = nullptr) const;
  const CarePlanEntry* care_plan(const fhir::CodeableConcept& cc, Via via = nullptr) const;
  const ObservationEntry* observation(const fhir::CodeableConcept& cc, Via via = nullptr) const;
  const ProcedureEntry* procedure(const fhir::CodeableConcept& cc, Via via = nullptr) const;
  // True when an ICD-10 coding of `cc` is a category (C79.5, C79) whose
  // subcodes the Condition tables tell apart: what it matched is less
  // specific than the record could have said.
  bool nonspecific_code(const fhir::CodeableConcept& cc) const;
  // A medication concept: RxNorm and other exact codes, then ATC codes by
  // their longest claimed prefix (L01BA04 under L01), then the site-map
  // translations of its codings (the same two steps), then the text, whole
  // or holding a synonym on word boundaries. entry is null when none matches.
  MedicationMatch cancer_medication(const fhir::CodeableConcept& cc) const;
  // A bodySite: coded vertebrae and regions (as sent, else translated), else
  // levels parsed from its text (vertebral_level.h), else region synonyms.
  SpineSiteMatch spine_site(const fhir::CodeableConcept& cc) const;

  const CancerEntry* cancer_by_key(std::string_view key) const;
  const ObservationEntry* observation_by_key(std::string_view key) const;
  const SpineSiteEntry* level_entry(std::string_view level_name) const;

  // The coded answer of `entry` among `cc`'s codings, else among their
  // site-map translations, if any.
  std::optional<AnswerValue> answer(const ObservationEntry& entry,
                                    const fhir::CodeableConcept& cc) const;

  // A threshold by key; every key the extractor reads is checked at load.
  const Threshold& threshold(std::string_view key) const;
  double value(std::string_view threshold_key) const { return threshold(threshold_key).value; }

  std::size_t size() const;  // total entries, for logs

  // The "system|code" tokens of every observation and clinical-finding
  // entry, sorted: what a server search for the patient's relevant
  // Observations asks for (text-only entries cannot be searched by code).
  std::vector<std::string> observation_search_codes() const;
  // The Condition tokens that may put a patient on a spine plan, sorted: how
  // a first sync finds the population without reading every Condition.
  // Metastases that are or may be spinal (spine, spinal canal, bone,
  // unspecified site), neurological deficits and compressions (the emergency
  // needs no spinal lesion), and haematological or spinal primary tumours
  // (their spine involvement is a bodySite on the primary).
  std::vector<std::string> population_search_codes() const;

  struct Impl;

 private:
  explicit CodeTables(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The thresholds keys the extractor reads; load() requires all of them.
const std::vector<std::string_view>& required_threshold_keys();

}  // namespace mst::mappings
