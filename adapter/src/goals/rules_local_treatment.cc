// Rows 6, 7, 12, 13 and 19 of the rule table: radiotherapy and surgery for
// local control when the cord is not compressed, and after spine surgery.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <tuple>

#include "rules.h"

namespace mst::adapter::detail {

using G = GoalCode;

namespace {

mappings::Evidence pain_evidence(const Assessment& a) {
  const auto& q = a.c->quality_of_life;
  mappings::Evidence ev;
  if (q.pain_score) add_evidence(ev, q.pain_score->evidence);
  if (q.new_back_pain) add_evidence(ev, q.new_back_pain->evidence);
  return ev;
}

std::string pain_text(const Assessment& a) {
  const auto& q = a.c->quality_of_life;
  std::vector<std::string> parts;
  if (q.pain_score) {
    parts.push_back("pain score " + number_text(q.pain_score->value) + " of 10" +
                    day_text(q.pain_score->when));
  }
  if (q.mechanical_pain) parts.push_back("mechanical pain");
  if (a.new_back_pain) parts.push_back("new back pain");
  return join(parts, ", ");
}

// CCTG SC.24 selection for SBRT: ECOG 0-2, SINS < 12, <= 3 contiguous
// levels, no neurological compression.
Tri sbrt_selected(const Assessment& a) {
  const auto& t = *a.t;
  const auto& spine = a.c->spine;
  if (a.good_ps_for_sbrt == Tri::kNo || !a.deficits.empty()) return Tri::kNo;
  if (a.sins && *a.sins > t.sbrt_max_sins) return Tri::kNo;
  if (static_cast<double>(spine.lesions.size()) > t.sbrt_max_levels ||
      (spine.lesions.size() > 1 && !spine.contiguous)) {
    return Tri::kNo;
  }
  if (a.good_ps_for_sbrt == Tri::kUnknown || !a.sins || spine.lesions.empty()) {
    return Tri::kUnknown;
  }
  return Tri::kYes;
}

mappings::Evidence escc_and_cancer(const Assessment& a) {
  mappings::Evidence ev;
  if (a.c->neurology.escc) add_evidence(ev, a.c->neurology.escc->evidence);
  if (a.c->cancer) add_evidence(ev, a.c->cancer->evidence);
  return ev;
}

std::string escc_low_text(const Assessment& a) {
  const auto& e = *a.c->neurology.escc;
  return "ESCC (Bilsky) grade " + escc_name(e.value) + day_text(e.when) + ": no cord compression";
}

void row7_radiosensitive(const Assessment& a, PlanDraft& d) {
  const auto ev = escc_and_cancer(a);
  RuleFiring r{
      .row = 7,
      .rule = "Low-grade compression, radiosensitive tumour",
      .finding = escc_low_text(a) + "; " + a.cancer_label +
                 (a.haematological ? " is a haematological malignancy" : " is radiosensitive"),
      .proposal = "conventional external-beam radiotherapy (cEBRT) for local control",
      .source = kSrcNoms,
      .evidence = ev};
  d.goal(G::kDebulkTumor, Priority::kMedium, Urgency::kRoutine, r);
  if (a.pain_present != Tri::kNo) {
    r.proposal = "cEBRT also relieves pain";
    d.goal(G::kPainRelief, Priority::kMedium, Urgency::kRoutine, r);
  }
  d.refer(Discipline::kRadiationOncology, Urgency::kRoutine,
          "Conventional external-beam radiotherapy (cEBRT) to the spinal lesions",
          "Low-grade compression, radiosensitive tumour (row 7)", {G::kDebulkTumor, G::kPainRelief},
          ev, &kRadiotherapy);
  if (a.haematological) {
    d.refer(Discipline::kMedicalOncology, Urgency::kRoutine,
            "Systemic therapy for the haematological malignancy, with radiotherapy as advised",
            "Haematological malignancy: systemic therapy is often the main treatment (row 7, "
            "team synthesis)",
            {G::kDebulkTumor}, ev);
  }
  d.fired(7);
}

void row6_radioresistant(const Assessment& a, PlanDraft& d) {
  const auto& t = *a.t;
  const auto& c = *a.c;
  std::vector<std::string> missing;
  if (a.good_ps_for_sbrt == Tri::kNo) {
    d.note(
        "SBRT for durable control (rule table row 6) is not proposed: performance status is "
        "below the SC.24 selection (ECOG 0-" +
        number_text(t.sbrt_max_ecog) + ").");
    return;
  }
  if (a.sins && *a.sins > t.sbrt_max_sins) {
    d.note("SBRT (rule table row 6) is not proposed yet: SINS " + std::to_string(*a.sins) +
           " is above the SC.24 selection (SINS below " + number_text(t.sbrt_max_sins + 1) +
           "); stability comes first.");
    return;
  }
  if (a.good_ps_for_sbrt == Tri::kUnknown)
    missing.push_back("performance status for SBRT selection");
  if (!a.sins) missing.push_back("SINS (stability) for SBRT selection");
  mappings::Evidence ev = escc_and_cancer(a);
  if (c.quality_of_life.ecog) add_evidence(ev, c.quality_of_life.ecog->evidence);
  if (c.quality_of_life.karnofsky) add_evidence(ev, c.quality_of_life.karnofsky->evidence);
  if (c.mechanics.sins_total) add_evidence(ev, c.mechanics.sins_total->evidence);
  RuleFiring r{
      .row = 6,
      .rule = "Low-grade compression, radioresistant tumour, good performance status, stable",
      .finding = escc_low_text(a) + "; " + a.cancer_label + " is radioresistant",
      .proposal = "stereotactic body radiotherapy (SBRT) for durable local control",
      .source = kSrcNoms + "; " + kSrcSc24 + "; " + kSrcAstro2024,
      .evidence = ev};
  d.goal(G::kDebulkTumor, Priority::kMedium, Urgency::kRoutine, r, missing);
  if (a.pain_present != Tri::kNo) {
    r.proposal =
        "SBRT also relieves pain (SC.24: complete response 35% vs 14% with conventional "
        "radiotherapy)";
    d.goal(G::kPainRelief, Priority::kMedium, Urgency::kRoutine, r, missing);
  }
  if (a.sins_stable == Tri::kNo) {
    d.caution(G::kDebulkTumor, "SINS " + std::to_string(*a.sins) +
                                   ": stability and surgical options are evaluated before "
                                   "radiotherapy (ASTRO 2024)");
  }
  if (static_cast<double>(c.spine.lesions.size()) > t.sbrt_max_levels ||
      (c.spine.lesions.size() > 1 && !c.spine.contiguous)) {
    d.caution(G::kDebulkTumor, "the lesions (" + a.levels_text +
                                   ") go beyond 3 contiguous levels, outside the SC.24 selection");
  }
  d.refer(Discipline::kRadiationOncology, Urgency::kRoutine,
          "SBRT assessment for the spinal lesions",
          "Low-grade compression, radioresistant tumour (row 6)", {G::kDebulkTumor, G::kPainRelief},
          ev, &kRadiotherapy);
  for (const auto& m : missing) {
    d.missing(m, "SBRT selection (SC.24: ECOG 0-" + number_text(t.sbrt_max_ecog) + ", SINS below " +
                     number_text(t.sbrt_max_sins + 1) + ") cannot be confirmed");
  }
  d.fired(6);
}

}  // namespace

void rule_low_grade_compression(const Assessment& a, PlanDraft& d) {
  if (a.escc_class != EsccClass::kLow) return;
  if (a.primary_spine_tumour && !d.emergency()) return;  // the sarcoma service plans it
  if (a.palliative_candidate && !d.emergency()) {
    d.note(
        "Radiotherapy or SBRT for durable local control (rule table rows 6 and 7) is not "
        "proposed on the palliative pathway: radiotherapy is offered for pain, as a single "
        "fraction.");
    return;
  }
  if (a.haematological || a.onco == Onco::kSensitive) {
    row7_radiosensitive(a, d);
  } else if (a.onco == Onco::kResistant) {
    row6_radioresistant(a, d);
  } else {
    const auto ev = escc_and_cancer(a);
    const std::vector<std::string> missing = {"primary histology and its radiosensitivity"};
    RuleFiring r{
        .row = 0,
        .rule = "Low-grade compression, histology unknown (rows 6 and 7)",
        .finding = escc_low_text(a),
        .proposal =
            "radiotherapy for local control: conventional (row 7) or SBRT (row 6) depending "
            "on the histology",
        .source = kSrcNoms,
        .synthesis = true,
        .evidence = ev};
    d.goal(G::kDebulkTumor, Priority::kMedium, Urgency::kRoutine, r, missing);
    d.refer(Discipline::kRadiationOncology, Urgency::kRoutine,
            "Radiotherapy assessment (conventional or SBRT according to histology)",
            "Low-grade compression, histology unknown (rows 6 and 7)", {G::kDebulkTumor}, ev,
            &kRadiotherapy);
    d.missing(missing[0], "conventional radiotherapy versus SBRT (NOMS 'O') cannot be chosen");
  }
}

void rule_painful_uncomplicated(const Assessment& a, PlanDraft& d) {
  if (a.pain_present != Tri::kYes) return;
  // The palliative pathway offers its own single fraction for pain, without
  // waiting for compression and stability to be graded (rules_palliative.cc).
  if (a.palliative_candidate && !d.emergency()) return;
  if (a.primary_spine_tumour && !d.emergency()) return;  // the sarcoma service plans it
  if (a.escc_class == EsccClass::kHigh || a.escc_class == EsccClass::kGrey) return;
  if (a.sins_stable == Tri::kNo) return;
  const auto& t = *a.t;
  mappings::Evidence ev = pain_evidence(a);
  if (a.c->neurology.escc) add_evidence(ev, a.c->neurology.escc->evidence);
  if (a.c->mechanics.sins_total) add_evidence(ev, a.c->mechanics.sins_total->evidence);
  std::vector<std::string> missing;
  if (a.escc_class == EsccClass::kUnknown) missing.push_back("ESCC grade (to exclude compression)");
  if (a.sins_stable == Tri::kUnknown) missing.push_back("SINS (to confirm stability)");
  std::string proposal =
      "palliative external-beam radiotherapy for pain: a single 8 Gy fraction relieves pain as "
      "well as 20 Gy in 5, 24 Gy in 6 or 30 Gy in 10 (with more retreatment)";
  if (a.poor_prognosis == Tri::kYes) proposal += "; the single fraction suits the short prognosis";
  const Tri sbrt = sbrt_selected(a);
  if (sbrt == Tri::kYes) {
    proposal += "; SBRT may be considered because the SC.24 selection is met (ECOG 0-" +
                number_text(t.sbrt_max_ecog) + ", SINS below " + number_text(t.sbrt_max_sins + 1) +
                ", up to " + number_text(t.sbrt_max_levels) +
                " contiguous levels, no neurological deficit)";
  }
  RuleFiring r{
      .row = 12,
      .rule = "Painful metastasis without compression or instability",
      .finding = "Pain (" + pain_text(a) + ") from a spinal metastasis" +
                 (missing.empty() ? " without cord compression and with a stable spine" : ""),
      .proposal = proposal,
      .source = kSrcAstro2017 + "; " + kSrcAstro2024 + "; " + kSrcEsmo + "; " + kSrcSc24,
      .evidence = ev};
  d.goal(G::kPainRelief, Priority::kMedium, Urgency::kRoutine, r, missing);
  if (a.survival_below_rt_min == Tri::kYes) {
    d.caution(G::kPainRelief, "life expectancy under " + number_text(t.rt_min_survival_weeks) +
                                  " weeks: ASTRO 2024 recommends radiotherapy for quality of "
                                  "life only from 4 weeks; analgesia and comfort come first");
  }
  d.refer(Discipline::kRadiationOncology, Urgency::kRoutine,
          missing.empty() ? "Palliative radiotherapy for pain (single 8 Gy fraction or "
                            "fractionated; SBRT if selected)"
                          : "Palliative radiotherapy for pain once compression and stability "
                            "are graded",
          "Painful spinal metastasis (row 12)", {G::kPainRelief}, ev, &kRadiotherapy);
  for (const auto& m : missing) {
    d.missing(m,
              "radiotherapy for pain is proposed, but ASTRO 2024 asks for stability and "
              "compression to be assessed before radiotherapy");
  }
  d.fired(12);
}

void rule_excisional_surgery(const Assessment& a, PlanDraft& d) {
  const auto& c = *a.c;
  if (a.primary_spine_tumour) return;  // en bloc for a primary: rule_primary_spine_tumour
  if (c.spine.lesions.size() != 1 || c.other_metastases.extraspinal_bone ||
      c.other_metastases.visceral) {
    return;
  }
  if (a.favourable_prognosis != Tri::kYes) return;
  // An elective (P3) proposal: never during an emergency, and not before the
  // lesion is characterised (compression graded, stability scored).
  if (d.emergency()) {
    d.note(
        "Excisional surgery for the solitary metastasis (rule table row 13, elective) is not "
        "proposed while the emergency pathway is open; the team can consider it after the "
        "emergency treatment.");
    return;
  }
  if (a.escc_class == EsccClass::kUnknown || !a.sins) {
    d.note(
        "Excisional surgery for the solitary metastasis (rule table row 13, elective) is not "
        "proposed yet: the lesion's epidural compression (ESCC) and stability (SINS) must be "
        "graded first.");
    return;
  }
  if (a.operable != Tri::kYes) {
    d.note(
        "A solitary spinal metastasis with a favourable prognosis could be considered for "
        "excisional surgery (rule table row 13), but fitness for surgery is " +
        std::string(a.operable == Tri::kNo ? "lowered (" + a.s_gate_reasons + ")"
                                           : "not documented") +
        ".");
    return;
  }
  if (a.comfort_focused != nullptr) {
    d.note("Excisional surgery for the solitary metastasis (rule table row 13) is not proposed: " +
           comfort_basis(a) + ".");
    return;
  }
  // A declined operation is handled where every referral is: the row still
  // fires, the surgical referral is withheld and the plan says why.
  mappings::Evidence ev = c.spine.evidence;
  add_evidence(ev, a.prognosis_evidence);
  add_evidence(ev, c.other_metastases.evidence);
  RuleFiring r{
      .row = 13,
      .rule = "Solitary spinal metastasis with a favourable prognosis",
      .finding = "A single spinal metastasis (" + a.levels_text +
                 ") with no other bone or visceral metastasis recorded; " + a.prognosis_text,
      .proposal =
          "excisional (en bloc or marginal) surgery for long-term local control, discussed "
          "at the MDT",
      .source = kSrcTomita + "; " + kSrcTokuhashi + "; " + kSrcGstsg,
      .evidence = ev};
  d.goal(G::kDebulkTumor, Priority::kLow, Urgency::kRoutine, r);
  d.caution(G::kDebulkTumor,
            "the absence of other metastases in the record is not proof; staging is confirmed "
            "before excisional surgery");
  d.refer(Discipline::kSpineSurgery, Urgency::kRoutine,
          "Assessment for excisional (en bloc) surgery of the solitary metastasis",
          "Solitary spinal metastasis, favourable prognosis (row 13)", {G::kDebulkTumor}, ev);
  d.fired(13);
}

void rule_postoperative_rt(const Assessment& a, PlanDraft& d) {
  const auto& c = *a.c;
  std::vector<const mappings::SpinalSurgery*> surgeries;
  for (const auto& s : c.spinal_surgeries) surgeries.push_back(&s);
  if (surgeries.empty()) return;
  std::sort(surgeries.begin(), surgeries.end(), [](const auto* x, const auto* y) {
    auto key = [](const mappings::SpinalSurgery* s) {
      return std::make_tuple(
          s->when ? s->when->start_ms() : std::numeric_limits<std::int64_t>::min(), s->label,
          s->evidence);
    };
    return key(x) < key(y);
  });
  const auto* latest = surgeries.back();
  for (const auto& tr : c.treatments) {
    if (tr.kind != mappings::TreatmentKind::kRadiotherapy || !tr.start) continue;
    if (!latest->when || tr.start->start_ms() >= latest->when->start_ms()) return;  // RT given
  }
  const auto& ev = latest->evidence;
  const std::string label = latest->label.empty() ? "spinal surgery" : latest->label;
  RuleFiring r{
      .row = 19,
      .rule = "After spinal decompression or stabilisation",
      .finding = label + day_text(latest->when) + " with no radiotherapy recorded since",
      .proposal = a.ps_gates_procedures
                      ? "postoperative conventional radiotherapy for local control (SBRT is not "
                        "proposed with performance status " +
                            a.s_gate_reasons + ")"
                      : "postoperative radiotherapy (conventional or SBRT) for local control",
      .source = kSrcAstro2024 + "; " + kSrcEsmo + "; " + kSrcSeparation + "; " + kSrcAlOmair,
      .evidence = ev};
  d.goal(G::kDebulkTumor, Priority::kMedium, Urgency::kRoutine, r);
  if (a.pain_present != Tri::kNo) {
    r.proposal = "postoperative radiotherapy also helps pain control";
    d.goal(G::kPainRelief, Priority::kMedium, Urgency::kRoutine, r);
  }
  d.refer(Discipline::kRadiationOncology, Urgency::kRoutine,
          "Postoperative radiotherapy after " + label, "After spinal surgery (row 19)",
          {G::kDebulkTumor, G::kPainRelief}, ev, &kRadiotherapy);
  d.fired(19);
}

void rule_pain_goal(const Assessment& a, PlanDraft& d) {
  const auto& q = a.c->quality_of_life;
  if (d.has_goal(G::kPainRelief) || !q.pain_score) return;
  if (q.pain_score->value < a.t->pain_goal_min) return;
  std::vector<std::string> means;
  // A discipline may hold several referrals (one per urgency); name it once.
  auto add_means = [&means](const std::string& m) {
    if (std::find(means.begin(), means.end(), m) == means.end()) means.push_back(m);
  };
  for (const Referral* r : d.referrals()) {
    if (r->to == Discipline::kSpineSurgery) add_means("surgery");
    if (r->to == Discipline::kRadiationOncology) add_means("radiotherapy");
    if (r->to == Discipline::kInterventionalRadiology) add_means("vertebral augmentation");
  }
  RuleFiring r{.row = 0,
               .rule = "Moderate or severe pain",
               .finding = "Pain (" + pain_text(a) + ")",
               .proposal = means.empty() ? "analgesia, and treatment of the cause once it is clear"
                                         : "relief through the proposed " + join(means, " and ") +
                                               ", with analgesia meanwhile",
               .source = "the source document's goal of pain relief; " + kSrcAstro2024,
               .synthesis = true,
               .evidence = pain_evidence(a)};
  d.goal(G::kPainRelief, a.severe_pain ? Priority::kHigh : Priority::kMedium, Urgency::kRoutine, r);
}

// Preference branch (issue #11): an operation the patient declined is
// withheld (PlanDraft::refer keeps the surgical opinion); the non-operative
// options for the same problem are offered in its place: radiotherapy
// (NICE NG234; NOMS), a brace and immobilisation advice for an unstable or
// fractured spine (clinical-decision.md §8 'Immobilisation', row 14), and
// vertebral augmentation for a fracture without gross instability or
// compression (NOMS 'M'; CAFE).
void rule_primary_spine_tumour(const Assessment& a, PlanDraft& d) {
  if (!a.primary_spine_tumour) return;
  mappings::Evidence ev = a.c->cancer->evidence;
  add_evidence(ev, a.c->spine.evidence);
  // New pain or an emergency makes the specialist's view urgent; a known,
  // quiet tumour waits for the planned referral.
  const Urgency u = d.emergency() || a.new_back_pain ? Urgency::kUrgent : Urgency::kRoutine;
  d.refer(
      Discipline::kSpineSurgery, u,
      "Referral to a specialist sarcoma / primary spinal tumour service: assessment for en bloc "
      "resection (" +
          a.cancer_label + "), before any biopsy, operation or radiotherapy is planned",
      "Primary bone tumour of the spine, not a metastasis (team rule, hard rule 9)", {}, ev);
  d.note("Primary bone tumour of the spine (" + a.cancer_label +
         (a.levels_text.empty() ? std::string() : " at " + a.levels_text) +
         "): this is not a spinal metastasis, so the metastatic rules (NOMS radiotherapy and "
         "SBRT, palliative radiotherapy for pain, excisional surgery of a solitary metastasis, "
         "bone-targeted agents) are not applied" +
         (d.emergency() ? " beyond the emergency" : "") +
         ". It is referred to a specialist sarcoma / primary spinal tumour service, which plans "
         "resection and radiotherapy; an intralesional procedure or radiotherapy planned as for "
         "a metastasis may compromise en bloc resection.");
}

void rule_declined_operation_alternatives(const Assessment& a, PlanDraft& d) {
  if (a.declines_surgery == nullptr || !d.withheld(Discipline::kSpineSurgery)) return;
  const auto& m = a.c->mechanics;
  mappings::Evidence ev = a.declines_surgery->evidence;
  add_evidence(ev, m.evidence);
  const std::string reason = "In place of the operation the patient declined";
  if (a.declines_radiotherapy == nullptr) {
    if (d.emergency()) {
      d.refer(Discipline::kRadiationOncology, Urgency::kAsap,
              "Urgent radiotherapy (with dexamethasone) as the non-operative treatment of the "
              "cord compression",
              reason, {G::kPreserveNeurologicFunction, G::kPainRelief}, ev, &kRadiotherapy);
      d.offer_instead("urgent radiotherapy with dexamethasone");
    } else {
      d.refer(Discipline::kRadiationOncology, Urgency::kRoutine,
              "Radiotherapy as the non-operative local treatment of the spinal lesions", reason,
              {G::kPainRelief, G::kDebulkTumor}, ev, &kRadiotherapy);
      d.offer_instead("radiotherapy");
    }
  }
  const bool mechanical = a.gross_instability == Tri::kYes || a.sins_stable == Tri::kNo ||
                          m.pathological_fracture || m.instability_diagnosis;
  if (mechanical) {
    d.refer(Discipline::kRehabilitation, d.emergency() ? Urgency::kUrgent : Urgency::kRoutine,
            "Spinal orthosis (brace), immobilisation advice and a mobilisation plan as "
            "non-operative support of the spine",
            reason, {G::kCorrectSpinalInstability, G::kPreventFracture, G::kPainRelief}, ev);
    d.offer_instead("bracing (spinal orthosis) with immobilisation advice");
  }
  if (m.pathological_fracture && a.gross_instability != Tri::kYes &&
      a.escc_class != EsccClass::kHigh) {
    d.refer(Discipline::kInterventionalRadiology, Urgency::kRoutine,
            "Assessment for vertebral augmentation (vertebroplasty or kyphoplasty) in place of "
            "open surgery",
            reason, {G::kPainRelief, G::kPreventFracture}, ev);
    d.offer_instead("vertebral augmentation (interventional radiology)");
  }
}

}  // namespace mst::adapter::detail
