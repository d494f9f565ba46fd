// Derivers for the disease itself: cancer type, spinal lesions, other
// metastases, current cancer treatment and life expectancy.
#include <algorithm>
#include <map>

#include "extract_internal.h"
#include "mst/mappings/extract.h"
#include "mst/mappings/text.h"

namespace mst::mappings::detail {

namespace {

bool spinal(const ConditionFacts& f) {
  if (!f.metastasis) return false;
  switch (f.metastasis->site) {
    case MetastasisSite::kSpine:
    case MetastasisSite::kSpinalCanal:
      return true;
    case MetastasisSite::kBone:
    case MetastasisSite::kUnspecified:
      return !f.levels.empty() || !f.regions.empty();
    default:
      return false;
  }
}

// Higher is preferred as "the" primary cancer.
auto cancer_rank(const ConditionFacts& f, const std::set<std::string>& linked) {
  const bool specific = f.cancer->tokuhashi_points.has_value() ||
                        f.cancer->radiosensitivity != Radiosensitivity::kUnknown;
  const std::int64_t onset = f.onset ? f.onset->start_ms() : INT64_MIN;
  return std::make_tuple(linked.count(f.ref) > 0, f.active, specific, onset, f.ref);
}

// A plan `addresses` Conditions only (R4 CarePlan.addresses and
// CareTeam.reasonReference are Reference(Condition)); a finding read from an
// Observation is evidence, not something the plan addresses.
void add_condition(Evidence& e, const std::string& ref) {
  if (ref.rfind("Condition/", 0) == 0) add_evidence(e, ref);
}

}  // namespace

namespace {

// The spine gathered from Conditions and imaging: lesions by level (one per
// vertebra, craniocaudal) and regions, whichever resource names them.
class SpineBuilder {
 public:
  // `ref` shows spinal disease, at no level in particular.
  void present(const std::string& ref) {
    spine_.present = true;
    add_evidence(spine_.evidence, ref);
  }
  void add_level(const SpineSiteEntry* s, const std::string& ref) {
    auto [it, inserted] = lesions_.try_emplace(s->level->ordinal);
    if (inserted) it->second.level = *s->level;
    add_evidence(it->second.evidence, ref);
    regions_.insert(s->level->region);
  }
  void add_region(SpineRegion r) { regions_.insert(r); }
  // The levels and level-less regions a Condition's bodySite names.
  void add_sites(const ConditionFacts& f) {
    for (const auto* l : f.levels) add_level(l, f.ref);
    for (const auto* r : f.regions) {
      if (r->region) regions_.insert(*r->region);
      if (r->sins_location == SinsLocation::kJunctional) spine_.any_junctional = true;
    }
  }

  SpinalDisease finish() && {
    for (auto& [ordinal, lesion] : lesions_) {
      if (lesion.level.sins_location == SinsLocation::kJunctional) spine_.any_junctional = true;
      spine_.lesions.push_back(std::move(lesion));
    }
    spine_.contiguous = !spine_.lesions.empty();
    for (std::size_t i = 1; i < spine_.lesions.size(); ++i) {
      if (spine_.lesions[i].level.ordinal != spine_.lesions[i - 1].level.ordinal + 1) {
        spine_.contiguous = false;
      }
    }
    spine_.regions.assign(regions_.begin(), regions_.end());
    return std::move(spine_);
  }

 private:
  SpinalDisease spine_;
  std::map<int, SpinalLesion> lesions_;  // by ordinal
  std::set<SpineRegion> regions_;
};

// What the metastasis Conditions say beyond the spine.
struct MetastasisSites {
  std::set<std::string> linked_primaries;  // "Condition/id" named by the related extension
  bool bone_without_site = false;          // spinal involvement unknown
};

// A metastasis Condition's non-spinal sites.
void add_other_sites(const ConditionFacts& f, OtherMetastases& other, MetastasisSites& sites) {
  switch (f.metastasis->site) {
    case MetastasisSite::kVisceral:
      other.visceral = true;
      add_evidence(other.evidence, f.ref);
      break;
    case MetastasisSite::kBrain:
      other.brain = true;
      add_evidence(other.evidence, f.ref);
      break;
    case MetastasisSite::kBone:
      if (!f.other_sites.empty()) {
        other.extraspinal_bone = true;
        add_evidence(other.evidence, f.ref);
      } else if (f.levels.empty() && f.regions.empty()) {
        sites.bone_without_site = true;
      }
      break;
    default:
      break;
  }
}

MetastasisSites read_metastases(const Inputs& in, SpineBuilder& spine, DiseaseFacts& out) {
  MetastasisSites sites;
  for (const auto& f : in.conditions) {
    if (!f.metastasis || !f.active) continue;
    add_condition(out.metastasis_conditions, f.ref);
    if (!f.related_primary.empty()) sites.linked_primaries.insert(f.related_primary);
    if (spinal(f)) {
      spine.present(f.ref);
      spine.add_sites(f);
      if (f.metastasis->region) spine.add_region(*f.metastasis->region);
    }
    add_other_sites(f, out.other_metastases, sites);
  }
  return sites;
}

// Direct malignant infiltration of the spine (NICE NG234's scope): myeloma,
// plasmacytoma, lymphoma or any malignancy whose own Condition names a
// vertebra or spinal region, and primary tumours of the vertebral column.
// Myeloma bone lesions are not metastases, so no C79.5x is expected for them
// (fhir-coding.md §16.6).
void read_infiltration(const Inputs& in, SpineBuilder& spine, Evidence& metastasis_conditions) {
  for (const auto& f : in.conditions) {
    if (!f.cancer || !f.active) continue;
    if (f.levels.empty() && f.regions.empty() && !f.cancer->in_spine) continue;
    spine.present(f.ref);
    add_condition(metastasis_conditions, f.ref);
    spine.add_sites(f);
  }
}

// SINS (clinical-decision.md §1, Fisher 2010) and the Bilsky ESCC grade
// (§2, Bilsky 2010; grade 0 is "disease confined to bone") are defined only
// for a tumour of the spine: a score recorded at all says there is one, even
// where the chart gives no level (Synthea, and flowsheets, cannot put a body
// site on it) and the metastasis is coded C79.51, which covers all bone.
bool spine_only_score(const std::string& key) {
  return key == "escc-grade" || key.starts_with("sins-");
}

// Imaging findings: a lesion Observation, or a per-lesion score at a level;
// a spine-only score without one.
void read_imaging(const Inputs& in, SpineBuilder& spine) {
  for (const auto& r : in.readings) {
    if (!r.entry->per_lesion) continue;
    if (r.levels.empty()) {
      if (spine_only_score(r.entry->key)) spine.present(r.ref);
      continue;
    }
    if (r.entry->key == "pathological-fracture" && r.number == 0.0) continue;
    if (r.entry->key == "spinal-lesion" && r.number == 0.0) continue;
    spine.present(r.ref);
    for (const auto* l : r.levels) spine.add_level(l, r.ref);
  }
  for (const auto* r : all_of(in, "spinal-lesion")) {
    if (r->number == 1.0) spine.present(r->ref);
  }
}

void spine_gaps(const SpinalDisease& spine, bool bone_without_site, Gaps& gaps) {
  if (!spine.present) {
    gaps.push_back({"spinal lesions",
                    bone_without_site
                        ? "bone metastasis recorded without a body site: spinal involvement unknown"
                        : "no spinal metastasis Condition or imaging finding"});
  } else if (spine.lesions.empty()) {
    gaps.push_back({"spinal lesions", "spinal metastasis recorded without vertebral levels"});
  }
}

// The cancer Condition preferred as "the" primary, or nullptr.
const ConditionFacts* choose_cancer(const std::vector<const ConditionFacts*>& cancers,
                                    const std::set<std::string>& linked) {
  const ConditionFacts* chosen = nullptr;
  for (const auto* f : cancers) {
    if (!chosen || cancer_rank(*chosen, linked) < cancer_rank(*f, linked)) chosen = f;
  }
  return chosen;
}

PrimaryCancer primary_of(const CancerEntry& entry, const SourceCode& code, Evidence evidence) {
  PrimaryCancer pc;
  pc.key = entry.key;
  pc.label = entry.label;
  pc.primary_site = entry.primary_site;
  pc.radiosensitivity = entry.radiosensitivity;
  pc.tokuhashi_points = entry.tokuhashi_points;
  pc.haematological = entry.haematological;
  pc.code = code;
  pc.evidence = std::move(evidence);
  return pc;
}

// A combined code ("prostate cancer metastatic to bone") names the primary.
std::optional<PrimaryCancer> primary_from_metastasis(const Basis& basis, const Inputs& in) {
  for (const auto& f : in.conditions) {
    if (f.metastasis && !f.metastasis->implies_primary.empty()) {
      const CancerEntry* entry = basis.tables.cancer_by_key(f.metastasis->implies_primary);
      if (!entry) return std::nullopt;
      Evidence evidence;
      add_evidence(evidence, f.ref);
      return primary_of(*entry, f.code, std::move(evidence));
    }
  }
  return std::nullopt;
}

void cancer_gaps(const std::optional<PrimaryCancer>& cancer,
                 const std::vector<const ConditionFacts*>& cancers, Gaps& gaps) {
  if (!cancer) {
    gaps.push_back({"cancer type", "no primary cancer Condition"});
    return;
  }
  std::set<std::string> keys;
  for (const auto* f : cancers) {
    if (f->active) keys.insert(f->cancer->key);
  }
  if (keys.size() > 1) {
    std::string list;
    for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
    gaps.push_back({"cancer type", std::to_string(keys.size()) + " active primary cancers (" +
                                       list + "); using " + cancer->key +
                                       ": confirm which one the spinal disease comes from"});
  }
  if (cancer->radiosensitivity == Radiosensitivity::kUnknown) {
    gaps.push_back(
        {"cancer type", "radiosensitivity of " + cancer->label + " is not classed (NOMS)"});
  }
}

void derive_primary(const Basis& basis, const Inputs& in, const std::set<std::string>& linked,
                    DiseaseFacts& out) {
  std::vector<const ConditionFacts*> cancers;
  for (const auto& f : in.conditions) {
    if (f.cancer) {
      cancers.push_back(&f);
      add_condition(out.primary_conditions, f.ref);
    }
  }
  if (const ConditionFacts* chosen = choose_cancer(cancers, linked)) {
    Evidence evidence;
    add_evidence(evidence, chosen->ref);
    out.cancer = primary_of(*chosen->cancer, chosen->code, std::move(evidence));
    out.cancer->histology = chosen->histology;
  } else {
    out.cancer = primary_from_metastasis(basis, in);
  }
  cancer_gaps(out.cancer, cancers, out.gaps);
}

}  // namespace

DiseaseFacts derive_cancer_and_metastases(const Basis& basis, const Inputs& in) {
  DiseaseFacts out;
  SpineBuilder spine;
  const MetastasisSites sites = read_metastases(in, spine, out);
  read_infiltration(in, spine, out.metastasis_conditions);
  read_imaging(in, spine);
  out.spine = std::move(spine).finish();
  if (const Reading* count = latest(in, "vertebral-metastasis-count")) {
    out.spine.stated_count = fact_from(basis, *count, static_cast<int>(*count->number));
  }
  spine_gaps(out.spine, sites.bone_without_site, out.gaps);
  derive_primary(basis, in, sites.linked_primaries, out);
  return out;
}

Derived<std::vector<ActiveTreatment>> derive_treatments(const Basis& basis, const Inputs& in) {
  // One line per kind and drug (or plan title): weekly administrations of one
  // drug, its order and a CarePlan naming it are one treatment.
  std::map<std::pair<TreatmentKind, std::string>, ActiveTreatment> merged;
  auto add = [&](const ActiveTreatment& t) {
    auto [it, inserted] = merged.try_emplace({t.kind, normalize_text(t.label)}, t);
    if (inserted) return;
    ActiveTreatment& m = it->second;
    merge_evidence(m.evidence, t.evidence);
    if (t.start && (!m.start || *t.start < *m.start)) m.start = t.start;
    // Still going if any source says so; otherwise the latest end.
    if (!t.end || !m.end) {
      m.end.reset();
    } else if (*m.end < *t.end) {
      m.end = t.end;
    }
    if (m.status != "active" && (t.status == "active" || m.status.empty())) m.status = t.status;
  };
  for (const auto& p : in.plans) {
    for (const auto& t : p.treatments) add(t);
  }
  for (const auto& t : in.treatments) add(t);
  Derived<std::vector<ActiveTreatment>> out;
  auto& list = out.value;
  bool any_ongoing = false;
  for (auto& [key, t] : merged) {
    any_ongoing = any_ongoing || !t.end || t.end->end_ms() > basis.as_of.start_ms();
    list.push_back(std::move(t));
  }
  std::sort(list.begin(), list.end(), [](const ActiveTreatment& a, const ActiveTreatment& b) {
    return std::tie(a.kind, a.label, a.evidence) < std::tie(b.kind, b.label, b.evidence);
  });
  if (!any_ongoing) {
    out.gaps.push_back({"current cancer treatment", "no active cancer treatment recorded on " +
                                                        basis.as_of.date_string() +
                                                        " (CarePlan, medication or procedure)"});
  }
  return out;
}

namespace {

int tokuhashi_count_points(int count) {  // extraspinal bone foci
  return count >= 3 ? 0 : (count >= 1 ? 1 : 2);
}

int tokuhashi_vertebral_points(int count) { return count >= 3 ? 0 : (count == 2 ? 1 : 2); }

std::optional<Fact<std::string>> poor_prognosis(const Inputs& in) {
  const ConditionFacts* poor = nullptr;
  for (const auto& f : in.conditions) {
    if (f.finding && f.finding->finding == FindingKind::kPoorPrognosis && f.active) {
      if (!poor || (f.onset && (!poor->onset || *poor->onset < *f.onset))) poor = &f;
    }
  }
  if (!poor) return std::nullopt;
  Fact<std::string> fact;
  fact.value = poor->label;
  fact.when = poor->onset;
  add_evidence(fact.evidence, poor->ref);
  return fact;
}

// The revised Tokuhashi score being summed: each of the six inputs either
// scores points or is listed as missing.
struct Tally {
  TokuhashiScore score;
  int total = 0;

  void known(std::string text, int points, const Evidence& ev) {
    total += points;
    score.inputs.push_back(std::move(text) + " -> " + std::to_string(points));
    merge_evidence(score.evidence, ev);
  }
  void missing(std::string what) { score.missing.push_back(std::move(what)); }
};

// 1. General condition (KPS): poor 10-40 = 0, moderate 50-70 = 1, good 80-100 = 2.
void score_general_condition(const QualityOfLife& q, Tally& t) {
  auto kps_points = [](int kps) { return kps >= 80 ? 2 : (kps >= 50 ? 1 : 0); };
  if (q.karnofsky && !q.karnofsky_derived) {
    t.known("general condition: KPS " + std::to_string(q.karnofsky->value) +
                (q.karnofsky->stale ? " (stale)" : ""),
            kps_points(q.karnofsky->value), q.karnofsky->evidence);
  } else if (q.ecog && q.ecog->value != 1) {
    // ECOG 1 spans KPS 70-80, which straddles two Tokuhashi categories.
    t.known("general condition: ECOG " + std::to_string(q.ecog->value) + " read as KPS " +
                std::to_string(karnofsky_from_ecog(q.ecog->value)) +
                (q.ecog->stale ? " (stale)" : ""),
            kps_points(karnofsky_from_ecog(q.ecog->value)), q.ecog->evidence);
  } else {
    t.missing(q.ecog ? "general condition (KPS; ECOG 1 spans two categories)"
                     : "general condition (KPS)");
  }
}

// 2. Extraspinal bone metastasis foci: stated, else the documented sites.
void score_extraspinal_bone(const Inputs& in, Tally& t) {
  if (const Reading* r = latest(in, "extraspinal-bone-metastasis-count")) {
    const int n = static_cast<int>(*r->number);
    Evidence ev;
    add_evidence(ev, r->ref);
    t.known("extraspinal bone metastases: " + std::to_string(n) + " stated",
            tokuhashi_count_points(n), ev);
    return;
  }
  std::set<std::string> sites;
  Evidence ev;
  for (const auto& f : in.conditions) {
    if (f.active && f.metastasis && f.metastasis->site == MetastasisSite::kBone &&
        !f.other_sites.empty()) {
      sites.insert(f.other_sites.begin(), f.other_sites.end());
      add_evidence(ev, f.ref);
    }
  }
  if (sites.empty()) {
    t.missing("extraspinal bone metastases (count not documented)");
    return;
  }
  const int n = static_cast<int>(sites.size());
  t.known("extraspinal bone metastases: " + std::to_string(n) + " documented site(s)",
          tokuhashi_count_points(n), ev);
}

// 3. Metastases in the vertebral body.
void score_vertebral(const SpinalDisease& spine, Tally& t) {
  if (spine.stated_count) {
    t.known("vertebral body metastases: " + std::to_string(spine.stated_count->value) + " stated",
            tokuhashi_vertebral_points(spine.stated_count->value), spine.stated_count->evidence);
  } else if (!spine.lesions.empty()) {
    const int n = static_cast<int>(spine.lesions.size());
    t.known("vertebral body metastases: " + std::to_string(n) + " level(s)",
            tokuhashi_vertebral_points(n), spine.evidence);
  } else {
    t.missing("vertebral body metastases (no levels)");
  }
}

// 4. Metastases to major internal organs.
void score_internal_organs(const Inputs& in, const OtherMetastases& other, Tally& t) {
  if (const Reading* r = latest(in, "internal-organ-metastasis")) {
    const int p = r->token == "none" ? 2 : (r->token == "removable" ? 1 : 0);
    Evidence ev;
    add_evidence(ev, r->ref);
    t.known("internal organ metastases: " + r->token, p, ev);
  } else {
    t.missing(other.visceral || other.brain
                  ? "metastases to major internal organs (removability not stated)"
                  : "metastases to major internal organs (no staging statement)");
  }
}

// 5. Primary site.
void score_primary_site(const std::optional<PrimaryCancer>& cancer, Tally& t) {
  if (cancer && cancer->tokuhashi_points) {
    t.known("primary site: " + cancer->label, *cancer->tokuhashi_points, cancer->evidence);
  } else {
    t.missing(cancer ? "primary site (" + cancer->label + " has no single tier)" : "primary site");
  }
}

// 6. Palsy: Frankel A/B complete = 0, C/D incomplete = 1, E none = 2.
void score_palsy(const NeurologicalStatus& n, Tally& t) {
  const auto& grade = n.frankel ? n.frankel : n.asia;
  if (!grade) {
    t.missing("palsy (Frankel grade)");
    return;
  }
  const char g = grade->value;
  const int p = (g == 'A' || g == 'B') ? 0 : (g == 'E' ? 2 : 1);
  t.known(std::string("palsy: ") + (n.frankel ? "Frankel " : "ASIA ") + g, p, grade->evidence);
}

TokuhashiScore tokuhashi(const Basis& basis, const Inputs& in, const Considerations& earlier) {
  if (const Reading* stated = latest(in, "tokuhashi-total")) {
    TokuhashiScore tk;
    tk.complete = true;
    tk.stated = true;
    tk.total = static_cast<int>(*stated->number);
    tk.band = tokuhashi_band(tk.total, basis.tables);
    add_evidence(tk.evidence, stated->ref);
    tk.inputs.push_back("stated total " + std::to_string(tk.total));
    return tk;
  }
  Tally t;
  score_general_condition(earlier.quality_of_life, t);
  score_extraspinal_bone(in, t);
  score_vertebral(earlier.spine, t);
  score_internal_organs(in, earlier.other_metastases, t);
  score_primary_site(earlier.cancer, t);
  score_palsy(earlier.neurology, t);
  t.score.complete = t.score.missing.empty();
  if (t.score.complete) {
    t.score.total = t.total;
    t.score.band = tokuhashi_band(t.total, basis.tables);
  }
  return std::move(t.score);
}

}  // namespace

Derived<LifeExpectancy> derive_life_expectancy(const Basis& basis, const Inputs& in,
                                               const Considerations& earlier) {
  Derived<LifeExpectancy> out;
  LifeExpectancy& le = out.value;
  if (const Reading* r = latest(in, "life-expectancy"))
    le.stated_months = fact_from(basis, *r, *r->number);
  le.poor_prognosis = poor_prognosis(in);
  le.tokuhashi = tokuhashi(basis, in, earlier);
  const TokuhashiScore& tk = le.tokuhashi;
  if (!le.stated_months && !tk.complete) {
    std::string missing;
    for (const auto& m : tk.missing) missing += (missing.empty() ? "" : "; ") + m;
    out.gaps.push_back(
        {"life expectancy",
         "no stated survival estimate, and the revised Tokuhashi score is incomplete: " + missing});
  } else if (le.stated_months && le.stated_months->stale) {
    out.gaps.push_back(
        {"life expectancy",
         "stated survival estimate is from " + when_text(le.stated_months->when) + ", older than " +
             format_number(basis.tables.value("recency.life-expectancy")) + " days"});
  }
  return out;
}

}  // namespace mst::mappings::detail
