#include "mst/mappings/code_tables.h"

#include <algorithm>
#include <unordered_map>

#include "code_index.h"
#include "mst/mappings/text.h"
#include "site_translation.h"
#include "table_reader.h"

namespace mst::mappings {

using detail::Claim;
using detail::CodeIndex;
using detail::EntryView;
using detail::RawEntry;
using detail::TableReader;

CodeTableError::CodeTableError(std::string file, std::string entry, const std::string& message)
    : ::mst::Error((file.empty() ? std::string("code tables") : file) +
                   (entry.empty() ? std::string() : ": entry '" + entry + "'") + ": " + message),
      file_(std::move(file)),
      entry_(std::move(entry)) {}

namespace {

// What the extractor reads from each observation key, checked at load so a
// site table cannot silently change a measurement's shape.
struct ObservationSpec {
  std::string_view key;
  ValueKind value;
  std::vector<std::string_view> grades;
};

const std::vector<ObservationSpec>& observation_specs() {
  static const std::vector<ObservationSpec> specs{
      {"ecog", ValueKind::kScore, {}},
      {"karnofsky", ValueKind::kScore, {}},
      {"pain-score", ValueKind::kScore, {}},
      {"haemoglobin", ValueKind::kQuantity, {}},
      {"hba1c", ValueKind::kQuantity, {}},
      {"bp-panel", ValueKind::kPanel, {}},
      {"systolic", ValueKind::kQuantity, {}},
      {"diastolic", ValueKind::kQuantity, {}},
      {"albumin", ValueKind::kQuantity, {}},
      {"sins-total", ValueKind::kScore, {}},
      {"sins-location", ValueKind::kScore, {}},
      {"sins-pain", ValueKind::kScore, {}},
      {"sins-bone-lesion", ValueKind::kScore, {}},
      {"sins-alignment", ValueKind::kScore, {}},
      {"sins-collapse", ValueKind::kScore, {}},
      {"sins-posterolateral", ValueKind::kScore, {}},
      {"escc-grade", ValueKind::kGrade, {"0", "1a", "1b", "1c", "2", "3"}},
      {"frankel", ValueKind::kGrade, {"A", "B", "C", "D", "E"}},
      {"asia", ValueKind::kGrade, {"A", "B", "C", "D", "E"}},
      {"neurological-deficit", ValueKind::kBoolean, {}},
      {"life-expectancy", ValueKind::kQuantity, {}},
      {"tokuhashi-total", ValueKind::kScore, {}},
      {"vertebral-metastasis-count", ValueKind::kScore, {}},
      {"extraspinal-bone-metastasis-count", ValueKind::kScore, {}},
      {"internal-organ-metastasis", ValueKind::kGrade, {"none", "removable", "unremovable"}},
      {"spinal-lesion", ValueKind::kPresence, {}},
      {"pathological-fracture", ValueKind::kBoolean, {}},
      {"ambulation", ValueKind::kGrade, {"independent", "with-aid", "non-ambulatory"}},
      {"mechanical-pain", ValueKind::kBoolean, {}},
      {"treatment-preference",
       ValueKind::kGrade,
       {"declines-surgery", "declines-radiotherapy", "comfort-focused", "full-treatment",
        "selective-treatment", "accepts-surgery", "accepts-radiotherapy", "not-for-surgery",
        "order-comfort-focused", "order-full-treatment", "order-selective-treatment"}},
      {"preference-narrative", ValueKind::kText, {}},
  };
  return specs;
}

const ObservationSpec* spec_for(std::string_view key) {
  for (const auto& s : observation_specs()) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

template <typename E>
struct Table {
  std::vector<E> entries;
  CodeIndex index;
  const E* match(const fhir::CodeableConcept& cc, const ConceptMapSet* maps,
                 std::optional<SiteMapped>* via) const {
    auto i = detail::match_with_maps(index, maps, cc, via);
    return i ? &entries[*i] : nullptr;
  }
  const E* by_key(std::string_view key) const {
    auto it = std::lower_bound(entries.begin(), entries.end(), key,
                               [](const E& e, std::string_view k) { return e.key < k; });
    return it != entries.end() && it->key == key ? &*it : nullptr;
  }
};

class ThrowingSink : public detail::ConflictSink {
 public:
  explicit ThrowingSink(const TableReader& r) : reader_(r) {}
  [[noreturn]] void conflict(int file, const std::string& entry_key,
                             const std::string& message) override {
    throw CodeTableError(reader_.file_name(file), entry_key, message);
  }

 private:
  const TableReader& reader_;
};

std::string with_canonical(std::string_view system, const std::string& canonical) {
  static constexpr std::string_view kPlaceholder = "{canonical}";
  std::string s(system);
  if (s.rfind(kPlaceholder, 0) == 0) s = canonical + s.substr(kPlaceholder.size());
  return s;
}

template <typename T>
T parse_enum(const EntryView& v, std::string_view field,
             std::initializer_list<std::pair<std::string_view, T>> options, bool required,
             T fallback) {
  const std::string s = v.string(field, required);
  if (s.empty()) return fallback;
  std::string known;
  for (const auto& [name, value] : options) {
    if (name == s) return value;
    known += (known.empty() ? "" : ", ") + std::string(name);
  }
  v.fail("\"" + std::string(field) + "\" is \"" + s + "\"; expected one of " + known);
}

std::optional<SpineRegion> parse_region(const EntryView& v) {
  if (v.string("region", false).empty()) return std::nullopt;
  return parse_enum<SpineRegion>(v, "region",
                                 {{"cervical", SpineRegion::kCervical},
                                  {"thoracic", SpineRegion::kThoracic},
                                  {"lumbar", SpineRegion::kLumbar},
                                  {"sacral", SpineRegion::kSacral}},
                                 true, SpineRegion::kCervical);
}

TreatmentKind parse_treatment(const EntryView& v, std::string_view field) {
  return parse_enum<TreatmentKind>(
      v, field,
      {{"chemotherapy", TreatmentKind::kChemotherapy},
       {"radiotherapy", TreatmentKind::kRadiotherapy},
       {"endocrine", TreatmentKind::kEndocrine},
       {"immunotherapy", TreatmentKind::kImmunotherapy},
       {"targeted", TreatmentKind::kTargeted},
       {"bone-targeted", TreatmentKind::kBoneTargeted},
       {"other-cancer-treatment", TreatmentKind::kOtherCancerTreatment}},
      true, TreatmentKind::kOtherCancerTreatment);
}

std::optional<SinsLocation> parse_sins_location(const EntryView& v) {
  if (v.string("sins_location", false).empty()) return std::nullopt;
  return parse_enum<SinsLocation>(v, "sins_location",
                                  {{"junctional", SinsLocation::kJunctional},
                                   {"mobile", SinsLocation::kMobile},
                                   {"semi-rigid", SinsLocation::kSemiRigid},
                                   {"rigid", SinsLocation::kRigid}},
                                  true, SinsLocation::kMobile);
}

// Registers the codes, ICD-10-CM patterns and synonyms of one entry.
void claim_all(const EntryView& v, std::size_t idx, CodeIndex& index, detail::ConflictSink& sink,
               const std::string& canonical, std::vector<std::string>* codes_out = nullptr) {
  auto claim = [&](int file) {
    Claim c;
    c.entry = idx;
    c.file = file;
    c.entry_key = v.key();
    return c;
  };
  auto add_code = [&](std::string_view system, std::string_view code, int file) {
    if (code.empty()) v.fail_in(file, "empty code");
    index.claim_code(system, code, claim(file), sink);
    if (codes_out) codes_out->emplace_back(code);
  };
  for (const auto& item : v.items("snomed")) {
    if (!item.node.is_string()) v.fail_in(item.file, "\"snomed\" must hold strings");
    add_code(kSnomed, item.node.as_string(), item.file);
  }
  for (const auto& item : v.items("loinc")) {
    if (!item.node.is_string()) v.fail_in(item.file, "\"loinc\" must hold strings");
    add_code(kLoinc, item.node.as_string(), item.file);
  }
  for (const auto& item : v.items("codings")) {
    if (!item.node.is_object() || !item.node["system"].is_string() ||
        !item.node["code"].is_string()) {
      v.fail_in(item.file, "\"codings\" must hold {\"system\": ..., \"code\": ...} objects");
    }
    add_code(with_canonical(item.node["system"].as_string(), canonical),
             item.node["code"].as_string(), item.file);
  }
  for (const auto& item : v.items("icd10cm")) {
    if (!item.node.is_string()) v.fail_in(item.file, "\"icd10cm\" must hold strings");
    if (auto err = index.claim_icd(item.node.as_string(), claim(item.file), sink)) {
      v.fail_in(item.file, *err);
    }
  }
  for (const auto& item : v.items("text")) {
    if (!item.node.is_string()) v.fail_in(item.file, "\"text\" must hold strings");
    std::string norm = normalize_text(item.node.as_string());
    if (norm.empty()) v.fail_in(item.file, "a synonym has no letters or digits");
    index.claim_text(norm, claim(item.file), sink);
  }
  if (auto rank = v.integer("text_rank")) index.set_text_rank(idx, *rank);
}

const std::set<std::string_view> kCodeFields{"label",   "snomed", "loinc",    "codings",
                                             "icd10cm", "text",   "text_rank"};

std::set<std::string_view> fields(std::initializer_list<std::string_view> extra) {
  std::set<std::string_view> s = kCodeFields;
  s.insert(extra.begin(), extra.end());
  return s;
}

}  // namespace

struct CodeTables::Impl {
  std::string canonical;
  std::string observation_system;
  std::vector<std::string> files;
  Table<CancerEntry> cancers;
  Table<MetastasisEntry> metastases;
  Table<SpineSiteEntry> spine_sites;
  std::unordered_map<std::string, std::size_t> level_index;  // "T12" -> spine_sites entry
  Table<ObservationEntry> observations;
  std::vector<std::unordered_map<std::string, AnswerValue>> answers;  // per observation entry
  Table<ComorbidityEntry> comorbidities;
  Table<FindingEntry> findings;
  Table<CarePlanEntry> care_plans;
  Table<ProcedureEntry> procedures;
  Table<MedicationEntry> medications;
  // ATC prefixes claimed by medication entries, as codes of kAtc in their
  // own index so the longest prefix can be looked up level by level.
  CodeIndex atc;
  std::vector<Threshold> thresholds;  // sorted by key
  ConceptMapSet concept_maps;         // the site's; empty when none
  const ConceptMapSet* maps() const { return concept_maps.empty() ? nullptr : &concept_maps; }

  void load_cancers(const TableReader& r, detail::ConflictSink& sink);
  void load_metastases(const TableReader& r, detail::ConflictSink& sink);
  void load_spine_sites(const TableReader& r, detail::ConflictSink& sink);
  void load_observations(const TableReader& r, detail::ConflictSink& sink);
  void load_comorbidities(const TableReader& r, detail::ConflictSink& sink);
  void load_findings(const TableReader& r, detail::ConflictSink& sink);
  void load_care_plans(const TableReader& r, detail::ConflictSink& sink);
  void load_procedures(const TableReader& r, detail::ConflictSink& sink);
  void load_medications(const TableReader& r, detail::ConflictSink& sink);
  void load_thresholds(const TableReader& r);
  void cross_check(const TableReader& r) const;
};

void CodeTables::Impl::load_cancers(const TableReader& r, detail::ConflictSink& sink) {
  for (const RawEntry& raw : r.entries("primary-cancers")) {
    EntryView v(r, raw,
                fields({"primary_site", "radiosensitivity", "radiosensitivity_source",
                        "tokuhashi_points", "tokuhashi_category", "haematological", "in_spine"}));
    CancerEntry e;
    e.key = v.key();
    e.label = v.string("label", true);
    e.primary_site = v.string("primary_site", true);
    e.radiosensitivity = parse_enum<Radiosensitivity>(v, "radiosensitivity",
                                                      {{"sensitive", Radiosensitivity::kSensitive},
                                                       {"resistant", Radiosensitivity::kResistant},
                                                       {"unknown", Radiosensitivity::kUnknown}},
                                                      true, Radiosensitivity::kUnknown);
    e.radiosensitivity_source = v.string("radiosensitivity_source", true);
    if (v.field("tokuhashi_points").raw() == nullptr) {
      v.fail("missing \"tokuhashi_points\" (use null when the code does not decide the tier)");
    }
    e.tokuhashi_points = v.integer("tokuhashi_points");
    if (e.tokuhashi_points && (*e.tokuhashi_points < 0 || *e.tokuhashi_points > 5)) {
      v.fail("\"tokuhashi_points\" must be 0..5 (revised Tokuhashi 2005 primary site)");
    }
    e.tokuhashi_category = v.string("tokuhashi_category", false);
    e.haematological = v.boolean("haematological");
    e.in_spine = v.boolean("in_spine");
    e.source = v.string("source", true);
    claim_all(v, cancers.entries.size(), cancers.index, sink, canonical);
    cancers.entries.push_back(std::move(e));
  }
}

void CodeTables::Impl::load_metastases(const TableReader& r, detail::ConflictSink& sink) {
  for (const RawEntry& raw : r.entries("metastases")) {
    EntryView v(r, raw, fields({"site", "region", "implies_primary"}));
    MetastasisEntry e;
    e.key = v.key();
    e.label = v.string("label", true);
    e.site = parse_enum<MetastasisSite>(v, "site",
                                        {{"spine", MetastasisSite::kSpine},
                                         {"spinal-canal", MetastasisSite::kSpinalCanal},
                                         {"bone", MetastasisSite::kBone},
                                         {"unspecified", MetastasisSite::kUnspecified},
                                         {"visceral", MetastasisSite::kVisceral},
                                         {"brain", MetastasisSite::kBrain},
                                         {"bone-marrow", MetastasisSite::kBoneMarrow},
                                         {"nodal", MetastasisSite::kNodal},
                                         {"other", MetastasisSite::kOther}},
                                        true, MetastasisSite::kUnspecified);
    e.region = parse_region(v);
    if (e.region && e.site != MetastasisSite::kSpine)
      v.fail("\"region\" is only for site \"spine\"");
    e.implies_primary = v.string("implies_primary", false);
    e.source = v.string("source", true);
    claim_all(v, metastases.entries.size(), metastases.index, sink, canonical);
    metastases.entries.push_back(std::move(e));
  }
}

void CodeTables::Impl::load_spine_sites(const TableReader& r, detail::ConflictSink& sink) {
  for (const RawEntry& raw : r.entries("spine-sites")) {
    EntryView v(r, raw, fields({"level", "region", "sins_location", "forms"}));
    SpineSiteEntry e;
    e.key = v.key();
    e.sins_location = parse_sins_location(v);
    e.region = parse_region(v);
    const std::string level = v.string("level", false);
    if (!level.empty()) {
      auto id = level_from_name(level);
      if (!id) v.fail("\"level\" \"" + level + "\" is not a level C1..C7, T1..T12, L1..L5, S1..S5");
      if (level != e.key) v.fail("a level entry's key must be its level (\"" + level + "\")");
      if (!e.sins_location) v.fail("a level entry needs \"sins_location\"");
      if (e.region) v.fail("a level entry takes its region from the level; drop \"region\"");
      e.level = VertebralLevel{id->name, id->ordinal, id->region, *e.sins_location};
      e.label = v.string("label", false);
      if (e.label.empty()) e.label = "Vertebra " + level;
      level_index[level] = spine_sites.entries.size();
    } else {
      e.label = v.string("label", true);
    }
    e.source = v.string("source", true);
    std::vector<std::string> codes;
    claim_all(v, spine_sites.entries.size(), spine_sites.index, sink, canonical, &codes);
    for (const auto& [code, part] : v.members("forms")) {
      if (std::find(codes.begin(), codes.end(), code) == codes.end()) {
        v.fail_in(part.file, "\"forms\" names code " + code + " that the entry does not list");
      }
      const bool ok = part.node.is_string() &&
                      (part.node.as_string() == "body" || part.node.as_string() == "whole" ||
                       part.node.as_string() == "part");
      if (!ok) v.fail_in(part.file, "\"forms\" values must be \"body\", \"whole\" or \"part\"");
    }
    spine_sites.entries.push_back(std::move(e));
  }
}

void CodeTables::Impl::load_observations(const TableReader& r, detail::ConflictSink& sink) {
  for (const RawEntry& raw : r.entries("observations")) {
    EntryView v(r, raw,
                fields({"value", "unit", "units", "min", "max", "allowed", "grades", "recency",
                        "per_lesion", "answers", "phrases",
                        // Read only by the terminology generator, for the
                        // adapter's own codes (conformance/terminology).
                        "definition"}));
    const ObservationSpec* spec = spec_for(v.key());
    if (!spec) v.fail("the extractor reads no observation with this key");
    ObservationEntry e;
    e.key = v.key();
    e.label = v.string("label", true);
    e.value = parse_enum<ValueKind>(v, "value",
                                    {{"score", ValueKind::kScore},
                                     {"quantity", ValueKind::kQuantity},
                                     {"grade", ValueKind::kGrade},
                                     {"boolean", ValueKind::kBoolean},
                                     {"panel", ValueKind::kPanel},
                                     {"presence", ValueKind::kPresence},
                                     {"text", ValueKind::kText}},
                                    true, ValueKind::kScore);
    if (e.value != spec->value)
      v.fail("\"value\" does not match what the extractor reads for this key");
    e.unit = v.string("unit", e.value == ValueKind::kQuantity);
    for (const auto& [unit, part] : v.members("units")) {
      if (!part.node.is_object() || !part.node["factor"].present() ||
          !part.node["factor"].raw()->IsNumber() ||
          (part.node["offset"].present() && !part.node["offset"].raw()->IsNumber())) {
        v.fail_in(part.file,
                  "\"units\"." + unit + " must be {\"factor\": number[, \"offset\": number]}");
      }
      UnitConversion c{part.node["factor"].as_number(),
                       part.node["offset"].present() ? part.node["offset"].as_number() : 0.0};
      if (c.factor <= 0) v.fail_in(part.file, "\"units\"." + unit + " factor must be positive");
      e.units[unit] = c;
    }
    if (e.value == ValueKind::kQuantity && !e.units.count(e.unit)) {
      v.fail("\"units\" must convert the canonical unit \"" + e.unit + "\" (factor 1)");
    }
    e.min = v.number("min");
    e.max = v.number("max");
    if (e.min && e.max && *e.min > *e.max) v.fail("\"min\" is above \"max\"");
    for (const auto& item : v.items("allowed")) {
      if (!item.node.raw()->IsInt()) v.fail_in(item.file, "\"allowed\" must hold integers");
      e.allowed.push_back(item.node.raw()->GetInt());
    }
    e.grades = v.strings("grades");
    if (e.value == ValueKind::kGrade) {
      std::vector<std::string> want(spec->grades.begin(), spec->grades.end());
      if (e.grades != want) {
        std::string w;
        for (const auto& g : want) w += (w.empty() ? "" : ", ") + g;
        v.fail("\"grades\" must be exactly [" + w + "]");
      }
    }
    e.recency = v.string("recency", true);
    e.per_lesion = v.boolean("per_lesion");
    for (const auto& [grade, part] : v.members("phrases")) {
      if (e.value != ValueKind::kText && e.value != ValueKind::kGrade)
        v.fail_in(part.file, "\"phrases\" is only for value \"text\" or \"grade\"");
      if (!part.node.is_array()) v.fail_in(part.file, "\"phrases\"." + grade + " must be an array");
      auto& list = e.phrases[grade];
      for (fhir::Node p : part.node.elements()) {
        if (!p.is_string()) v.fail_in(part.file, "\"phrases\" must hold strings");
        std::string norm = normalize_text(p.as_string());
        if (norm.empty()) v.fail_in(part.file, "a phrase has no letters or digits");
        list.push_back(std::move(norm));
      }
    }
    // A text entry's phrases name treatment-preference grades; a graded
    // entry's name its own grades (read from text values: value_text.cc).
    const ObservationSpec* pref = spec_for("treatment-preference");
    for (const auto& [grade, list] : e.phrases) {
      const bool known =
          e.value == ValueKind::kGrade
              ? std::find(e.grades.begin(), e.grades.end(), grade) != e.grades.end()
              : std::find(pref->grades.begin(), pref->grades.end(), grade) != pref->grades.end();
      if (!known) {
        v.fail("\"phrases\" key \"" + grade + "\" is not a " +
               (e.value == ValueKind::kGrade ? "grade of \"" + e.key + "\""
                                             : std::string("treatment-preference grade")));
      }
    }
    std::unordered_map<std::string, AnswerValue> answer_map;
    for (const auto& item : v.items("answers")) {
      fhir::Node n = item.node;
      if (!n.is_object() || !n["system"].is_string() || !n["code"].is_string() ||
          !n["value"].present()) {
        v.fail_in(item.file, "\"answers\" must hold {\"system\", \"code\", \"value\"} objects");
      }
      const std::string key = CodeIndex::code_key(
          with_canonical(n["system"].as_string(), canonical), n["code"].as_string());
      if (e.value == ValueKind::kScore) {
        if (!n["value"].raw()->IsNumber())
          v.fail_in(item.file, "answer " + key + " needs a number");
        answer_map[key] = n["value"].as_number();
      } else if (e.value == ValueKind::kGrade) {
        if (!n["value"].is_string())
          v.fail_in(item.file, "answer " + key + " needs a grade string");
        std::string g(n["value"].as_string());
        if (std::find(e.grades.begin(), e.grades.end(), g) == e.grades.end()) {
          v.fail_in(item.file, "answer " + key + " value \"" + g + "\" is not one of \"grades\"");
        }
        answer_map[key] = std::move(g);
      } else {
        v.fail_in(item.file, "\"answers\" are only for score and grade values");
      }
    }
    e.source = v.string("source", true);
    claim_all(v, observations.entries.size(), observations.index, sink, canonical);
    observations.entries.push_back(std::move(e));
    answers.push_back(std::move(answer_map));
  }
}

void CodeTables::Impl::load_comorbidities(const TableReader& r, detail::ConflictSink& sink) {
  for (const RawEntry& raw : r.entries("comorbidities")) {
    EntryView v(r, raw, fields({"comorbidity", "severe"}));
    ComorbidityEntry e;
    e.key = v.key();
    e.label = v.string("label", true);
    e.kind = parse_enum<ComorbidityKind>(v, "comorbidity",
                                         {{"anaemia", ComorbidityKind::kAnaemia},
                                          {"diabetes", ComorbidityKind::kDiabetes},
                                          {"hypertension", ComorbidityKind::kHypertension},
                                          {"cardiovascular", ComorbidityKind::kCardiovascular},
                                          {"renal", ComorbidityKind::kRenal},
                                          {"other", ComorbidityKind::kOther}},
                                         true, ComorbidityKind::kOther);
    e.severe = v.boolean("severe");
    e.source = v.string("source", true);
    claim_all(v, comorbidities.entries.size(), comorbidities.index, sink, canonical);
    comorbidities.entries.push_back(std::move(e));
  }
}

void CodeTables::Impl::load_findings(const TableReader& r, detail::ConflictSink& sink) {
  for (const RawEntry& raw : r.entries("clinical-findings")) {
    EntryView v(r, raw, fields({"finding", "cord_compression", "ambulation"}));
    FindingEntry e;
    e.key = v.key();
    e.label = v.string("label", true);
    e.finding =
        parse_enum<FindingKind>(v, "finding",
                                {{"neurological-deficit", FindingKind::kNeurologicalDeficit},
                                 {"back-pain", FindingKind::kBackPain},
                                 {"pathological-fracture", FindingKind::kPathologicalFracture},
                                 {"spinal-instability", FindingKind::kSpinalInstability},
                                 {"poor-prognosis", FindingKind::kPoorPrognosis},
                                 {"treatment-refusal", FindingKind::kTreatmentRefusal}},
                                true, FindingKind::kNeurologicalDeficit);
    e.cord_compression = v.boolean("cord_compression");
    if (!v.string("ambulation", false).empty()) {
      e.ambulation = parse_enum<Ambulation>(v, "ambulation",
                                            {{"independent", Ambulation::kIndependent},
                                             {"with-aid", Ambulation::kWithAid},
                                             {"non-ambulatory", Ambulation::kNonAmbulatory}},
                                            true, Ambulation::kUnknown);
    }
    e.source = v.string("source", true);
    claim_all(v, findings.entries.size(), findings.index, sink, canonical);
    findings.entries.push_back(std::move(e));
  }
}

void CodeTables::Impl::load_care_plans(const TableReader& r, detail::ConflictSink& sink) {
  for (const RawEntry& raw : r.entries("care-plans")) {
    EntryView v(r, raw, fields({"role", "treatment", "also"}));
    CarePlanEntry e;
    e.key = v.key();
    e.label = v.string("label", true);
    e.role = parse_enum<CarePlanRole>(v, "role",
                                      {{"oncology-category", CarePlanRole::kOncologyCategory},
                                       {"activity", CarePlanRole::kActivity}},
                                      true, CarePlanRole::kActivity);
    const std::string t = v.string("treatment", e.role == CarePlanRole::kActivity);
    if (e.role == CarePlanRole::kOncologyCategory && !t.empty()) {
      v.fail("an oncology-category entry takes no \"treatment\"");
    }
    if (!t.empty() && t != "not-cancer-treatment") e.treatment = parse_treatment(v, "treatment");
    if (!v.string("also", false).empty()) {
      if (!e.treatment) v.fail("\"also\" needs a cancer \"treatment\"");
      e.also = parse_treatment(v, "also");
    }
    e.source = v.string("source", true);
    claim_all(v, care_plans.entries.size(), care_plans.index, sink, canonical);
    care_plans.entries.push_back(std::move(e));
  }
}

void CodeTables::Impl::load_procedures(const TableReader& r, detail::ConflictSink& sink) {
  for (const RawEntry& raw : r.entries("procedures")) {
    EntryView v(r, raw, fields({"surgery"}));
    ProcedureEntry e;
    e.key = v.key();
    e.label = v.string("label", true);
    e.surgery = parse_enum<SurgeryKind>(v, "surgery",
                                        {{"decompression", SurgeryKind::kDecompression},
                                         {"stabilisation", SurgeryKind::kStabilisation},
                                         {"resection", SurgeryKind::kResection}},
                                        true, SurgeryKind::kDecompression);
    e.source = v.string("source", true);
    claim_all(v, procedures.entries.size(), procedures.index, sink, canonical);
    procedures.entries.push_back(std::move(e));
  }
}

void CodeTables::Impl::load_medications(const TableReader& r, detail::ConflictSink& sink) {
  for (const RawEntry& raw : r.entries("cancer-medications")) {
    EntryView v(r, raw, fields({"treatment", "atc", "rxnorm"}));
    MedicationEntry e;
    e.key = v.key();
    e.label = v.string("label", true);
    e.treatment = parse_treatment(v, "treatment");
    e.source = v.string("source", true);
    const std::size_t idx = medications.entries.size();
    for (const auto& item : v.items("rxnorm")) {
      if (!item.node.is_string() || item.node.as_string().empty()) {
        v.fail_in(item.file, "\"rxnorm\" must hold non-empty strings");
      }
      Claim c;
      c.entry = idx;
      c.file = item.file;
      c.entry_key = e.key;
      medications.index.claim_code(kRxNorm, item.node.as_string(), c, sink);
    }
    for (const auto& item : v.items("atc")) {
      const bool ok =
          item.node.is_string() && !item.node.as_string().empty() &&
          item.node.as_string().size() <= 7 &&
          std::all_of(item.node.as_string().begin(), item.node.as_string().end(),
                      [](char ch) { return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'); });
      if (!ok) v.fail_in(item.file, "\"atc\" must hold ATC codes or prefixes such as \"L01FF\"");
      Claim c;
      c.entry = idx;
      c.file = item.file;
      c.entry_key = e.key;
      atc.claim_code(kAtc, item.node.as_string(), c, sink);
    }
    claim_all(v, idx, medications.index, sink, canonical);
    medications.entries.push_back(std::move(e));
  }
}

void CodeTables::Impl::load_thresholds(const TableReader& r) {
  for (const RawEntry& raw : r.entries("thresholds")) {
    EntryView v(r, raw, {"value", "unit", "citation"});
    Threshold t;
    t.key = v.key();
    auto value = v.number("value");
    if (!value) v.fail("missing \"value\"");
    t.value = *value;
    t.unit = v.string("unit", true);
    t.citation = v.string("citation", true);
    if (t.unit == "d" &&
        (t.value < 0 || t.value != static_cast<double>(static_cast<long>(t.value)))) {
      v.fail("a window in days must be a whole, non-negative number");
    }
    thresholds.push_back(std::move(t));
  }
}

void CodeTables::Impl::cross_check(const TableReader& r) const {
  auto threshold_of = [&](std::string_view key) -> const Threshold* {
    for (const auto& t : thresholds) {
      if (t.key == key) return &t;
    }
    return nullptr;
  };
  for (std::string_view key : required_threshold_keys()) {
    if (!threshold_of(key)) {
      throw CodeTableError("thresholds", std::string(key), "required threshold is missing");
    }
  }
  auto file_of = [&](std::string_view kind, const std::string& key) {
    for (const auto& raw : r.entries(kind)) {
      if (raw.key == key) return r.file_name(raw.file());
    }
    return std::string(kind);
  };
  for (const auto& o : observations.entries) {
    const Threshold* t = threshold_of(o.recency);
    if (!t || t->unit != "d") {
      throw CodeTableError(file_of("observations", o.key), o.key,
                           "\"recency\" \"" + o.recency + "\" is not a thresholds entry in days");
    }
  }
  for (const auto& m : metastases.entries) {
    if (!m.implies_primary.empty() && !cancers.by_key(m.implies_primary)) {
      throw CodeTableError(
          file_of("metastases", m.key), m.key,
          "\"implies_primary\" \"" + m.implies_primary + "\" is not a primary-cancers key");
    }
  }
}

const std::vector<std::string_view>& required_threshold_keys() {
  static const std::vector<std::string_view> keys{
      "recency.performance-status",
      "recency.pain",
      "recency.haemoglobin",
      "recency.hba1c",
      "recency.blood-pressure",
      "recency.albumin",
      "recency.imaging",
      "recency.neurology",
      "recency.life-expectancy",
      "recency.ambulation",
      "recency.preferences",
      "recency.spinal-surgery",
      "new-symptom.window",
      "anaemia.hb-female-below",
      "anaemia.hb-male-below",
      "anaemia.severe-hb-below",
      "diabetes.hba1c-at-least",
      "diabetes.uncontrolled-hba1c-above",
      "hypertension.systolic-at-least",
      "hypertension.diastolic-at-least",
      "hypertension.severe-systolic-at-least",
      "hypertension.severe-diastolic-at-least",
      "sins.indeterminate-from",
      "sins.unstable-from",
      "tokuhashi.six-months-from",
      "tokuhashi.twelve-months-from",
      "recency.cancer-treatment",
      "recency.bone-targeted-agent",
  };
  return keys;
}

CodeTables CodeTables::load(const std::vector<std::filesystem::path>& dirs,
                            std::string_view canonical_base) {
  std::string canonical(canonical_base);
  while (!canonical.empty() && canonical.back() == '/') canonical.pop_back();
  if (canonical.rfind("http://", 0) != 0 && canonical.rfind("https://", 0) != 0) {
    throw CodeTableError("", "", "canonical base '" + canonical + "' must be an http(s) URL");
  }
  TableReader reader({"primary-cancers", "metastases", "spine-sites", "observations",
                      "comorbidities", "clinical-findings", "care-plans", "procedures",
                      "cancer-medications", "thresholds"});
  reader.read_dirs(dirs);
  auto impl = std::make_unique<Impl>();
  impl->canonical = canonical;
  impl->observation_system = canonical + "/CodeSystem/mst-observation";
  for (const auto& f : reader.files()) impl->files.push_back(f.name);
  ThrowingSink sink(reader);
  try {
    impl->load_cancers(reader, sink);
    impl->load_metastases(reader, sink);
    impl->load_spine_sites(reader, sink);
    impl->load_observations(reader, sink);
    impl->load_comorbidities(reader, sink);
    impl->load_findings(reader, sink);
    impl->load_care_plans(reader, sink);
    impl->load_procedures(reader, sink);
    impl->load_medications(reader, sink);
    impl->load_thresholds(reader);
  } catch (const fhir::ElementError& e) {
    throw CodeTableError("", "", e.what());
  }
  impl->cross_check(reader);
  return CodeTables(std::move(impl));
}

CodeTables::CodeTables(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CodeTables::CodeTables(CodeTables&&) noexcept = default;
CodeTables& CodeTables::operator=(CodeTables&&) noexcept = default;
CodeTables::~CodeTables() = default;

const std::string& CodeTables::canonical_base() const { return impl_->canonical; }
void CodeTables::use_concept_maps(ConceptMapSet maps) { impl_->concept_maps = std::move(maps); }
const ConceptMapSet& CodeTables::concept_maps() const { return impl_->concept_maps; }
const std::string& CodeTables::observation_system() const { return impl_->observation_system; }
const std::vector<std::string>& CodeTables::files() const { return impl_->files; }

const CancerEntry* CodeTables::cancer(const fhir::CodeableConcept& cc, Via via) const {
  return impl_->cancers.match(cc, impl_->maps(), via);
}
const MetastasisEntry* CodeTables::metastasis(const fhir::CodeableConcept& cc, Via via) const {
  return impl_->metastases.match(cc, impl_->maps(), via);
}
const ComorbidityEntry* CodeTables::comorbidity(const fhir::CodeableConcept& cc, Via via) const {
  return impl_->comorbidities.match(cc, impl_->maps(), via);
}
const FindingEntry* CodeTables::finding(const fhir::CodeableConcept& cc, Via via) const {
  return impl_->findings.match(cc, impl_->maps(), via);
}
bool CodeTables::nonspecific_code(const fhir::CodeableConcept& cc) const {
  return impl_->cancers.index.nonspecific(cc) || impl_->metastases.index.nonspecific(cc) ||
         impl_->findings.index.nonspecific(cc) || impl_->comorbidities.index.nonspecific(cc);
}
const CarePlanEntry* CodeTables::care_plan(const fhir::CodeableConcept& cc, Via via) const {
  return impl_->care_plans.match(cc, impl_->maps(), via);
}
const ObservationEntry* CodeTables::observation(const fhir::CodeableConcept& cc, Via via) const {
  return impl_->observations.match(cc, impl_->maps(), via);
}
const ProcedureEntry* CodeTables::procedure(const fhir::CodeableConcept& cc, Via via) const {
  return impl_->procedures.match(cc, impl_->maps(), via);
}
MedicationMatch CodeTables::cancer_medication(const fhir::CodeableConcept& cc) const {
  const auto& t = impl_->medications;
  // Exact codes, then ATC codes by their longest claimed prefix.
  auto by_code = [&](const std::vector<fhir::Coding>& codings) -> const MedicationEntry* {
    if (auto i = t.index.match(fhir::CodeableConcept{codings, std::nullopt})) return &t.entries[*i];
    for (const auto& c : codings) {
      if (canonical_system(c.system) != kAtc || c.code.empty()) continue;
      std::string code(c.code);
      for (char& ch : code) ch = (ch >= 'a' && ch <= 'z') ? static_cast<char>(ch - 'a' + 'A') : ch;
      for (std::size_t len = std::min<std::size_t>(code.size(), 7); len >= 1; --len) {
        if (auto i = impl_->atc.match_code(kAtc, std::string_view(code).substr(0, len))) {
          return &t.entries[*i];
        }
      }
    }
    return nullptr;
  };
  if (const MedicationEntry* e = by_code(cc.codings)) return {e, false};
  if (impl_->maps()) {
    for (const auto& sm : detail::translations_of(*impl_->maps(), cc)) {
      const std::vector<fhir::Coding> translated{
          fhir::Coding{sm.translation.system, sm.translation.code, {}}};
      if (const MedicationEntry* e = by_code(translated)) return {e, false};
    }
  }
  // Text goes through the index's phrase matching, which honours negation
  // ("pembrolizumab stopped", "no chemotherapy").
  if (cc.text) {
    if (auto i = t.index.match_text(*cc.text)) return {&t.entries[*i], true};
  }
  return {};
}

const CancerEntry* CodeTables::cancer_by_key(std::string_view key) const {
  return impl_->cancers.by_key(key);
}
const ObservationEntry* CodeTables::observation_by_key(std::string_view key) const {
  return impl_->observations.by_key(key);
}

const SpineSiteEntry* CodeTables::level_entry(std::string_view level_name) const {
  auto it = impl_->level_index.find(std::string(level_name));
  return it == impl_->level_index.end() ? nullptr : &impl_->spine_sites.entries[it->second];
}

SpineSiteMatch CodeTables::spine_site(const fhir::CodeableConcept& cc) const {
  SpineSiteMatch m;
  const auto& t = impl_->spine_sites;
  auto add_level = [&](const SpineSiteEntry* e) {
    if (std::find(m.levels.begin(), m.levels.end(), e) == m.levels.end()) m.levels.push_back(e);
  };
  for (const auto& c : cc.codings) {
    if (auto i = t.index.match_code(c.system, c.code)) {
      const SpineSiteEntry* e = &t.entries[*i];
      if (e->level) {
        add_level(e);
      } else if (!m.region) {
        m.region = e;
      }
    }
  }
  if (m.levels.empty() && !m.region && impl_->maps()) {
    for (const auto& sm : detail::translations_of(*impl_->maps(), cc)) {
      if (auto i = t.index.match_code(sm.translation.system, sm.translation.code)) {
        const SpineSiteEntry* e = &t.entries[*i];
        if (e->level) {
          add_level(e);
        } else if (!m.region) {
          m.region = e;
        }
      }
    }
  }
  // Text names levels more precisely than a region code ("thoracic spine",
  // text "T12"), so it is read whenever no coding named a level.
  if (m.levels.empty()) {
    std::string_view text = cc.text.value_or("");
    for (const auto& id : parse_levels(text)) {
      if (const SpineSiteEntry* e = level_entry(id.name)) add_level(e);
    }
    // Whole-vertebra and other sibling concepts the table lacks still name
    // their level in the display ("Entire first lumbar vertebra"); only the
    // level is read from it, never the code's meaning.
    if (m.levels.empty() && !m.region && !cc.text) {
      for (const auto& c : cc.codings) {
        for (const auto& id : parse_levels(c.display)) {
          if (const SpineSiteEntry* e = level_entry(id.name)) add_level(e);
        }
      }
    }
    if (m.levels.empty() && !m.region && !text.empty()) {
      if (auto i = t.index.match_text(text)) {
        const SpineSiteEntry* e = &t.entries[*i];
        if (e->level) {
          add_level(e);
        } else {
          m.region = e;
        }
      }
    }
  }
  std::sort(m.levels.begin(), m.levels.end(), [](const SpineSiteEntry* a, const SpineSiteEntry* b) {
    return a->level->ordinal < b->level->ordinal;
  });
  return m;
}

std::optional<AnswerValue> CodeTables::answer(const ObservationEntry& entry,
                                              const fhir::CodeableConcept& cc) const {
  const auto& entries = impl_->observations.entries;
  if (entries.empty() || std::less<>()(&entry, entries.data()) ||
      !std::less<>()(&entry, entries.data() + entries.size())) {
    return std::nullopt;  // not an entry of these tables
  }
  const auto& map = impl_->answers[static_cast<std::size_t>(&entry - entries.data())];
  if (map.empty()) return std::nullopt;
  for (const auto& c : cc.codings) {
    auto it = map.find(CodeIndex::code_key(canonical_system(c.system), c.code));
    if (it != map.end()) return it->second;
  }
  if (impl_->maps()) {
    for (const auto& sm : detail::translations_of(*impl_->maps(), cc)) {
      auto it = map.find(
          CodeIndex::code_key(canonical_system(sm.translation.system), sm.translation.code));
      if (it != map.end()) return it->second;
    }
  }
  return std::nullopt;
}

const Threshold& CodeTables::threshold(std::string_view key) const {
  for (const auto& t : impl_->thresholds) {
    if (t.key == key) return t;
  }
  throw CodeTableError("thresholds", std::string(key), "no such threshold");
}

std::size_t CodeTables::size() const {
  return impl_->cancers.entries.size() + impl_->metastases.entries.size() +
         impl_->spine_sites.entries.size() + impl_->observations.entries.size() +
         impl_->comorbidities.entries.size() + impl_->findings.entries.size() +
         impl_->care_plans.entries.size() + impl_->procedures.entries.size() +
         impl_->medications.entries.size() + impl_->thresholds.size();
}

namespace {

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

// The site codes whose translation reaches an entry of `index` that `keep`
// accepts: a local code is searched for as the site sends it.
template <typename Keep>
void add_site_tokens(const ConceptMapSet& maps, const CodeIndex& index, Keep keep,
                     std::vector<std::string>& out) {
  for (const auto& [source, t] : maps.all()) {
    const fhir::CodeableConcept target{{fhir::Coding{t.system, t.code, {}}}, std::nullopt};
    if (auto i = index.match(target); i && keep(*i)) out.push_back(source);
  }
}

std::vector<std::string> CodeTables::observation_search_codes() const {
  std::vector<std::string> out;
  for (const auto* index : {&impl_->observations.index, &impl_->findings.index}) {
    for (auto& [token, entry] : index->search_tokens()) {
      if (!is_icd10(token.substr(0, token.find('|')))) out.push_back(token);
    }
    add_site_tokens(
        impl_->concept_maps, *index, [](std::size_t) { return true; }, out);
  }
  return sorted_unique(std::move(out));
}

std::vector<std::string> CodeTables::population_search_codes() const {
  std::vector<std::string> out;
  // NICE NG234's emergency needs no spinal lesion: deficits and compressions.
  for (auto& [token, entry] : impl_->findings.index.search_tokens()) {
    if (impl_->findings.entries[entry].finding == FindingKind::kNeurologicalDeficit) {
      out.push_back(token);
    }
  }
  // Direct infiltration of the spine is recorded on the primary's Condition.
  for (auto& [token, entry] : impl_->cancers.index.search_tokens()) {
    const CancerEntry& e = impl_->cancers.entries[entry];
    if (e.haematological || e.in_spine) out.push_back(token);
  }
  for (auto& [token, entry] : impl_->metastases.index.search_tokens()) {
    switch (impl_->metastases.entries[entry].site) {
      case MetastasisSite::kSpine:
      case MetastasisSite::kSpinalCanal:
      case MetastasisSite::kBone:
      case MetastasisSite::kUnspecified:
        out.push_back(token);
        break;
      default:
        break;
    }
  }
  // The site's local codes for the same concepts.
  const ConceptMapSet& maps = impl_->concept_maps;
  add_site_tokens(
      maps, impl_->findings.index,
      [&](std::size_t i) {
        return impl_->findings.entries[i].finding == FindingKind::kNeurologicalDeficit;
      },
      out);
  add_site_tokens(
      maps, impl_->cancers.index,
      [&](std::size_t i) {
        return impl_->cancers.entries[i].haematological || impl_->cancers.entries[i].in_spine;
      },
      out);
  add_site_tokens(
      maps, impl_->metastases.index,
      [&](std::size_t i) {
        const MetastasisSite site = impl_->metastases.entries[i].site;
        return site == MetastasisSite::kSpine || site == MetastasisSite::kSpinalCanal ||
               site == MetastasisSite::kBone || site == MetastasisSite::kUnspecified;
      },
      out);
  return sorted_unique(std::move(out));
}

}  // namespace mst::mappings
