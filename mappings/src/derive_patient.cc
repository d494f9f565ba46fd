// Derivers for the patient's state: quality of life, general condition,
// neurological and mechanical status, and preferences.
#include <algorithm>
#include <map>

#include "extract_internal.h"
#include "mst/mappings/extract.h"
#include "mst/mappings/text.h"

namespace mst::mappings::detail {

namespace {

void gap_if_stale(const Basis& basis, Gaps& gaps, const std::string& consideration,
                  const std::string& what, const std::optional<fhir::DateTime>& when, bool stale,
                  const std::string& recency_key) {
  if (!stale) return;
  gaps.push_back({consideration, what + " is from " + when_text(when) + ", older than " +
                                     format_number(basis.tables.value(recency_key)) + " days"});
}

Ambulation ambulation_of(const std::string& token) {
  if (token == "independent") return Ambulation::kIndependent;
  if (token == "with-aid") return Ambulation::kWithAid;
  if (token == "non-ambulatory") return Ambulation::kNonAmbulatory;
  return Ambulation::kUnknown;
}

}  // namespace

Derived<QualityOfLife> derive_quality_of_life(const Basis& basis, const Inputs& in) {
  Derived<QualityOfLife> out;
  QualityOfLife& q = out.value;
  Gaps& gaps = out.gaps;
  const std::string c = "quality of life";
  if (const Reading* r = latest(in, "pain-score")) {
    q.pain_score = fact_from(basis, *r, *r->number);
    gap_if_stale(basis, gaps, c, "pain score", r->when, q.pain_score->stale, r->entry->recency);
  } else {
    gaps.push_back({c, "no pain score (LOINC 72514-3)"});
  }
  const Reading* ecog = latest(in, "ecog");
  const Reading* kps = latest(in, "karnofsky");
  if (ecog) q.ecog = fact_from(basis, *ecog, static_cast<int>(*ecog->number));
  if (kps) q.karnofsky = fact_from(basis, *kps, static_cast<int>(*kps->number));
  if (!ecog && kps) {
    q.ecog = fact_from(basis, *kps, ecog_from_karnofsky(q.karnofsky->value));
    q.ecog_derived = true;
  }
  if (ecog && !kps) {
    q.karnofsky = fact_from(basis, *ecog, karnofsky_from_ecog(q.ecog->value));
    q.karnofsky_derived = true;
  }
  if (!ecog && !kps) {
    gaps.push_back({c, "no ECOG (LOINC 89247-1) or Karnofsky (LOINC 89243-0) performance status"});
  } else {
    const Reading* shown = ecog ? ecog : kps;
    gap_if_stale(basis, gaps, c, "performance status", shown->when,
                 basis.stale(shown->when, shown->entry->recency), shown->entry->recency);
  }

  // Ambulation: a documented status, else a finding that implies it.
  if (const Reading* r = latest(in, "ambulation")) {
    q.ambulation = fact_from(basis, *r, ambulation_of(r->token));
    if (q.ambulation.value == Ambulation::kNonAmbulatory) {
      // Start of the latest unbroken run of non-ambulatory readings.
      auto runs = all_of(in, "ambulation");
      std::optional<fhir::DateTime> since = r->when;
      for (auto it = runs.rbegin(); it != runs.rend() && (*it)->token == "non-ambulatory"; ++it) {
        since = (*it)->when;
      }
      q.non_ambulatory_since = since;
    }
  } else {
    const ConditionFacts* best = nullptr;
    for (const auto& f : in.conditions) {
      if (f.active && f.finding && f.finding->ambulation) {
        if (!best || (f.onset && (!best->onset || *best->onset < *f.onset))) best = &f;
      }
    }
    if (best) {
      q.ambulation.value = *best->finding->ambulation;
      q.ambulation.when = best->onset;
      add_evidence(q.ambulation.evidence, best->ref);
      if (q.ambulation.value == Ambulation::kNonAmbulatory) q.non_ambulatory_since = best->onset;
    } else {
      gaps.push_back({c, "ambulatory status not recorded"});
    }
  }
  if (const Reading* r = latest(in, "mechanical-pain")) q.mechanical_pain = r->number == 1.0;

  // New back pain: the most recent active back-pain finding, new when its
  // onset lies inside the new-symptom window.
  const ConditionFacts* pain = nullptr;
  Evidence pain_refs;
  for (const auto& f : in.conditions) {
    if (f.active && f.finding && f.finding->finding == FindingKind::kBackPain) {
      add_evidence(pain_refs, f.ref);
      if (!pain || (f.onset && (!pain->onset || *pain->onset < *f.onset))) pain = &f;
    }
  }
  if (pain) {
    Fact<bool> f;
    f.value = basis.is_new(pain->onset);
    f.when = pain->onset;
    f.evidence = pain_refs;
    q.new_back_pain = std::move(f);
  }
  return out;
}

namespace {

// Comorbidities by class: one entry per class for the three with measured
// criteria (keys "0-anaemia", "1-diabetes", "2-hypertension"), one per
// table entry otherwise ("3-<key>"), in that order.
class Comorbidities {
 public:
  Comorbidity& slot(ComorbidityKind kind, const std::string& key, const std::string& label) {
    auto [it, inserted] = by_key_.try_emplace(key);
    if (inserted) {
      it->second.kind = kind;
      it->second.label = label;
    }
    return it->second;
  }
  Comorbidity* find(const std::string& key) {
    auto it = by_key_.find(key);
    return it == by_key_.end() ? nullptr : &it->second;
  }
  std::vector<Comorbidity> list() const {
    std::vector<Comorbidity> out;
    for (const auto& [key, m] : by_key_) out.push_back(m);
    return out;
  }

 private:
  std::map<std::string, Comorbidity> by_key_;
};

void add_basis(Comorbidity& m, const std::string& why) {
  m.basis += (m.basis.empty() ? "" : "; ") + why;
}

std::string measured_key(ComorbidityKind k) {
  switch (k) {
    case ComorbidityKind::kAnaemia:
      return "0-anaemia";
    case ComorbidityKind::kDiabetes:
      return "1-diabetes";
    case ComorbidityKind::kHypertension:
      return "2-hypertension";
    default:
      return "";
  }
}

void read_comorbidity_conditions(const Inputs& in, Comorbidities& found) {
  for (const auto& f : in.conditions) {
    if (!f.active || !f.comorbidity) continue;
    const ComorbidityEntry& e = *f.comorbidity;
    std::string key = measured_key(e.kind);
    Comorbidity& m = found.slot(e.kind, key.empty() ? "3-" + e.key : key, e.label);
    if (m.basis.find("condition") == std::string::npos)
      m.basis = m.basis.empty() ? "condition" : "condition; " + m.basis;
    m.severe = m.severe || e.severe;
    add_evidence(m.evidence, f.ref);
  }
}

// Anaemia (WHO 2011): below 13.0 g/dL for men, 12.0 g/dL otherwise; severe below 8.0.
void anaemia_from(const Basis& basis, const Fact<double>& hb_fact, const std::string& gender,
                  Comorbidities& found) {
  const double hb = hb_fact.value;
  const double limit =
      basis.tables.value(gender == "male" ? "anaemia.hb-male-below" : "anaemia.hb-female-below");
  const double severe = basis.tables.value("anaemia.severe-hb-below");
  if (hb < limit) {
    Comorbidity& m = found.slot(ComorbidityKind::kAnaemia, "0-anaemia", "Anaemia");
    const bool is_severe = hb < severe;
    add_basis(m, "haemoglobin " + format_number(hb) + " g/dL below " +
                     format_number(is_severe ? severe : limit));
    m.severe = m.severe || is_severe;
    merge_evidence(m.evidence, hb_fact.evidence);
  } else if (Comorbidity* known = found.find("0-anaemia")) {
    merge_evidence(known->evidence, hb_fact.evidence);
  }
}

// Diabetes (ADA 2024): HbA1c >= 6.5 %; uncontrolled above 8.5 % (CPOC/JBDS 2021).
void diabetes_from(const Basis& basis, const Fact<double>& a1c_fact, Comorbidities& found) {
  const double a1c = a1c_fact.value;
  const double diag = basis.tables.value("diabetes.hba1c-at-least");
  const double uncontrolled = basis.tables.value("diabetes.uncontrolled-hba1c-above");
  if (a1c < diag && !found.find("1-diabetes")) return;
  Comorbidity& m = found.slot(ComorbidityKind::kDiabetes, "1-diabetes", "Diabetes mellitus");
  if (a1c > uncontrolled) {
    add_basis(m, "HbA1c " + format_number(a1c) + " % above " + format_number(uncontrolled));
    m.severe = true;
  } else if (a1c >= diag) {
    add_basis(m, "HbA1c " + format_number(a1c) + " % at or above " + format_number(diag));
  }
  merge_evidence(m.evidence, a1c_fact.evidence);
}

// Hypertension (NICE NG136): >= 140/90 mmHg; severe >= 180/110 (AAGBI/BHS 2016).
void hypertension_from(const Basis& basis, const GeneralCondition& g, Comorbidities& found) {
  const auto& t = basis.tables;
  const bool sys_ok = g.systolic_mmhg && !g.systolic_mmhg->stale;
  const bool dia_ok = g.diastolic_mmhg && !g.diastolic_mmhg->stale;
  if (!sys_ok && !dia_ok) return;
  const double sys = sys_ok ? g.systolic_mmhg->value : 0;
  const double dia = dia_ok ? g.diastolic_mmhg->value : 0;
  const bool raised = sys >= t.value("hypertension.systolic-at-least") ||
                      dia >= t.value("hypertension.diastolic-at-least");
  const bool severe = sys >= t.value("hypertension.severe-systolic-at-least") ||
                      dia >= t.value("hypertension.severe-diastolic-at-least");
  if (!raised) return;
  const bool known = found.find("2-hypertension") != nullptr;
  Comorbidity& m = found.slot(ComorbidityKind::kHypertension, "2-hypertension",
                              known ? "Hypertension" : "Raised blood pressure");
  std::string bp = "blood pressure " + (sys_ok ? format_number(sys) : std::string("?")) + "/" +
                   (dia_ok ? format_number(dia) : std::string("?")) + " mmHg";
  add_basis(m, bp + (severe ? " at or above 180/110" : " at or above 140/90"));
  m.severe = m.severe || severe;
  if (sys_ok) merge_evidence(m.evidence, g.systolic_mmhg->evidence);
  if (dia_ok) merge_evidence(m.evidence, g.diastolic_mmhg->evidence);
}

}  // namespace

Derived<GeneralCondition> derive_general_condition(const Basis& basis, const Inputs& in) {
  Derived<GeneralCondition> out;
  GeneralCondition& g = out.value;
  Gaps& gaps = out.gaps;
  const std::string c = "general condition";
  auto quantity = [&](std::string_view key, std::optional<Fact<double>>& into) {
    if (const Reading* r = latest(in, key)) {
      into = fact_from(basis, *r, *r->number);
      gap_if_stale(basis, gaps, c, r->entry->label, r->when, into->stale, r->entry->recency);
    }
  };
  quantity("haemoglobin", g.haemoglobin_g_dl);
  quantity("hba1c", g.hba1c_percent);
  quantity("systolic", g.systolic_mmhg);
  quantity("diastolic", g.diastolic_mmhg);
  quantity("albumin", g.albumin_g_dl);

  Comorbidities found;
  read_comorbidity_conditions(in, found);
  if (g.haemoglobin_g_dl && !g.haemoglobin_g_dl->stale) {
    anaemia_from(basis, *g.haemoglobin_g_dl, in.gender, found);
  }
  if (g.hba1c_percent && !g.hba1c_percent->stale) diabetes_from(basis, *g.hba1c_percent, found);
  hypertension_from(basis, g, found);
  g.comorbidities = found.list();

  if (!g.haemoglobin_g_dl) gaps.push_back({c, "no haemoglobin (LOINC 718-7)"});
  if (!g.systolic_mmhg && !g.diastolic_mmhg)
    gaps.push_back({c, "no blood pressure (LOINC 85354-9 / 8480-6 / 8462-4)"});
  if (!g.hba1c_percent && found.find("1-diabetes"))
    gaps.push_back({c, "diabetes without an HbA1c (LOINC 4548-4)"});
  return out;
}

Derived<NeurologicalStatus> derive_neurology(const Basis& basis, const Inputs& in) {
  Derived<NeurologicalStatus> out;
  NeurologicalStatus& n = out.value;
  Gaps& gaps = out.gaps;
  const std::string c = "neurological status";
  // ESCC: the latest grade per lesion, then the worst of those.
  static const std::vector<std::string> kOrder{"0", "1a", "1b", "1c", "2", "3"};
  std::map<std::string, const Reading*> per_lesion;
  for (const auto* r : all_of(in, "escc-grade")) per_lesion[r->lesion_key()] = r;  // oldest first
  const Reading* worst = nullptr;
  auto rank = [&](const Reading* r) {
    return std::find(kOrder.begin(), kOrder.end(), r->token) - kOrder.begin();
  };
  for (const auto& [key, r] : per_lesion) {
    if (!worst || rank(r) > rank(worst)) worst = r;
  }
  if (worst) {
    n.escc = fact_from(basis, *worst, static_cast<EsccGrade>(rank(worst)));
    gap_if_stale(basis, gaps, c, "ESCC grade", worst->when, n.escc->stale, worst->entry->recency);
  } else {
    gaps.push_back({c, "no Bilsky ESCC grade"});
  }
  for (const auto& f : in.conditions) {
    if (!f.active || !f.finding || f.finding->finding != FindingKind::kNeurologicalDeficit)
      continue;
    NeurologicDeficit d;
    d.label = f.finding->label;
    d.onset = f.onset;
    d.is_new = basis.is_new(f.onset);
    d.cord_compression = f.finding->cord_compression;
    add_evidence(d.evidence, f.ref);
    n.deficits.push_back(std::move(d));
  }
  for (const auto* r : all_of(in, "neurological-deficit")) {
    if (r->number != 1.0) continue;
    NeurologicDeficit d;
    d.label = r->text.empty() ? r->entry->label : r->text;
    d.onset = r->when;
    d.is_new = basis.is_new(r->when);
    add_evidence(d.evidence, r->ref);
    n.deficits.push_back(std::move(d));
  }
  std::sort(n.deficits.begin(), n.deficits.end(),
            [](const NeurologicDeficit& a, const NeurologicDeficit& b) {
              const auto ka = a.onset ? a.onset->start_ms() : INT64_MIN;
              const auto kb = b.onset ? b.onset->start_ms() : INT64_MIN;
              return std::tie(a.label, ka, a.evidence) < std::tie(b.label, kb, b.evidence);
            });
  if (const Reading* r = latest(in, "frankel")) n.frankel = fact_from(basis, *r, r->token.at(0));
  if (const Reading* r = latest(in, "asia")) n.asia = fact_from(basis, *r, r->token.at(0));
  if (!n.frankel && !n.asia) gaps.push_back({c, "no Frankel or ASIA grade"});
  return out;
}

namespace {

// The SINS components, in the order of SinsComponents, with their names.
const std::vector<std::pair<std::string, std::string>>& sins_parts() {
  static const std::vector<std::pair<std::string, std::string>> kParts{
      {"sins-location", "location"},       {"sins-pain", "pain"},
      {"sins-bone-lesion", "bone lesion"}, {"sins-alignment", "alignment"},
      {"sins-collapse", "collapse"},       {"sins-posterolateral", "posterolateral"}};
  return kParts;
}

// The SINS readings of one lesion (by lesion key): its latest total and
// latest value of each component.
struct SinsLesion {
  const Reading* total = nullptr;
  std::map<std::string, const Reading*> parts;  // component key -> latest
  std::vector<const SpineSiteEntry*> levels;
};

std::map<std::string, SinsLesion> sins_lesions(const Inputs& in) {
  std::map<std::string, SinsLesion> lesions;
  for (const auto* r : all_of(in, "sins-total")) {
    auto& l = lesions[r->lesion_key()];
    l.total = r;
    l.levels = r->levels;
  }
  for (const auto& [key, name] : sins_parts()) {
    for (const auto* r : all_of(in, key)) {
      auto& l = lesions[r->lesion_key()];
      l.parts[key] = r;
      if (l.levels.empty()) l.levels = r->levels;
    }
  }
  return lesions;
}

// A lesion's SINS: its stated total, or the sum of all six components, or
// the components known and those missing.
struct SinsScore {
  std::string key;
  int total = 0;
  bool computed = false;
  std::optional<fhir::DateTime> when;
  bool stale = false;
  Evidence evidence;
  SinsComponents comps;
  std::vector<std::string> missing;
};

void read_components(const Basis& basis, const SinsLesion& l, SinsScore& s) {
  const auto& parts = sins_parts();
  std::optional<int>* slots[] = {&s.comps.location,  &s.comps.pain,     &s.comps.bone_lesion,
                                 &s.comps.alignment, &s.comps.collapse, &s.comps.posterolateral};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto it = l.parts.find(parts[i].first);
    if (it != l.parts.end()) {
      const Reading& r = *it->second;
      *slots[i] = static_cast<int>(*r.number);
      add_evidence(s.evidence, r.ref);
      if (!s.when || (r.when && *s.when < *r.when)) s.when = r.when;
      s.stale = s.stale || basis.stale(r.when, r.entry->recency);
    } else if (i == 0 && l.levels.size() == 1) {
      // Location points follow from the level (clinical-decision.md §1.1).
      static const int kPoints[] = {3, 2, 1, 0};  // junctional, mobile, semi-rigid, rigid
      *slots[i] = kPoints[static_cast<int>(l.levels[0]->level->sins_location)];
    } else {
      s.missing.push_back(parts[i].second);
    }
  }
}

SinsScore score_lesion(const Basis& basis, const std::string& key, const SinsLesion& l) {
  SinsScore s;
  s.key = key;
  read_components(basis, l, s);
  if (l.total) {
    s.total = static_cast<int>(*l.total->number);
    s.evidence.clear();
    add_evidence(s.evidence, l.total->ref);
    s.when = l.total->when;
    s.stale = basis.stale(l.total->when, l.total->entry->recency);
    s.missing.clear();
  } else if (s.missing.empty()) {
    s.computed = true;
    s.total = *s.comps.location + *s.comps.pain + *s.comps.bone_lesion + *s.comps.alignment +
              *s.comps.collapse + *s.comps.posterolateral;
  }
  return s;
}

// The lesion whose SINS the plan rests on: the highest total; failing any
// total, the one with the fewest components missing. Alignment scored 4 at
// any lesion is subluxation.
void choose_sins(const Basis& basis, const std::map<std::string, SinsLesion>& lesions,
                 MechanicalStatus& m, Gaps& gaps) {
  std::optional<SinsScore> best;          // highest total
  std::optional<SinsScore> best_partial;  // most components, when no total exists
  for (const auto& [key, l] : lesions) {
    SinsScore s = score_lesion(basis, key, l);
    if (l.total || s.computed) {
      if (!best || std::tie(s.total, s.when) > std::tie(best->total, best->when)) best = s;
    } else if (!best_partial || s.missing.size() < best_partial->missing.size()) {
      best_partial = s;
    }
    if (l.parts.count("sins-alignment") && *l.parts.at("sins-alignment")->number == 4) {
      m.subluxation = true;
      add_evidence(m.evidence, l.parts.at("sins-alignment")->ref);
    }
  }
  const std::string c = "mechanical status";
  if (best) {
    Fact<int> f;
    f.value = best->total;
    f.evidence = best->evidence;
    f.when = best->when;
    f.stale = best->stale;
    m.sins_total = f;
    m.sins_computed = best->computed;
    m.components = best->comps;
    m.band = sins_band(best->total, basis.tables);
    m.lesion_level = best->key;
    merge_evidence(m.evidence, best->evidence);
    if (best->comps.alignment == 4) m.subluxation = true;
    gap_if_stale(basis, gaps, c, "SINS", best->when, best->stale, "recency.imaging");
  } else if (best_partial) {
    m.components = best_partial->comps;
    m.missing_components = best_partial->missing;
    m.lesion_level = best_partial->key;
    merge_evidence(m.evidence, best_partial->evidence);
    std::string list;
    for (const auto& x : best_partial->missing) list += (list.empty() ? "" : ", ") + x;
    gaps.push_back({c, "no SINS total, and " + std::to_string(best_partial->missing.size()) +
                           " of 6 components missing (" + list + ")"});
  } else {
    gaps.push_back({c, "no SINS total or components"});
  }
}

// Pathological fracture and instability, from Conditions and per-lesion
// fracture readings (the latest at each lesion).
void read_fractures(const Inputs& in, MechanicalStatus& m) {
  for (const auto& f : in.conditions) {
    if (!f.active || !f.finding) continue;
    if (f.finding->finding == FindingKind::kPathologicalFracture) {
      m.pathological_fracture = true;
      add_evidence(m.evidence, f.ref);
    } else if (f.finding->finding == FindingKind::kSpinalInstability) {
      m.instability_diagnosis = true;
      add_evidence(m.evidence, f.ref);
    }
  }
  std::map<std::string, const Reading*> fractures;
  for (const auto* r : all_of(in, "pathological-fracture")) fractures[r->lesion_key()] = r;
  for (const auto& [key, r] : fractures) {
    if (r->number == 1.0) {
      m.pathological_fracture = true;
      add_evidence(m.evidence, r->ref);
    }
  }
}

}  // namespace

Derived<MechanicalStatus> derive_mechanics(const Basis& basis, const Inputs& in) {
  Derived<MechanicalStatus> out;
  choose_sins(basis, sins_lesions(in), out.value, out.gaps);
  read_fractures(in, out.value);
  return out;
}

namespace {

// The subject a preference token speaks to: the latest statement on each
// subject stands ("declined surgery in May, agreed in June": agrees).
std::string_view subject_of_token(std::string_view token) {
  if (token == "declines-surgery" || token == "accepts-surgery") return "surgery";
  if (token == "declines-radiotherapy" || token == "accepts-radiotherapy") return "radiotherapy";
  // The three answers of one POLST section: a later one replaces an earlier.
  if (token == "comfort-focused" || token == "full-treatment" || token == "selective-treatment")
    return "treatment-intensity";
  return token;
}

// A POLST initial-treatment answer ("order-comfort-focused") is a
// clinician's portable medical order (fhir-coding.md §16.2): the plan obeys
// it as an order, and says so, rather than crediting the patient's words.
constexpr std::string_view kOrderPrefix = "order-";

struct PhraseHit {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string token;
};

// The tokens `text` states, one per subject: the phrase that comes last in
// the text wins ("previously declined surgery, now agrees to surgery"), and
// a phrase inside a longer one ("declines surgery" in "no longer declines
// surgery") does not count on its own.
std::vector<std::string> statement_tokens(const ObservationEntry* narrative,
                                          const std::string& text) {
  std::vector<std::string> tokens;
  if (!narrative || text.empty()) return tokens;
  const std::string norm = normalize_text(text);
  std::vector<PhraseHit> hits;
  for (const auto& [token, list] : narrative->phrases) {
    for (const auto& p : list) {
      for (std::size_t at = norm.find(p); at != std::string::npos; at = norm.find(p, at + 1)) {
        const std::size_t end = at + p.size();
        if ((at == 0 || norm[at - 1] == ' ') && (end == norm.size() || norm[end] == ' '))
          hits.push_back({at, end, token});
      }
    }
  }
  std::map<std::string_view, const PhraseHit*> last_of;
  for (const auto& h : hits) {
    const bool inner = std::any_of(hits.begin(), hits.end(), [&](const PhraseHit& o) {
      return &o != &h && o.begin <= h.begin && h.end <= o.end && o.end - o.begin > h.end - h.begin;
    });
    if (inner) continue;
    const PhraseHit*& slot = last_of[subject_of_token(h.token)];
    if (!slot || slot->begin < h.begin) slot = &h;
  }
  for (const auto& [subject, h] : last_of) tokens.push_back(h->token);
  return tokens;
}

}  // namespace

Derived<std::vector<Preference>> derive_preferences(const Basis& basis, const Inputs& in) {
  Derived<std::vector<Preference>> out;
  Gaps& gaps = out.gaps;
  struct Found {
    std::string token;  // empty: a statement no rule reads
    std::string text;
    std::string ref;
    std::optional<fhir::DateTime> when;
    PreferenceSource source = PreferenceSource::kPatient;
  };
  std::vector<Found> found;
  const ObservationEntry* narrative = basis.tables.observation_by_key("preference-narrative");
  auto add_text = [&](std::vector<std::string> tokens, const std::string& text,
                      const std::string& ref, const std::optional<fhir::DateTime>& when,
                      PreferenceSource source) {
    if (tokens.empty()) found.push_back({"", text, ref, when, source});
    for (auto& t : tokens) found.push_back({std::move(t), text, ref, when, source});
  };
  for (const auto* r : all_of(in, "treatment-preference")) {
    if (r->token.rfind(kOrderPrefix, 0) == 0) {
      std::string token = r->token.substr(kOrderPrefix.size());
      std::string text = portable_order_text(token);
      found.push_back(
          {std::move(token), std::move(text), r->ref, r->when, PreferenceSource::kClinician});
      continue;
    }
    if (!r->token.empty()) {
      found.push_back({r->token, r->token, r->ref, r->when, PreferenceSource::kPatient});
      continue;
    }
    // An answer written in words only ("does not want any spinal operation").
    add_text(statement_tokens(narrative, r->text), r->text, r->ref, r->when,
             PreferenceSource::kPatient);
  }
  for (const auto* r : all_of(in, "preference-narrative")) {
    std::vector<std::string> tokens = statement_tokens(narrative, r->text);
    if (!r->token.empty() && tokens.empty()) tokens.push_back(r->token);
    add_text(std::move(tokens), r->text.empty() ? r->token : r->text, r->ref, r->when,
             PreferenceSource::kPatient);
  }
  for (const auto& f : in.conditions) {
    if (!f.active || !f.finding || f.finding->finding != FindingKind::kTreatmentRefusal) continue;
    const std::string text = f.note.empty() ? f.label : f.label + ": " + f.note;
    add_text(statement_tokens(narrative, f.note), text, f.ref, f.onset ? f.onset : f.recorded,
             PreferenceSource::kPatient);
  }
  for (const auto& s : in.stated) {
    if (!s.token.empty()) {
      found.push_back({s.token, s.text, s.ref, s.when, s.source});
      continue;
    }
    add_text(statement_tokens(narrative, s.text), s.text, s.ref, s.when, s.source);
  }
  // A clinician's "not for surgery" is a clinical decision whoever wrote it
  // down; it never stands in for the patient's refusal.
  for (auto& f : found) {
    if (f.token == "not-for-surgery") f.source = PreferenceSource::kClinician;
  }
  auto kind_of = [](const std::string& token) {
    if (token == "declines-surgery") return PreferenceKind::kDeclinesSurgery;
    if (token == "declines-radiotherapy") return PreferenceKind::kDeclinesRadiotherapy;
    if (token == "comfort-focused") return PreferenceKind::kComfortFocused;
    if (token == "not-for-surgery") return PreferenceKind::kNotForSurgery;
    return PreferenceKind::kOther;
  };
  auto key = [](const Found* x) {
    return std::make_pair(x->when ? x->when->start_ms() : INT64_MIN, x->ref);
  };
  // The latest statement on each subject stands; what it replaced is kept
  // for the plan's text.
  std::map<std::string, std::vector<const Found*>> by_subject;
  for (const auto& f : found) {
    by_subject[f.token.empty() ? std::string() : std::string(subject_of_token(f.token))].push_back(
        &f);
  }
  for (auto& [subject, list] : by_subject) {
    std::sort(list.begin(), list.end(),
              [&](const Found* a, const Found* b) { return key(a) < key(b); });
    const Found* f = list.back();
    Preference p;
    p.kind = kind_of(f->token);
    p.text = f->text;
    p.source = f->source;
    p.when = f->when;
    add_evidence(p.evidence, f->ref);
    for (auto it = list.rbegin() + 1; it != list.rend(); ++it) {
      if ((*it)->token != f->token && !(*it)->token.empty()) {
        p.supersedes = "'" + (*it)->text.substr(0, 60) + "' (" + when_text((*it)->when) + ")";
        add_evidence(p.evidence, (*it)->ref);
        break;
      }
    }
    out.value.push_back(std::move(p));
    if (basis.stale(f->when, "recency.preferences")) {
      gaps.push_back({"patient preferences", "preference '" + f->text.substr(0, 60) + "' is from " +
                                                 when_text(f->when) + ": confirm it still holds"});
    }
  }
  std::stable_sort(out.value.begin(), out.value.end(),
                   [](const Preference& a, const Preference& b) { return a.kind < b.kind; });
  if (out.value.empty())
    gaps.push_back({"patient preferences", "no preferences or goals of care recorded"});
  return out;
}

}  // namespace mst::mappings::detail
