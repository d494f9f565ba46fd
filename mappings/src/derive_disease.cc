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

void derive_cancer_and_metastases(const Context& ctx, const Inputs& in) {
  Considerations& out = ctx.out;
  std::map<int, SpinalLesion> lesions;  // by ordinal
  std::set<SpineRegion> regions;
  std::set<std::string> linked_primaries;
  bool bone_without_site = false;
  Evidence bone_without_site_refs;

  auto add_level = [&](const SpineSiteEntry* s, const std::string& ref) {
    auto [it, inserted] = lesions.try_emplace(s->level->ordinal);
    if (inserted) it->second.level = *s->level;
    add_evidence(it->second.evidence, ref);
    regions.insert(s->level->region);
  };

  for (const auto& f : in.conditions) {
    if (!f.metastasis || !f.active) continue;
    add_condition(out.metastasis_conditions, f.ref);
    if (!f.related_primary.empty()) linked_primaries.insert(f.related_primary);
    if (spinal(f)) {
      out.spine.present = true;
      add_evidence(out.spine.evidence, f.ref);
      for (const auto* l : f.levels) add_level(l, f.ref);
      for (const auto* r : f.regions) {
        if (r->region) regions.insert(*r->region);
        if (r->sins_location == SinsLocation::kJunctional) out.spine.any_junctional = true;
      }
      if (f.metastasis->region) regions.insert(*f.metastasis->region);
    }
    switch (f.metastasis->site) {
      case MetastasisSite::kVisceral:
        out.other_metastases.visceral = true;
        add_evidence(out.other_metastases.evidence, f.ref);
        break;
      case MetastasisSite::kBrain:
        out.other_metastases.brain = true;
        add_evidence(out.other_metastases.evidence, f.ref);
        break;
      case MetastasisSite::kBone:
        if (!f.other_sites.empty()) {
          out.other_metastases.extraspinal_bone = true;
          add_evidence(out.other_metastases.evidence, f.ref);
        } else if (f.levels.empty() && f.regions.empty()) {
          bone_without_site = true;
          add_evidence(bone_without_site_refs, f.ref);
        }
        break;
      default:
        break;
    }
  }
  // Direct malignant infiltration of the spine (NICE NG234's scope): myeloma,
  // plasmacytoma, lymphoma or any malignancy whose own Condition names a
  // vertebra or spinal region, and primary tumours of the vertebral column.
  // Myeloma bone lesions are not metastases, so no C79.5x is expected for them
  // (fhir-coding.md §16.6).
  for (const auto& f : in.conditions) {
    if (!f.cancer || !f.active) continue;
    if (f.levels.empty() && f.regions.empty() && !f.cancer->in_spine) continue;
    out.spine.present = true;
    add_evidence(out.spine.evidence, f.ref);
    add_condition(out.metastasis_conditions, f.ref);
    for (const auto* l : f.levels) add_level(l, f.ref);
    for (const auto* r : f.regions) {
      if (r->region) regions.insert(*r->region);
      if (r->sins_location == SinsLocation::kJunctional) out.spine.any_junctional = true;
    }
  }
  // Imaging findings: a lesion Observation, or a per-lesion score at a level.
  for (const auto& r : in.readings) {
    if (!r.entry->per_lesion || r.levels.empty()) continue;
    if (r.entry->key == "pathological-fracture" && r.number == 0.0) continue;
    if (r.entry->key == "spinal-lesion" && r.number == 0.0) continue;
    out.spine.present = true;
    add_evidence(out.spine.evidence, r.ref);
    for (const auto* l : r.levels) add_level(l, r.ref);
  }
  for (const auto* r : all_of(in, "spinal-lesion")) {
    if (r->number == 1.0) {
      out.spine.present = true;
      add_evidence(out.spine.evidence, r->ref);
    }
  }
  for (auto& [ordinal, lesion] : lesions) {
    if (lesion.level.sins_location == SinsLocation::kJunctional) out.spine.any_junctional = true;
    out.spine.lesions.push_back(std::move(lesion));
  }
  out.spine.contiguous = !out.spine.lesions.empty();
  for (std::size_t i = 1; i < out.spine.lesions.size(); ++i) {
    if (out.spine.lesions[i].level.ordinal != out.spine.lesions[i - 1].level.ordinal + 1) {
      out.spine.contiguous = false;
    }
  }
  out.spine.regions.assign(regions.begin(), regions.end());
  if (const Reading* count = latest(in, "vertebral-metastasis-count")) {
    out.spine.stated_count = fact_from(ctx, *count, static_cast<int>(*count->number));
  }
  if (!out.spine.present) {
    ctx.gap("spinal lesions",
            bone_without_site
                ? "bone metastasis recorded without a body site: spinal involvement unknown"
                : "no spinal metastasis Condition or imaging finding");
  } else if (out.spine.lesions.empty()) {
    ctx.gap("spinal lesions", "spinal metastasis recorded without vertebral levels");
  }

  // The primary cancer.
  std::vector<const ConditionFacts*> cancers;
  for (const auto& f : in.conditions) {
    if (f.cancer) {
      cancers.push_back(&f);
      add_condition(out.primary_conditions, f.ref);
    }
  }
  const ConditionFacts* chosen = nullptr;
  for (const auto* f : cancers) {
    if (!chosen || cancer_rank(*chosen, linked_primaries) < cancer_rank(*f, linked_primaries))
      chosen = f;
  }
  const CancerEntry* entry = chosen ? chosen->cancer : nullptr;
  Evidence evidence;
  SourceCode code;
  if (chosen) {
    add_evidence(evidence, chosen->ref);
    code = chosen->code;
  } else {
    // A combined code ("prostate cancer metastatic to bone") names the primary.
    for (const auto& f : in.conditions) {
      if (f.metastasis && !f.metastasis->implies_primary.empty()) {
        entry = ctx.tables.cancer_by_key(f.metastasis->implies_primary);
        add_evidence(evidence, f.ref);
        code = f.code;
        break;
      }
    }
  }
  if (entry) {
    PrimaryCancer pc;
    pc.key = entry->key;
    pc.label = entry->label;
    pc.primary_site = entry->primary_site;
    pc.radiosensitivity = entry->radiosensitivity;
    pc.tokuhashi_points = entry->tokuhashi_points;
    pc.haematological = entry->haematological;
    pc.code = code;
    pc.evidence = evidence;
    if (chosen) pc.histology = chosen->histology;
    out.cancer = std::move(pc);
    std::set<std::string> keys;
    for (const auto* f : cancers) {
      if (f->active) keys.insert(f->cancer->key);
    }
    if (keys.size() > 1) {
      std::string list;
      for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
      ctx.gap("cancer type", std::to_string(keys.size()) + " active primary cancers (" + list +
                                 "); using " + entry->key +
                                 ": confirm which one the spinal disease comes from");
    }
    if (entry->radiosensitivity == Radiosensitivity::kUnknown) {
      ctx.gap("cancer type", "radiosensitivity of " + entry->label + " is not classed (NOMS)");
    }
  } else {
    ctx.gap("cancer type", "no primary cancer Condition");
  }
}

void derive_treatments(const Context& ctx, const Inputs& in) {
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
  auto& list = ctx.out.treatments;
  bool any_ongoing = false;
  for (auto& [key, t] : merged) {
    any_ongoing = any_ongoing || !t.end || t.end->end_ms() > ctx.as_of.start_ms();
    list.push_back(std::move(t));
  }
  std::sort(list.begin(), list.end(), [](const ActiveTreatment& a, const ActiveTreatment& b) {
    return std::tie(a.kind, a.label, a.evidence) < std::tie(b.kind, b.label, b.evidence);
  });
  if (!any_ongoing) {
    ctx.gap("current cancer treatment", "no active cancer treatment recorded on " +
                                            ctx.as_of.date_string() +
                                            " (CarePlan, medication or procedure)");
  }
}

namespace {

int tokuhashi_count_points(int count) {  // extraspinal bone foci
  return count >= 3 ? 0 : (count >= 1 ? 1 : 2);
}

int tokuhashi_vertebral_points(int count) { return count >= 3 ? 0 : (count == 2 ? 1 : 2); }

}  // namespace

void derive_life_expectancy(const Context& ctx, const Inputs& in) {
  Considerations& out = ctx.out;
  LifeExpectancy& le = out.life_expectancy;
  if (const Reading* r = latest(in, "life-expectancy"))
    le.stated_months = fact_from(ctx, *r, *r->number);
  {
    const ConditionFacts* poor = nullptr;
    for (const auto& f : in.conditions) {
      if (f.finding && f.finding->finding == FindingKind::kPoorPrognosis && f.active) {
        if (!poor || (f.onset && (!poor->onset || *poor->onset < *f.onset))) poor = &f;
      }
    }
    if (poor) {
      Fact<std::string> fact;
      fact.value = poor->label;
      fact.when = poor->onset;
      add_evidence(fact.evidence, poor->ref);
      le.poor_prognosis = std::move(fact);
    }
  }

  TokuhashiScore& tk = le.tokuhashi;
  if (const Reading* stated = latest(in, "tokuhashi-total")) {
    tk.complete = true;
    tk.stated = true;
    tk.total = static_cast<int>(*stated->number);
    tk.band = tokuhashi_band(tk.total, ctx.tables);
    add_evidence(tk.evidence, stated->ref);
    tk.inputs.push_back("stated total " + std::to_string(tk.total));
  } else {
    int total = 0;
    auto known = [&](std::string text, int points, const Evidence& ev) {
      total += points;
      tk.inputs.push_back(std::move(text) + " -> " + std::to_string(points));
      merge_evidence(tk.evidence, ev);
    };
    // 1. General condition (KPS): poor 10-40 = 0, moderate 50-70 = 1, good 80-100 = 2.
    const QualityOfLife& q = out.quality_of_life;
    auto kps_points = [](int kps) { return kps >= 80 ? 2 : (kps >= 50 ? 1 : 0); };
    if (q.karnofsky && !q.karnofsky_derived) {
      known("general condition: KPS " + std::to_string(q.karnofsky->value) +
                (q.karnofsky->stale ? " (stale)" : ""),
            kps_points(q.karnofsky->value), q.karnofsky->evidence);
    } else if (q.ecog && q.ecog->value != 1) {
      // ECOG 1 spans KPS 70-80, which straddles two Tokuhashi categories.
      known("general condition: ECOG " + std::to_string(q.ecog->value) + " read as KPS " +
                std::to_string(karnofsky_from_ecog(q.ecog->value)) +
                (q.ecog->stale ? " (stale)" : ""),
            kps_points(karnofsky_from_ecog(q.ecog->value)), q.ecog->evidence);
    } else {
      tk.missing.push_back(q.ecog ? "general condition (KPS; ECOG 1 spans two categories)"
                                  : "general condition (KPS)");
    }
    // 2. Extraspinal bone metastasis foci.
    if (const Reading* r = latest(in, "extraspinal-bone-metastasis-count")) {
      const int n = static_cast<int>(*r->number);
      Evidence ev;
      add_evidence(ev, r->ref);
      known("extraspinal bone metastases: " + std::to_string(n) + " stated",
            tokuhashi_count_points(n), ev);
    } else {
      std::set<std::string> sites;
      Evidence ev;
      for (const auto& f : in.conditions) {
        if (f.active && f.metastasis && f.metastasis->site == MetastasisSite::kBone &&
            !f.other_sites.empty()) {
          sites.insert(f.other_sites.begin(), f.other_sites.end());
          add_evidence(ev, f.ref);
        }
      }
      if (!sites.empty()) {
        const int n = static_cast<int>(sites.size());
        known("extraspinal bone metastases: " + std::to_string(n) + " documented site(s)",
              tokuhashi_count_points(n), ev);
      } else {
        tk.missing.push_back("extraspinal bone metastases (count not documented)");
      }
    }
    // 3. Metastases in the vertebral body.
    if (out.spine.stated_count) {
      known(
          "vertebral body metastases: " + std::to_string(out.spine.stated_count->value) + " stated",
          tokuhashi_vertebral_points(out.spine.stated_count->value),
          out.spine.stated_count->evidence);
    } else if (!out.spine.lesions.empty()) {
      const int n = static_cast<int>(out.spine.lesions.size());
      known("vertebral body metastases: " + std::to_string(n) + " level(s)",
            tokuhashi_vertebral_points(n), out.spine.evidence);
    } else {
      tk.missing.push_back("vertebral body metastases (no levels)");
    }
    // 4. Metastases to major internal organs.
    if (const Reading* r = latest(in, "internal-organ-metastasis")) {
      const int p = r->token == "none" ? 2 : (r->token == "removable" ? 1 : 0);
      Evidence ev;
      add_evidence(ev, r->ref);
      known("internal organ metastases: " + r->token, p, ev);
    } else {
      const bool any = out.other_metastases.visceral || out.other_metastases.brain;
      tk.missing.push_back(any ? "metastases to major internal organs (removability not stated)"
                               : "metastases to major internal organs (no staging statement)");
    }
    // 5. Primary site.
    if (out.cancer && out.cancer->tokuhashi_points) {
      known("primary site: " + out.cancer->label, *out.cancer->tokuhashi_points,
            out.cancer->evidence);
    } else {
      tk.missing.push_back(out.cancer
                               ? "primary site (" + out.cancer->label + " has no single tier)"
                               : "primary site");
    }
    // 6. Palsy: Frankel A/B complete = 0, C/D incomplete = 1, E none = 2.
    const auto& grade = out.neurology.frankel ? out.neurology.frankel : out.neurology.asia;
    if (grade) {
      const char g = grade->value;
      const int p = (g == 'A' || g == 'B') ? 0 : (g == 'E' ? 2 : 1);
      known(std::string("palsy: ") + (out.neurology.frankel ? "Frankel " : "ASIA ") + g, p,
            grade->evidence);
    } else {
      tk.missing.push_back("palsy (Frankel grade)");
    }
    tk.complete = tk.missing.empty();
    if (tk.complete) {
      tk.total = total;
      tk.band = tokuhashi_band(total, ctx.tables);
    }
  }
  if (!le.stated_months && !tk.complete) {
    std::string missing;
    for (const auto& m : tk.missing) missing += (missing.empty() ? "" : "; ") + m;
    ctx.gap(
        "life expectancy",
        "no stated survival estimate, and the revised Tokuhashi score is incomplete: " + missing);
  } else if (le.stated_months && le.stated_months->stale) {
    ctx.gap("life expectancy", "stated survival estimate is from " +
                                   when_text(le.stated_months->when) + ", older than " +
                                   format_number(ctx.tables.value("recency.life-expectancy")) +
                                   " days");
  }
}

}  // namespace mst::mappings::detail
