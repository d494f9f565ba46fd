#include "mst/mappings/extract.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

#include "extract_internal.h"

namespace mst::mappings {

namespace detail {

bool Basis::stale(const std::optional<fhir::DateTime>& when, const std::string& recency_key) const {
  if (!when) return true;  // an undated value cannot be shown to be recent
  return fhir::days_between(*when, as_of) > static_cast<std::int64_t>(tables.value(recency_key));
}

bool Basis::is_new(const std::optional<fhir::DateTime>& when) const {
  if (!when) return false;
  const std::int64_t days = fhir::days_between(*when, as_of);
  return days >= 0 && days <= static_cast<std::int64_t>(tables.value("new-symptom.window"));
}

bool Basis::after_as_of(const fhir::DateTime& when) const {
  return when.start_ms() >= as_of.end_ms();
}

std::string Reading::lesion_key() const {
  std::string k;
  for (const auto* l : levels) k += (k.empty() ? "" : ",") + l->level->name;
  return k;
}

void add_evidence(Evidence& e, const std::string& ref) {
  auto it = std::lower_bound(e.begin(), e.end(), ref);
  if (it == e.end() || *it != ref) e.insert(it, ref);
}

void merge_evidence(Evidence& into, const Evidence& from) {
  for (const auto& r : from) add_evidence(into, r);
}

namespace {

bool reading_less(const Reading& a, const Reading& b) {
  if (a.entry->key != b.entry->key) return a.entry->key < b.entry->key;
  const bool ha = a.when.has_value();
  const bool hb = b.when.has_value();
  if (ha != hb) return !ha;  // undated first: any dated value is later
  if (ha && !(*a.when == *b.when)) return *a.when < *b.when;
  if (a.ref != b.ref) return a.ref < b.ref;
  return a.lesion_key() < b.lesion_key();
}

std::pair<std::vector<Reading>::const_iterator, std::vector<Reading>::const_iterator> range_of(
    const Inputs& in, std::string_view key) {
  auto lo = std::lower_bound(in.readings.begin(), in.readings.end(), key,
                             [](const Reading& r, std::string_view k) { return r.entry->key < k; });
  auto hi = std::upper_bound(lo, in.readings.end(), key,
                             [](std::string_view k, const Reading& r) { return k < r.entry->key; });
  return {lo, hi};
}

void collect_used(Considerations& c) {
  Evidence used;
  auto add = [&](const Evidence& e) { merge_evidence(used, e); };
  auto add_fact = [&](const auto& f) {
    if (f) add(f->evidence);
  };
  if (c.cancer) add(c.cancer->evidence);
  add(c.spine.evidence);
  for (const auto& l : c.spine.lesions) add(l.evidence);
  add_fact(c.spine.stated_count);
  add(c.other_metastases.evidence);
  for (const auto& t : c.treatments) add(t.evidence);
  add_fact(c.life_expectancy.stated_months);
  add_fact(c.life_expectancy.poor_prognosis);
  add(c.life_expectancy.tokuhashi.evidence);
  const auto& q = c.quality_of_life;
  add_fact(q.pain_score);
  add_fact(q.ecog);
  add_fact(q.karnofsky);
  add(q.ambulation.evidence);
  add_fact(q.new_back_pain);
  const auto& g = c.general_condition;
  for (const auto& m : g.comorbidities) add(m.evidence);
  add_fact(g.haemoglobin_g_dl);
  add_fact(g.hba1c_percent);
  add_fact(g.systolic_mmhg);
  add_fact(g.diastolic_mmhg);
  add_fact(g.albumin_g_dl);
  add_fact(c.neurology.escc);
  for (const auto& d : c.neurology.deficits) add(d.evidence);
  add_fact(c.neurology.frankel);
  add_fact(c.neurology.asia);
  add_fact(c.mechanics.sins_total);
  add(c.mechanics.evidence);
  for (const auto& p : c.preferences) add(p.evidence);
  for (const auto& s : c.spinal_surgeries) add(s.evidence);
  add(c.metastasis_conditions);
  add(c.primary_conditions);
  c.used = std::move(used);
}

// Runs the derivers in order and assembles what they return; the data
// gaps keep the order the derivers noticed them in.
void derive_all(const Basis& basis, const Inputs& in, Considerations& c) {
  auto keep = [&](Gaps& gaps) {
    c.data_gaps.insert(c.data_gaps.end(), std::make_move_iterator(gaps.begin()),
                       std::make_move_iterator(gaps.end()));
  };
  DiseaseFacts disease = derive_cancer_and_metastases(basis, in);
  c.cancer = std::move(disease.cancer);
  c.spine = std::move(disease.spine);
  c.other_metastases = std::move(disease.other_metastases);
  c.metastasis_conditions = std::move(disease.metastasis_conditions);
  c.primary_conditions = std::move(disease.primary_conditions);
  keep(disease.gaps);
  auto take = [&](auto derived, auto& into) {
    into = std::move(derived.value);
    keep(derived.gaps);
  };
  take(derive_quality_of_life(basis, in), c.quality_of_life);
  take(derive_general_condition(basis, in), c.general_condition);
  take(derive_neurology(basis, in), c.neurology);
  take(derive_mechanics(basis, in), c.mechanics);
  // A SINS pain component of 3 is mechanical pain (relieved lying down).
  if (c.mechanics.sins_total && c.mechanics.components.pain == 3) {
    c.quality_of_life.mechanical_pain = true;
  }
  take(derive_life_expectancy(basis, in, c), c.life_expectancy);
  take(derive_treatments(basis, in), c.treatments);
  take(derive_preferences(basis, in), c.preferences);
}

}  // namespace

const Reading* latest(const Inputs& in, std::string_view key) {
  auto [lo, hi] = range_of(in, key);
  return lo == hi ? nullptr : &*(hi - 1);
}

std::vector<const Reading*> all_of(const Inputs& in, std::string_view key) {
  auto [lo, hi] = range_of(in, key);
  std::vector<const Reading*> out;
  for (auto it = lo; it != hi; ++it) out.push_back(&*it);
  return out;
}

std::string format_number(double v) {
  char buf[32];
  if (std::fabs(v - std::round(v)) < 1e-9) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  }
  return buf;
}

std::string when_text(const std::optional<fhir::DateTime>& when) {
  return when ? when->date_string() : std::string("an undated record");
}

}  // namespace detail

int ecog_from_karnofsky(int kps) {
  if (kps >= 90) return 0;
  if (kps >= 70) return 1;
  if (kps >= 50) return 2;
  if (kps >= 30) return 3;
  if (kps >= 10) return 4;
  return 5;
}

int karnofsky_from_ecog(int ecog) {
  static constexpr int kLower[] = {90, 70, 50, 30, 10, 0};
  return kLower[std::clamp(ecog, 0, 5)];
}

SinsBand sins_band(int total, const CodeTables& tables) {
  if (total >= tables.value("sins.unstable-from")) return SinsBand::kUnstable;
  if (total >= tables.value("sins.indeterminate-from")) return SinsBand::kIndeterminate;
  return SinsBand::kStable;
}

TokuhashiBand tokuhashi_band(int total, const CodeTables& tables) {
  if (total >= tables.value("tokuhashi.twelve-months-from")) return TokuhashiBand::kAtLeast12Months;
  if (total >= tables.value("tokuhashi.six-months-from")) return TokuhashiBand::kAtLeast6Months;
  return TokuhashiBand::kUnder6Months;
}

Considerations extract(const PatientRecord& record, const CodeTables& tables,
                       const fhir::DateTime& as_of) {
  Considerations c;
  c.patient_ref = record.patient_ref();
  c.as_of = as_of;
  c.ignored = record.ignored();
  for (const auto& u : record.unreadable()) {
    if (u.type == "Condition") c.unreadable_conditions.push_back(u.ref);
  }
  detail::Context ctx{{tables, as_of}, c};
  detail::Inputs in;
  in.patient_ref = c.patient_ref;
  if (record.patient()) {
    try {
      in.gender = std::string(record.patient()->node.string("gender").value_or(""));
    } catch (const fhir::ElementError& e) {
      ctx.ignore(record.patient()->ref, std::string("unreadable Patient.gender: ") + e.what());
    }
    detail::read_death(ctx, *record.patient());
  }
  // The safety net reads a resource a reader has just ignored while its
  // JSON is still in cache; which of them no fact rests on is known last.
  std::vector<detail::Mention> mentions;
  auto screen = [&](const RecordResource& r, std::size_t ignored_before) {
    if (c.ignored.size() != ignored_before) detail::screen_ignored(r, mentions);
  };
  for (const auto& r : record.conditions()) {
    const std::size_t before = c.ignored.size();
    detail::read_condition(ctx, r, in.conditions);
    screen(r, before);
  }
  in.readings.reserve(record.observations().size());
  // Observations are most of a large record: hint their JSON in ahead.
  const auto& observations = record.observations();
  for (std::size_t i = 0; i < observations.size(); ++i) {
    if (i + 4 < observations.size()) observations[i + 4].node.prefetch();
    if (i + 2 < observations.size()) observations[i + 2].node.prefetch_children();
    const std::size_t before = c.ignored.size();
    detail::read_observation(ctx, observations[i], in.readings, in.conditions);
    screen(observations[i], before);
  }
  std::sort(in.conditions.begin(), in.conditions.end(),
            [](const detail::ConditionFacts& a, const detail::ConditionFacts& b) {
              return a.ref < b.ref;
            });
  std::sort(in.readings.begin(), in.readings.end(), detail::reading_less);
  std::set<std::string> cancer_refs;
  for (const auto& f : in.conditions) {
    if (f.cancer || f.metastasis) cancer_refs.insert(f.ref);
  }
  for (const auto& r : record.care_plans()) {
    const std::size_t before = c.ignored.size();
    detail::read_care_plan(ctx, r, cancer_refs, in.plans);
    screen(r, before);
  }
  for (const auto& r : record.procedures()) {
    const std::size_t before = c.ignored.size();
    if (detail::read_procedure_refusal(ctx, r, in.stated)) continue;
    if (!detail::read_treatment_procedure(ctx, r, in.treatments)) {
      detail::read_procedure(ctx, r, c.spinal_surgeries);
    }
    screen(r, before);
  }
  const detail::MedicationIndex medications = detail::index_medications(record);
  for (const auto& r : record.medication_uses()) {
    const std::size_t before = c.ignored.size();
    detail::read_medication_use(ctx, r, medications, in.treatments);
    screen(r, before);
  }
  for (const auto& r : record.others()) {
    const std::size_t before = c.ignored.size();
    if (r.type == "Goal" && detail::read_goal_preference(ctx, r, in.stated)) {
      screen(r, before);
      continue;
    }
    if (r.type == "Consent" && detail::read_consent(ctx, r, in.stated)) {
      screen(r, before);
      continue;
    }
    if (r.type == "ServiceRequest" && detail::read_portable_order(ctx, r, in.stated)) {
      screen(r, before);
      continue;
    }
    ctx.ignore(r.ref, r.type + " resources are not read by the extractor");
    detail::screen_ignored(r, mentions);
  }
  std::sort(c.spinal_surgeries.begin(), c.spinal_surgeries.end(),
            [](const SpinalSurgery& a, const SpinalSurgery& b) {
              const auto ka = a.when ? a.when->start_ms() : INT64_MIN;
              const auto kb = b.when ? b.when->start_ms() : INT64_MIN;
              return std::tie(ka, a.label, a.evidence) < std::tie(kb, b.label, b.evidence);
            });

  detail::derive_all(ctx, in, c);

  detail::collect_used(c);
  // Only what a fact rests on is shown as read from text.
  std::sort(c.read_from_text.begin(), c.read_from_text.end());
  c.read_from_text.erase(std::unique(c.read_from_text.begin(), c.read_from_text.end()),
                         c.read_from_text.end());
  Evidence shown;
  std::set_intersection(c.read_from_text.begin(), c.read_from_text.end(), c.used.begin(),
                        c.used.end(), std::back_inserter(shown));
  c.read_from_text = std::move(shown);
  std::sort(c.ignored.begin(), c.ignored.end(),
            [](const IgnoredResource& a, const IgnoredResource& b) {
              return a.ref != b.ref ? a.ref < b.ref : a.reason < b.reason;
            });
  std::sort(c.unreadable_conditions.begin(), c.unreadable_conditions.end());
  detail::raise_alerts(ctx, mentions);
  return c;
}

}  // namespace mst::mappings
