// Readers: one Condition, Observation or CarePlan at a time, applying the
// evidence rules of docs/considerations.md. A malformed resource ends here
// with an `ignored` entry; it never reaches a deriver.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "extract_internal.h"
#include "mst/mappings/text.h"
#include "mst/mappings/vertebral_level.h"
#include "value_text.h"

namespace mst::mappings::detail {

namespace {

constexpr std::string_view kRelatedCore =
    "http://hl7.org/fhir/StructureDefinition/condition-related";
constexpr std::string_view kRelatedMcode =
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-related-primary-cancer-condition";
constexpr std::string_view kHistology =
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior";

bool has_code(const std::optional<fhir::CodeableConcept>& cc, std::string_view code) {
  if (!cc) return false;
  return std::any_of(cc->codings.begin(), cc->codings.end(),
                     [&](const fhir::Coding& c) { return c.code == code; });
}

SourceCode source_code(const fhir::CodeableConcept& cc) {
  for (const auto& c : cc.codings) {
    const std::string_view s = canonical_system(c.system);
    if (s == kSnomed || is_icd10(s) || s == kLoinc) {
      return {std::string(c.system), std::string(c.code), std::string(c.display)};
    }
  }
  if (!cc.codings.empty()) {
    const auto& c = cc.codings.front();
    return {std::string(c.system), std::string(c.code), std::string(c.display)};
  }
  return {"", "", std::string(cc.text.value_or(""))};
}

// effective[x] (a period counts at its end, else its start), else issued.
std::optional<fhir::DateTime> effective_time(fhir::Node n) {
  if (auto t = fhir::read_datetime(n["effectiveDateTime"])) return t;
  if (auto t = fhir::read_datetime(n["effectiveInstant"])) return t;
  if (auto p = fhir::read_period(n.object("effectivePeriod"))) {
    if (p->end) return p->end;
    if (p->start) return p->start;
  }
  return fhir::read_datetime(n["issued"]);
}

// Whether what `lookup` finds for `cc` rests on its text: its codings alone
// find something else, or nothing.
template <typename Entry, typename Lookup>
bool rests_on_text(const fhir::CodeableConcept& cc, const Entry* found, Lookup lookup) {
  if (found == nullptr || !cc.text) return false;
  fhir::CodeableConcept codes_only;
  codes_only.codings = cc.codings;
  return lookup(codes_only) != found;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    char x = a[k];
    char y = b[k];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The conversion of `unit` for `e`: exact first, then UCUM's case-insensitive
// form ("G/DL" for g/dL, UCUM §4 "c/i"), taken only when every unit it folds
// onto converts alike: case alone separates milli from mega ("mg", "Mg").
const UnitConversion* find_unit(const ObservationEntry& e, std::string_view unit) {
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  while (!unit.empty() && unit.back() == ' ') unit.remove_suffix(1);
  if (auto it = e.units.find(unit); it != e.units.end()) return &it->second;
  const UnitConversion* found = nullptr;
  for (const auto& [name, conv] : e.units) {
    if (!iequals(name, unit)) continue;
    if (found && (found->factor != conv.factor || found->offset != conv.offset)) return nullptr;
    found = &conv;
  }
  return found;
}

std::optional<bool> boolean_word(std::string_view raw) {
  const std::string s = normalize_text(raw);
  if (s == "yes" || s == "true" || s == "present" || s == "positive" || s == "y") return true;
  if (s == "no" || s == "false" || s == "absent" || s == "negative" || s == "n") return false;
  return std::nullopt;
}

// SNOMED CT qualifier values "Yes" / "No".
constexpr std::string_view kSnomedYes = "373066001";
constexpr std::string_view kSnomedNo = "373067005";

std::optional<bool> boolean_concept(const fhir::CodeableConcept& cc) {
  for (const auto& c : cc.codings) {
    if (c.system == kSnomed && c.code == kSnomedYes) return true;
    if (c.system == kSnomed && c.code == kSnomedNo) return false;
  }
  return cc.text ? boolean_word(*cc.text) : std::nullopt;
}

std::string note_text(fhir::Node n) {
  std::string out;
  for (fhir::Node note : n.array("note")) {
    if (!note.is_object()) continue;
    if (auto t = note.string("text")) out += (out.empty() ? "" : " ") + std::string(*t);
  }
  return out;
}

bool in_range(const ObservationEntry& e, double v) {
  if (e.min && v < *e.min) return false;
  if (e.max && v > *e.max) return false;
  if (!e.allowed.empty()) {
    const double r = std::round(v);
    if (r != v) return false;
    return std::find(e.allowed.begin(), e.allowed.end(), static_cast<int>(r)) != e.allowed.end();
  }
  return true;
}

// The value[x] of an Observation or a component, by the types readers accept
// (at most one is set).
struct ValueView {
  explicit ValueView(const fhir::ObservationValue& v)
      : qty(std::get_if<fhir::Quantity>(&v)),
        concept_value(std::get_if<fhir::CodeableConcept>(&v)),
        str(std::get_if<std::string_view>(&v)),
        integer(std::get_if<std::int64_t>(&v)),
        boolean(std::get_if<bool>(&v)),
        none(std::holds_alternative<std::monostate>(v)) {}

  const fhir::Quantity* qty;
  const fhir::CodeableConcept* concept_value;
  const std::string_view* str;
  const std::int64_t* integer;
  const bool* boolean;
  bool none;
};

// Each reader below returns the reason when it cannot read the value.
using ValueProblem = std::optional<std::string>;

ValueProblem read_score(const Context& ctx, const ObservationEntry& e, const ValueView& v,
                        fhir::Node observation, Reading& out) {
  std::optional<double> n;
  std::string text_problem;
  // "SINS 9", "9/18", "ECOG 2": read from text, so marked for confirmation.
  auto from_words = [&](std::string_view t) {
    TextValue<double> r = number_in_text(t, e.max);
    if (r.value) {
      n = r.value;
      out.from_text = true;
    } else {
      text_problem = std::move(r.problem);
    }
  };
  if (v.integer) n = static_cast<double>(*v.integer);
  if (v.qty && v.qty->value) n = v.qty->value;
  if (v.str) from_words(*v.str);
  if (v.concept_value) {
    if (auto a = ctx.tables.answer(e, *v.concept_value)) n = std::get<double>(*a);
    if (!n && v.concept_value->text) from_words(*v.concept_value->text);
  }
  if (v.none) {
    // mCODE performance status carries the LOINC answer in interpretation.
    for (const auto& cc : fhir::read_codeable_concepts(observation.array("interpretation"))) {
      if (auto a = ctx.tables.answer(e, cc)) n = std::get<double>(*a);
    }
  }
  if (!n) {
    if (!text_problem.empty()) return text_problem + " (" + e.label + ")";
    return v.none ? "no value" : "value is not a number the table accepts";
  }
  if (!in_range(e, *n)) return "value " + format_number(*n) + " is out of range for " + e.label;
  out.number = n;
  return std::nullopt;
}

ValueProblem read_quantity(const ObservationEntry& e, const ValueView& v, Reading& out) {
  std::optional<double> raw;
  const UnitConversion* conv = nullptr;
  if (v.qty) {
    raw = v.qty->value;
    const std::string_view unit = !v.qty->code.empty() ? v.qty->code : v.qty->unit;
    if (!unit.empty()) {
      conv = find_unit(e, unit);
      if (!conv && !v.qty->unit.empty()) conv = find_unit(e, v.qty->unit);
      if (!conv) return "unit '" + std::string(unit) + "' is not known for " + e.label;
    }
  } else if (v.integer) {
    raw = static_cast<double>(*v.integer);
  } else if (v.str) {
    // "9.8 g/dL", "Hb 98 g/L": one number, its unit written after it.
    TextQuantity q = quantity_in_text(*v.str);
    if (!q.value) return q.problem + " (" + e.label + ")";
    raw = q.value;
    out.from_text = true;
    if (!q.unit.empty()) {
      conv = find_unit(e, q.unit);
      if (!conv) return "unit '" + q.unit + "' is not known for " + e.label;
    }
  } else if (!v.none) {
    return "value is not a Quantity";
  }
  if (!raw) return "no value";
  const double value = conv ? *raw * conv->factor + conv->offset : *raw;
  if (!in_range(e, value)) {
    return "value " + format_number(value) + " " + e.unit + " is out of range for " + e.label +
           (conv ? "" : " (no unit given)");
  }
  out.number = value;
  return std::nullopt;
}

ValueProblem read_grade(const Context& ctx, const ObservationEntry& e, const ValueView& v,
                        Reading& out) {
  std::optional<std::string> g;
  std::string text_problem;
  auto from_words = [&](std::string_view t, bool text) {
    TextValue<std::string> r = grade_in_text(e, t);
    if (r.value) {
      g = std::move(r.value);
      out.from_text = out.from_text || text;
    } else {
      text_problem = std::move(r.problem);
    }
  };
  if (v.concept_value) {
    if (auto a = ctx.tables.answer(e, *v.concept_value)) g = std::get<std::string>(*a);
    if (!g && v.concept_value->text) from_words(*v.concept_value->text, true);
  }
  if (v.str) from_words(*v.str, true);
  if (v.integer) from_words(std::to_string(*v.integer), false);
  if (v.qty && v.qty->value) from_words(format_number(*v.qty->value), false);
  if (!g && e.key == "treatment-preference") {
    // A preference answered in words ("does not want any spinal
    // operation"): derive_preferences reads its phrases.
    std::string words = v.concept_value && v.concept_value->text
                            ? std::string(*v.concept_value->text)
                        : v.str ? std::string(*v.str)
                                : std::string();
    if (!words.empty()) {
      out.text = std::move(words);
      out.from_text = true;
      return std::nullopt;
    }
  }
  if (!g) {
    if (v.none) return "no value";
    return text_problem.empty() ? "value is not a grade of " + e.label : text_problem;
  }
  out.token = *g;
  return std::nullopt;
}

ValueProblem read_boolean(const ValueView& v, Reading& out) {
  std::optional<bool> b;
  if (v.boolean) b = *v.boolean;
  if (v.str) {
    b = boolean_word(*v.str);
    out.from_text = b.has_value();
  }
  if (v.concept_value) {
    b = boolean_concept(*v.concept_value);
    if (b && !v.concept_value->has(kSnomed, kSnomedYes) &&
        !v.concept_value->has(kSnomed, kSnomedNo)) {
      out.from_text = true;  // "Yes"/"No" as text only
    }
    if (!b) {
      // A coded finding as the value ("Paraparesis") means present.
      b = true;
      out.text = std::string(v.concept_value->label());
    }
  }
  if (!b) return v.none ? "no value" : "value is not yes/no";
  out.number = *b ? 1.0 : 0.0;
  return std::nullopt;
}

ValueProblem read_text(const Context& ctx, const ValueView& v, fhir::Node observation,
                       Reading& out) {
  if (v.str) out.text = std::string(*v.str);
  if (v.concept_value) {
    out.text = std::string(v.concept_value->label());
    if (auto a = ctx.tables.observation_by_key("treatment-preference")) {
      if (auto ans = ctx.tables.answer(*a, *v.concept_value))
        out.token = std::get<std::string>(*ans);
    }
  }
  const std::string notes = note_text(observation);
  if (!notes.empty()) out.text += (out.text.empty() ? "" : " ") + notes;
  if (out.text.empty() && out.token.empty()) return "no text";
  return std::nullopt;
}

// Reads the value[x] of `parent` (an Observation or a component) as `e`
// expects it. Returns the reason when it cannot.
ValueProblem read_value_into(const Context& ctx, const ObservationEntry& e, fhir::Node parent,
                             fhir::Node observation, Reading& out) {
  const fhir::ObservationValue value = fhir::read_value(parent);
  const ValueView v(value);
  switch (e.value) {
    case ValueKind::kScore:
      return read_score(ctx, e, v, observation, out);
    case ValueKind::kQuantity:
      return read_quantity(e, v, out);
    case ValueKind::kGrade:
      return read_grade(ctx, e, v, out);
    case ValueKind::kBoolean:
      return read_boolean(v, out);
    case ValueKind::kPresence:
      out.number = v.boolean && !*v.boolean ? 0.0 : 1.0;
      return std::nullopt;
    case ValueKind::kText:
      return read_text(ctx, v, observation, out);
    case ValueKind::kPanel:
      return std::nullopt;
  }
  return "unsupported value";
}

std::vector<const SpineSiteEntry*> body_site_levels(const Context& ctx, fhir::Node n) {
  std::vector<const SpineSiteEntry*> levels;
  // R4 Observation.bodySite is a single CodeableConcept; Condition.bodySite
  // (and some senders' Observations) an array of them.
  std::vector<fhir::CodeableConcept> sites;
  if (n["bodySite"].is_object()) {
    if (auto cc = fhir::read_codeable_concept(n.object("bodySite"))) sites.push_back(*cc);
  } else {
    sites = fhir::read_codeable_concepts(n.array("bodySite"));
  }
  for (const auto& cc : sites) {
    for (const auto* l : ctx.tables.spine_site(cc).levels) {
      if (std::find(levels.begin(), levels.end(), l) == levels.end()) levels.push_back(l);
    }
  }
  std::sort(levels.begin(), levels.end(), [](const SpineSiteEntry* a, const SpineSiteEntry* b) {
    return a->level->ordinal < b->level->ordinal;
  });
  return levels;
}

}  // namespace

void read_condition(const Context& ctx, const RecordResource& r, std::vector<ConditionFacts>& out) {
  try {
    fhir::Node n = r.node;
    auto verification = fhir::read_codeable_concept(n.object("verificationStatus"));
    if (has_code(verification, "entered-in-error")) {
      ctx.ignore(r.ref, "verificationStatus entered-in-error");
      return;
    }
    if (has_code(verification, "refuted")) {
      ctx.ignore(r.ref, "verificationStatus refuted");
      return;
    }
    auto code = fhir::read_codeable_concept(n.object("code"));
    if (!code || (code->codings.empty() && !code->text)) {
      ctx.ignore(r.ref, "Condition has no code");
      return;
    }
    ConditionFacts f;
    f.ref = r.ref;
    std::optional<SiteMapped> via[4];
    f.cancer = ctx.tables.cancer(*code, &via[0]);
    f.metastasis = ctx.tables.metastasis(*code, &via[1]);
    f.comorbidity = ctx.tables.comorbidity(*code, &via[2]);
    f.finding = ctx.tables.finding(*code, &via[3]);
    if (!f.cancer && !f.metastasis && !f.comorbidity && !f.finding) {
      ctx.ignore(r.ref, "Condition code is not in the code tables");
      return;
    }
    f.code = source_code(*code);
    f.label = std::string(code->label());
    if (ctx.tables.nonspecific_code(*code)) {
      std::string_view category;
      for (const auto& c : code->codings) {
        if (is_icd10(c.system)) category = c.code;
      }
      ctx.gap(f.metastasis ? "spinal lesions"
              : f.cancer   ? "cancer type"
                           : "coding",
              r.ref + " is coded with the ICD-10 category " + std::string(category) +
                  ", less specific than its subcodes: read as " +
                  (f.metastasis ? f.metastasis->label
                   : f.cancer   ? f.cancer->label
                   : f.finding  ? f.finding->label
                                : f.comorbidity->label) +
                  "; confirm");
    }
    f.recorded = fhir::read_datetime(n["recordedDate"]);
    f.onset = fhir::read_datetime(n["onsetDateTime"]);
    if (!f.onset) {
      if (auto p = fhir::read_period(n.object("onsetPeriod"))) f.onset = p->start;
    }
    if (!f.onset && f.recorded) {
      f.onset = f.recorded;
      f.onset_is_recorded_date = true;
    }
    const auto& known_at = f.recorded ? f.recorded : f.onset;
    if (known_at && ctx.after_as_of(*known_at)) {
      ctx.ignore(r.ref, "recorded after the as-of time");
      return;
    }
    auto clinical = fhir::read_codeable_concept(n.object("clinicalStatus"));
    if (clinical && !clinical->codings.empty())
      f.clinical_status = std::string(clinical->codings.front().code);
    f.active = !(has_code(clinical, "inactive") || has_code(clinical, "resolved") ||
                 has_code(clinical, "remission"));
    std::optional<fhir::DateTime> abated = fhir::read_datetime(n["abatementDateTime"]);
    if (!abated) {
      if (auto p = fhir::read_period(n.object("abatementPeriod"))) abated = p->end;
    }
    if (abated && !ctx.after_as_of(*abated)) f.active = false;

    for (const auto& site : fhir::read_codeable_concepts(n.array("bodySite"))) {
      SpineSiteMatch m = ctx.tables.spine_site(site);
      for (const auto* l : m.levels) {
        if (std::find(f.levels.begin(), f.levels.end(), l) == f.levels.end()) f.levels.push_back(l);
      }
      if (m.levels.empty() && m.region) f.regions.push_back(m.region);
      if (!m.spinal()) {
        std::string key = site.codings.empty() ? normalize_text(site.text.value_or(""))
                                               : std::string(site.codings.front().system) + "|" +
                                                     std::string(site.codings.front().code);
        if (!key.empty()) f.other_sites.push_back(std::move(key));
      }
    }
    for (fhir::Node ext : n.array("extension")) {
      if (!ext.is_object()) continue;
      const std::string_view url = ext.string("url").value_or("");
      if (url == kRelatedCore || url == kRelatedMcode) {
        if (auto ref = fhir::read_reference(ext.object("valueReference"))) {
          if (ref->type == "Condition") f.related_primary = ref->relative();
        }
      } else if (url == kHistology) {
        if (auto cc = fhir::read_codeable_concept(ext.object("valueCodeableConcept"))) {
          if (!cc->codings.empty() || cc->text) f.histology = source_code(*cc);
        }
      }
    }
    f.note = note_text(n);
    for (const auto& v : via) note_site_map(ctx, r.ref, v);  // only for a Condition used
    const CodeTables& t = ctx.tables;
    if (rests_on_text(*code, f.cancer, [&](const auto& c) { return t.cancer(c); }) ||
        rests_on_text(*code, f.metastasis, [&](const auto& c) { return t.metastasis(c); }) ||
        rests_on_text(*code, f.comorbidity, [&](const auto& c) { return t.comorbidity(c); }) ||
        rests_on_text(*code, f.finding, [&](const auto& c) { return t.finding(c); })) {
      ctx.from_text(r.ref);
    }
    out.push_back(std::move(f));
  } catch (const fhir::ElementError& e) {
    ctx.ignore(r.ref, std::string("unreadable Condition: ") + e.what());
    ctx.out.unreadable_conditions.push_back(r.ref);
  }
}

void read_observation(const Context& ctx, const RecordResource& r, std::vector<Reading>& out,
                      std::vector<ConditionFacts>& findings) {
  try {
    fhir::Node n = r.node;
    const std::string status(n.string("status").value_or(""));
    if (status != "final" && status != "amended" && status != "corrected") {
      ctx.ignore(r.ref,
                 "status '" + status + "': only final, amended or corrected results are used");
      return;
    }
    auto code = fhir::read_codeable_concept(n.object("code"));
    if (!code) {
      ctx.ignore(r.ref, "Observation has no code");
      return;
    }
    const std::optional<fhir::DateTime> when = effective_time(n);
    if (when && ctx.after_as_of(*when)) {
      ctx.ignore(r.ref, "effective after the as-of time");
      return;
    }
    std::optional<SiteMapped> via;
    const ObservationEntry* entry = ctx.tables.observation(*code, &via);
    note_site_map(ctx, r.ref, via);
    std::vector<Reading> local;
    std::string first_problem;
    auto take = [&](const ObservationEntry& e, fhir::Node parent) {
      Reading rd;
      rd.entry = &e;
      rd.ref = r.ref;
      rd.when = when;
      if (e.per_lesion) rd.levels = body_site_levels(ctx, n);
      if (auto problem = read_value_into(ctx, e, parent, n, rd)) {
        if (first_problem.empty()) first_problem = *problem;
        return;
      }
      if (e.value == ValueKind::kPanel) return;
      if (rd.from_text) ctx.from_text(r.ref);
      local.push_back(std::move(rd));
    };
    auto observation_of = [&](const fhir::CodeableConcept& c) { return ctx.tables.observation(c); };
    if (rests_on_text(*code, entry, observation_of)) ctx.from_text(r.ref);
    if (entry) take(*entry, n);
    bool any_component = false;
    for (fhir::Node comp : n.array("component")) {
      if (!comp.is_object()) continue;
      auto ccode = fhir::read_codeable_concept(comp.object("code"));
      if (!ccode) continue;
      if (const ObservationEntry* ce = ctx.tables.observation(*ccode, &via)) {
        note_site_map(ctx, r.ref, via);
        any_component = true;
        if (rests_on_text(*ccode, ce, observation_of)) ctx.from_text(r.ref);
        take(*ce, comp);
      }
    }
    if (!entry && !any_component) {
      // An imaging finding coded as a metastasis, or a clinical finding
      // (back pain, paraparesis) recorded as an Observation.
      std::optional<SiteMapped> via_met, via_finding;
      const MetastasisEntry* met = ctx.tables.metastasis(*code, &via_met);
      const FindingEntry* finding = ctx.tables.finding(*code, &via_finding);
      note_site_map(ctx, r.ref, via_met);
      note_site_map(ctx, r.ref, via_finding);
      // An imaging or examination result whose finding is in its words
      // ("Intense uptake in the T5 and L1 vertebral bodies, consistent with
      // osseous metastases"): read by phrase, negation-aware, with the levels
      // the words name, and marked read from text.
      bool from_value_text = false;
      std::vector<const SpineSiteEntry*> text_levels;
      if (!met && !finding && n["valueString"].is_string()) {
        fhir::CodeableConcept words;
        words.text = n["valueString"].as_string();
        met = ctx.tables.metastasis(words);
        finding = ctx.tables.finding(words);
        from_value_text = met || finding;
        if (from_value_text) {
          for (const auto& id : parse_levels(*words.text)) {
            if (const SpineSiteEntry* l = ctx.tables.level_entry(id.name)) text_levels.push_back(l);
          }
        }
      }
      if (met || finding) {
        const fhir::ObservationValue v = fhir::read_value(n);
        if (const bool* b = std::get_if<bool>(&v); b && !*b) {
          ctx.ignore(r.ref, "finding recorded as absent");
          return;
        }
        ConditionFacts f;
        f.ref = r.ref;
        f.metastasis = met;
        f.finding = finding;
        f.code = source_code(*code);
        f.label = std::string(code->label());
        f.onset = when;
        f.recorded = when;
        f.levels = body_site_levels(ctx, n);
        for (const SpineSiteEntry* l : text_levels) {
          if (std::find(f.levels.begin(), f.levels.end(), l) == f.levels.end())
            f.levels.push_back(l);
        }
        std::sort(f.levels.begin(), f.levels.end(),
                  [](const SpineSiteEntry* a, const SpineSiteEntry* b) {
                    return a->level->ordinal < b->level->ordinal;
                  });
        f.note = note_text(n);
        if (from_value_text) ctx.from_text(r.ref);
        const CodeTables& t = ctx.tables;
        if (rests_on_text(*code, met, [&](const auto& c) { return t.metastasis(c); }) ||
            rests_on_text(*code, finding, [&](const auto& c) { return t.finding(c); })) {
          ctx.from_text(r.ref);
        }
        findings.push_back(std::move(f));
        return;
      }
      ctx.ignore(r.ref, "Observation code is not in the code tables");
      return;
    }
    if (local.empty()) {
      ctx.ignore(r.ref, first_problem.empty() ? "no usable value" : first_problem);
      return;
    }
    for (auto& rd : local) out.push_back(std::move(rd));
  } catch (const fhir::ElementError& e) {
    ctx.ignore(r.ref, std::string("unreadable Observation: ") + e.what());
  }
}

void read_care_plan(const Context& ctx, const RecordResource& r,
                    const std::set<std::string>& cancer_conditions,
                    std::vector<CarePlanFacts>& out) {
  try {
    fhir::Node n = r.node;
    const std::string status(n.string("status").value_or(""));
    bool oncology = false;
    for (const auto& cat : fhir::read_codeable_concepts(n.array("category"))) {
      const CarePlanEntry* e = ctx.tables.care_plan(cat);
      if (e && e->role == CarePlanRole::kOncologyCategory) oncology = true;
    }
    for (fhir::Node a : n.array("addresses")) {
      if (auto ref = fhir::read_reference(a)) {
        if (cancer_conditions.count(ref->relative())) oncology = true;
      }
    }
    // Treatments named by the plan's activities.
    std::vector<std::pair<TreatmentKind, std::string>> kinds;
    for (fhir::Node act : n.array("activity")) {
      if (!act.is_object()) continue;
      fhir::Node detail = act.object("detail");
      const std::string act_status(detail.string("status").value_or(""));
      if (act_status == "cancelled" || act_status == "stopped" || act_status == "completed" ||
          act_status == "entered-in-error") {
        continue;
      }
      std::vector<fhir::CodeableConcept> concepts;
      if (auto c = fhir::read_codeable_concept(detail.object("code"))) concepts.push_back(*c);
      if (auto c = fhir::read_codeable_concept(detail.object("productCodeableConcept"))) {
        concepts.push_back(*c);
      }
      for (const auto& c : concepts) {
        const CarePlanEntry* e = ctx.tables.care_plan(c);
        if (e && e->role == CarePlanRole::kActivity && e->treatment) {
          kinds.emplace_back(*e->treatment, e->label);
        }
      }
    }
    if (!oncology && kinds.empty()) {
      ctx.ignore(r.ref,
                 "not a cancer-treatment plan (no oncology category, cancer Condition or treatment "
                 "activity)");
      return;
    }
    if (status != "active" && status != "on-hold") {
      if (status == "entered-in-error") ctx.ignore(r.ref, "status entered-in-error");
      if (status == "draft") ctx.ignore(r.ref, "status draft: a proposal, not a current treatment");
      return;  // completed, revoked or unknown plans are not current
    }
    auto period = fhir::read_period(n.object("period"));
    if (period) {
      if (period->start && ctx.after_as_of(*period->start)) return;              // not started yet
      if (period->end && period->end->end_ms() <= ctx.as_of.start_ms()) return;  // ended
    }
    CarePlanFacts f;
    f.ref = r.ref;
    const std::string title(n.string("title").value_or(""));
    if (kinds.empty())
      kinds.emplace_back(TreatmentKind::kOtherCancerTreatment,
                         title.empty() ? "Cancer care plan" : title);
    std::sort(kinds.begin(), kinds.end());
    kinds.erase(std::unique(kinds.begin(), kinds.end(),
                            [](const auto& a, const auto& b) { return a.first == b.first; }),
                kinds.end());
    for (const auto& [kind, label] : kinds) {
      ActiveTreatment t;
      t.kind = kind;
      t.label = label;
      t.status = status;
      if (period) {
        t.start = period->start;
        t.end = period->end;
      }
      add_evidence(t.evidence, r.ref);
      f.treatments.push_back(std::move(t));
    }
    out.push_back(std::move(f));
  } catch (const fhir::ElementError& e) {
    ctx.ignore(r.ref, std::string("unreadable CarePlan: ") + e.what());
  }
}

void read_procedure(const Context& ctx, const RecordResource& r, std::vector<SpinalSurgery>& out) {
  try {
    fhir::Node n = r.node;
    auto code = fhir::read_codeable_concept(n.object("code"));
    const ProcedureEntry* e = code ? ctx.tables.procedure(*code) : nullptr;
    if (!e) {
      ctx.ignore(r.ref,
                 "Procedure code is neither a spinal operation nor a cancer treatment in the code "
                 "tables");
      return;
    }
    const std::string status(n.string("status").value_or(""));
    if (status != "completed") {
      ctx.ignore(r.ref, "Procedure status '" + status + "': only completed operations count");
      return;
    }
    std::optional<fhir::DateTime> when = fhir::read_datetime(n["performedDateTime"]);
    if (!when) {
      if (auto p = fhir::read_period(n.object("performedPeriod")))
        when = p->end ? p->end : p->start;
    }
    if (!when) {
      ctx.ignore(r.ref, "Procedure has no performed date");
      return;
    }
    if (ctx.after_as_of(*when)) {
      ctx.ignore(r.ref, "performed after the as-of time");
      return;
    }
    if (fhir::days_between(*when, ctx.as_of) >
        static_cast<std::int64_t>(ctx.tables.value("recency.spinal-surgery"))) {
      return;  // history: outside the window the goal rules look at
    }
    SpinalSurgery s;
    s.label = e->label;
    s.when = when;
    add_evidence(s.evidence, r.ref);
    out.push_back(std::move(s));
  } catch (const fhir::ElementError& err) {
    ctx.ignore(r.ref, std::string("unreadable Procedure: ") + err.what());
  }
}

}  // namespace mst::mappings::detail

namespace mst::mappings::detail {

void read_death(const Context& ctx, const RecordResource& patient) {
  Death& d = ctx.out.death;
  try {
    fhir::Node n = patient.node;
    if (n.boolean("deceasedBoolean").value_or(false)) {
      d.recorded = true;
    } else if (auto when = fhir::read_datetime(n["deceasedDateTime"])) {
      // A death dated after as_of had not happened yet on that day.
      if (ctx.after_as_of(*when)) return;
      d.recorded = true;
      d.when = when;
    }
  } catch (const fhir::ElementError& e) {
    ctx.ignore(patient.ref, std::string("unreadable Patient.deceased[x]: ") + e.what());
    ctx.gap("general condition",
            "Patient.deceased[x] could not be read: whether the patient is alive is unknown");
    return;
  }
  if (d.recorded) add_evidence(d.evidence, patient.ref);
}

}  // namespace mst::mappings::detail
