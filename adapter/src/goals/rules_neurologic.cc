// Rows 1-5, 8 and 16 of the rule table: new neurology, new back pain and
// epidural compression (NOMS "N" with "O" and "S").
#include "rules.h"

namespace mst::adapter::detail {

using G = GoalCode;

namespace {

std::string lower_first(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z' && (s.size() < 2 || !(s[1] >= 'A' && s[1] <= 'Z'))) {
    s[0] = static_cast<char>(s[0] - 'A' + 'a');
  }
  return s;
}

// The ESCC grade's evidence, or the recorded compressions a presumed grade
// rests on.
mappings::Evidence escc_evidence(const Assessment& a) {
  if (a.c->neurology.escc) return a.c->neurology.escc->evidence;
  mappings::Evidence ev;
  if (a.escc_presumed) {
    for (const auto* d : a.compressions) add_evidence(ev, d->evidence);
  }
  return ev;
}

std::string deficit_text(const mappings::NeurologicDeficit& d) {
  return lower_first(d.label) + (d.onset ? " since " + d.onset->date_string() : "");
}

std::string escc_finding(const Assessment& a) {
  if (a.escc_presumed) {
    std::vector<std::string> found;
    for (const auto* d : a.compressions) found.push_back(deficit_text(*d));
    return "Compression recorded (" + join(found, "; ") +
           ") without a Bilsky ESCC grade: read as high-grade compression until MRI grades it";
  }
  const auto& e = *a.c->neurology.escc;
  std::string meaning;
  switch (a.escc_class) {
    case EsccClass::kHigh:
      meaning = "the spinal cord is compressed";
      break;
    case EsccClass::kGrey:
      meaning = "the cord is abutted but not compressed";
      break;
    case EsccClass::kLow:
      meaning = "no cord compression";
      break;
    case EsccClass::kUnknown:
      break;
  }
  return "Epidural compression ESCC (Bilsky) grade " + escc_name(e.value) + day_text(e.when) +
         ": " + meaning;
}

// Evidence behind the fitness and prognosis parts of a decision.
mappings::Evidence systemic_evidence(const Assessment& a) {
  const auto& c = *a.c;
  mappings::Evidence ev = a.prognosis_evidence;
  if (c.quality_of_life.ecog) add_evidence(ev, c.quality_of_life.ecog->evidence);
  if (c.quality_of_life.karnofsky) add_evidence(ev, c.quality_of_life.karnofsky->evidence);
  for (const auto* cm : a.severe_comorbidities) add_evidence(ev, cm->evidence);
  if (c.cancer) add_evidence(ev, c.cancer->evidence);
  return ev;
}

std::string fitness_text(const Assessment& a) {
  std::vector<std::string> parts;
  if (a.ecog) parts.push_back("ECOG " + std::to_string(*a.ecog));
  if (a.kps) parts.push_back("Karnofsky " + std::to_string(*a.kps));
  return parts.empty() ? "" : "fit for surgery as far as recorded (" + join(parts, ", ") + ")";
}

void row4_radiosensitive(const Assessment& a, PlanDraft& d) {
  const std::string why = a.haematological ? a.cancer_label + " is a haematological malignancy"
                                           : a.cancer_label + " is radiosensitive";
  mappings::Evidence ev = escc_evidence(a);
  if (a.c->cancer) add_evidence(ev, a.c->cancer->evidence);
  RuleFiring r{.row = 4,
               .rule = "High-grade compression from a radiosensitive or haematological tumour",
               .finding = escc_finding(a) + "; " + why,
               .source = kSrcNoms + "; " + kSrcNice + "; " + kSrcPatchell + " and " + kSrcScorad +
                         " exclusions",
               .synthesis = true,
               .evidence = ev};
  r.proposal =
      "urgent conventional external-beam radiotherapy (cEBRT), with systemic therapy as the "
      "haematology or oncology team advises; surgery first is not applied";
  d.goal(G::kPreserveNeurologicFunction, Priority::kHigh, Urgency::kAsap, r);
  r.proposal = "cEBRT, with systemic therapy, shrinks a radiosensitive tumour";
  d.goal(G::kDebulkTumor, Priority::kHigh, Urgency::kAsap, r);
  r.proposal = a.haematological
                   ? "haematology or medical oncology to lead the systemic treatment and the "
                     "steroid plan"
                   : "medical oncology to coordinate systemic therapy with radiotherapy";
  d.goal(G::kSupportCancerTreatment, Priority::kHigh, Urgency::kAsap, r);
  const std::string reason = "High-grade compression, radiosensitive tumour (row 4)";
  d.refer(Discipline::kRadiationOncology, Urgency::kAsap,
          "Urgent conventional external-beam radiotherapy for cord compression", reason,
          {G::kPreserveNeurologicFunction, G::kDebulkTumor}, ev, &kRadiotherapy);
  d.refer(Discipline::kMedicalOncology, Urgency::kAsap,
          a.haematological ? "Haematology or oncology to lead systemic therapy alongside "
                             "radiotherapy, and the steroid plan"
                           : "Systemic therapy alongside radiotherapy",
          reason, {G::kSupportCancerTreatment, G::kDebulkTumor}, ev);
  d.note("Surgery-first logic is not applied to " + a.cancer_label +
         ": radiosensitive and haematological tumours (lymphoma, myeloma, leukaemia, germ-cell) "
         "were excluded from the Patchell trial and SCORAD. Surgery is proposed only for "
         "instability, or if the team judges otherwise.");
  d.mark_emergency();
  d.fired(4);
}

void row3_separation_surgery(const Assessment& a, PlanDraft& d) {
  mappings::Evidence ev = escc_evidence(a);
  add_evidence(ev, systemic_evidence(a));
  std::string finding = escc_finding(a) + "; " + a.cancer_label +
                        " is radioresistant to conventional radiotherapy; " + fitness_text(a) +
                        "; " + a.prognosis_text;
  RuleFiring r{.row = 3,
               .rule = "High-grade compression, radioresistant tumour, operable, survival of " +
                       number_text(a.t->patchell_min_survival_months) + " months or more",
               .finding = finding,
               .source = kSrcNoms + "; " + kSrcPatchell + "; " + kSrcSeparation,
               .evidence = ev};
  r.proposal =
      "urgent separation surgery (decompression, with stabilisation as needed) followed by "
      "stereotactic body radiotherapy (SBRT)";
  d.goal(G::kPreserveNeurologicFunction, Priority::kHigh, Urgency::kAsap, r);
  r.proposal = "separation surgery then SBRT for durable local control of a radioresistant tumour";
  d.goal(G::kDebulkTumor, Priority::kHigh, Urgency::kAsap, r);
  r.proposal =
      "decompression preserves or restores walking (Patchell: 84% vs 57% walking after surgery "
      "plus radiotherapy versus radiotherapy alone)";
  // Walking lost beyond the window is not what decompression restores.
  if (!a.established_deficit)
    d.goal(G::kImproveFunctionAmbulation, Priority::kHigh, Urgency::kAsap, r);
  const std::string reason = "High-grade compression, radioresistant tumour, operable (row 3)";
  d.refer(Discipline::kSpineSurgery, Urgency::kAsap,
          "Urgent separation surgery (decompression, stabilisation as needed) before SBRT", reason,
          {G::kPreserveNeurologicFunction, G::kDebulkTumor, G::kImproveFunctionAmbulation}, ev,
          &kDecompression);
  d.refer(Discipline::kRadiationOncology, Urgency::kAsap, "SBRT after separation surgery", reason,
          {G::kDebulkTumor}, ev, &kRadiotherapy);
  d.mark_emergency();
  d.fired(3);
}

void row5_radiotherapy_first(const Assessment& a, PlanDraft& d,
                             const std::vector<std::string>& against) {
  const auto& t = *a.t;
  mappings::Evidence ev = escc_evidence(a);
  add_evidence(ev, systemic_evidence(a));
  RuleFiring r{
      .row = 5,
      .rule = "High-grade compression, not operable or survival under " +
              number_text(t.patchell_min_survival_months) + " months",
      .finding = escc_finding(a) + "; surgery first is not proposed because " + join(against, "; "),
      .source = kSrcQs56 + "; " + kSrcScorad + "; " + kSrcAstro2024,
      .synthesis = true,
      .evidence = ev};
  r.proposal =
      "urgent radiotherapy (8 Gy single fraction to 20 Gy in 5 fractions are acceptable) "
      "with dexamethasone, starting within " +
      number_text(t.rt_start_hours) + " h of the decision";
  d.goal(G::kPreserveNeurologicFunction, Priority::kHigh, Urgency::kAsap, r);
  r.proposal = "the same urgent radiotherapy also relieves pain";
  d.goal(G::kPainRelief, Priority::kHigh, Urgency::kAsap, r);
  d.refer(Discipline::kRadiationOncology, Urgency::kAsap,
          "Urgent radiotherapy for cord compression, to start within " +
              number_text(t.rt_start_hours) + " h of the decision (8 Gy x 1 to 20 Gy in 5)",
          "High-grade compression, radiotherapy first (row 5)",
          {G::kPreserveNeurologicFunction, G::kPainRelief}, ev, &kRadiotherapy);
  d.action(5,
           "Dexamethasone with radiotherapy for cord compression (ASTRO 2024 recommends "
           "radiotherapy plus dexamethasone over radiotherapy alone; NICE NG234: " +
               number_text(t.dexamethasone_mg) +
               " mg when there are neurological symptoms or signs).",
           kSrcAstro2024 + "; " + kSrcNice, Urgency::kAsap, ev);
  d.mark_emergency();
  d.fired(5);
}

void rows3_5_undecided(const Assessment& a, PlanDraft& d, const std::vector<std::string>& missing) {
  mappings::Evidence ev = escc_evidence(a);
  add_evidence(ev, systemic_evidence(a));
  RuleFiring r{
      .row = 3,
      .rule = "High-grade compression: surgery first (row 3) or radiotherapy first (row 5)",
      .finding = escc_finding(a) + "; the inputs that choose between the two paths are missing",
      .source = kSrcNoms + "; " + kSrcPatchell + "; " + kSrcQs56,
      .evidence = ev};
  r.proposal =
      "urgent decision between separation surgery then SBRT and radiotherapy first; both "
      "specialties are asked to assess now";
  d.goal(G::kPreserveNeurologicFunction, Priority::kHigh, Urgency::kAsap, r, missing);
  r.proposal = "separation surgery then SBRT, or radiotherapy, for local control";
  d.goal(G::kDebulkTumor, Priority::kHigh, Urgency::kAsap, r, missing);
  const std::string reason = "High-grade compression, treatment path undecided (rows 3 and 5)";
  d.refer(Discipline::kSpineSurgery, Urgency::kAsap,
          "Urgent opinion: separation surgery or radiotherapy first for high-grade compression",
          reason, {G::kPreserveNeurologicFunction, G::kDebulkTumor}, ev);
  d.refer(Discipline::kRadiationOncology, Urgency::kAsap,
          "Urgent radiotherapy assessment for high-grade compression", reason,
          {G::kPreserveNeurologicFunction, G::kDebulkTumor}, ev, &kRadiotherapy);
  for (const auto& m : missing) {
    d.missing(m,
              "surgery first versus radiotherapy first for the compressed cord cannot be "
              "decided by the rules; the specialists decide");
  }
  d.mark_emergency();
  d.fired(3);
}

// Row 1's suspected MSCC with no spinal lesion recorded and no MRI since the
// onset: nothing is known yet that a surgeon or radiation oncologist could
// treat. The coordinator, the MRI and dexamethasone are the stat actions;
// definitive treatment is planned on the MRI (NICE NG234 [R26], CD 7.1).
bool lesion_unconfirmed(const Assessment& a) {
  return !a.c->spine.present && !a.imaging_after_onset;
}

// Row 1's requests to the spine surgeon and the radiation oncologist. The
// surgeon is asked for a decompression only when nothing known argues
// against surgery first: a haematological or germ-cell tumour gets
// radiotherapy first whatever the compression (NOMS [R7], CD 3.2-3.3), and poor
// performance status lowers surgical candidacy (NOMS 'S', Patchell
// "medically operable" [R35]); both get an opinion on stability and
// immobilisation within 24 h (NICE NG234, CD 7.1 "Immobilisation").
void refer_specialists(const Assessment& a, PlanDraft& d, const std::string& reason,
                       const mappings::Evidence& ev) {
  const bool after_mri = lesion_unconfirmed(a);
  const Urgency definitive = after_mri ? Urgency::kAsap : Urgency::kStat;
  // "Once the MRI shows ...: assessment for ...", else the request as it is.
  auto when = [after_mri](const std::string& request) {
    return after_mri ? "Once the whole-spine MRI shows the compression: " + lower_first(request)
                     : request;
  };
  const std::vector<GoalCode> serves = {G::kPreserveNeurologicFunction,
                                        G::kImproveFunctionAmbulation};
  std::string not_first;
  // The verified radiosensitive list (lymphoma, myeloma, seminoma, CD 3.3 [V]),
  // which Patchell excluded with leukaemia and germ-cell tumours [R35];
  // breast and prostate, radiosensitive only on the [U] NOMS list, were in
  // Patchell, so the surgeon still assesses them for decompression.
  const bool patchell_excluded =
      a.haematological || (a.c->cancer && a.c->cancer->key == "seminoma");
  if (patchell_excluded) {
    not_first = "radiotherapy and systemic treatment come first for " + a.cancer_label +
                " (haematological or germ-cell, radiosensitive); surgery only for instability "
                "or bony retropulsion";
  } else if (a.poor_ps == Tri::kYes) {
    std::vector<std::string> ps;
    if (a.ecog) ps.push_back("ECOG " + std::to_string(*a.ecog));
    if (a.kps) ps.push_back("Karnofsky " + std::to_string(*a.kps));
    not_first = "performance status (" + join(ps, ", ") +
                ") lowers surgical candidacy, so no decompression is proposed unless the "
                "surgeon judges the new deficit to be its cause";
  }
  if (not_first.empty()) {
    d.refer(Discipline::kSpineSurgery, definitive,
            when("Immediate assessment for metastatic spinal cord compression (decompression "
                 "and stabilisation)"),
            reason, serves, ev);
  } else {
    d.refer(Discipline::kSpineSurgery, Urgency::kUrgent,
            when("Opinion within 24 h on spinal stability and immobilisation, and on whether "
                 "any operation is appropriate: " +
                 not_first),
            reason, serves, ev);
  }
  d.refer(Discipline::kRadiationOncology, definitive,
          after_mri ? when("Assessment for urgent radiotherapy (to start within 24 h of the "
                           "decision to treat)")
                    : std::string("Immediate assessment for urgent radiotherapy"),
          reason, serves, ev, &kRadiotherapy);
}

}  // namespace

std::optional<Urgency> pending_mri(const PlanDraft& d) {
  for (Urgency u : {Urgency::kStat, Urgency::kAsap, Urgency::kUrgent}) {
    if (d.has_referral(Discipline::kDiagnosticRadiology, u)) return u;
  }
  return std::nullopt;
}

// The deficit a recorded compression caused is complete and older than the
// paraplegia window, and nothing is new: there is no function below it left
// to preserve, so the compression is not re-treated as an emergency.
static void note_established_complete(const Assessment& a, PlanDraft& d, const std::string& what) {
  const auto& since = a.c->quality_of_life.non_ambulatory_since;
  d.note(what + " is recorded with an established complete deficit (unable to walk since " +
         (since ? since->date_string() : std::string("an unknown day")) + ", longer than " +
         number_text(a.t->paraplegia_window_hours) +
         " h) and no new neurological symptom: emergency decompression, and radiotherapy or "
         "high-dose dexamethasone to preserve neurological function, are not proposed (Patchell "
         "excluded complete paraplegia of more than 48 h; NICE QS56: treatment preserves "
         "function while the patient still walks). Radiotherapy is offered for pain. Any new "
         "symptom (a higher sensory level, arm weakness, rising pain) restarts the emergency "
         "pathway.");
}

void rule_new_neurology(const Assessment& a, PlanDraft& d) {
  if (!a.mscc_suspected) return;
  if (a.established_complete) {
    note_established_complete(a, d, "Cord or cauda equina compression");
    return;
  }
  const auto& c = *a.c;
  const auto& t = *a.t;
  std::vector<std::string> findings;
  mappings::Evidence ev;
  for (const auto* def : a.new_deficits) {
    findings.push_back(deficit_text(*def));
    add_evidence(ev, def->evidence);
  }
  for (const auto* def : a.compressions) {
    if (def->is_new) continue;  // listed above
    findings.push_back("recorded " + deficit_text(*def));
    add_evidence(ev, def->evidence);
  }
  if (a.walking_lost_in_window == Tri::kYes) {
    findings.push_back("unable to walk since " +
                       c.quality_of_life.non_ambulatory_since->date_string() +
                       (a.window_uncertain ? " (exact time uncertain)" : ""));
    add_evidence(ev, c.quality_of_life.ambulation.evidence);
  }
  const bool only_recorded = !a.new_neuro;
  RuleFiring r{
      .row = 1,
      .rule = only_recorded ? "Recorded cord compression in a patient with cancer"
                            : "New neurological symptoms in a patient with cancer",
      .finding = (only_recorded ? "Cord or cauda equina compression recorded in a patient with "
                                  "cancer: "
                                : "New neurological symptoms in a patient with cancer: ") +
                 join(findings, "; "),
      .source = kSrcNice + "; " + kSrcAstro2024,
      .synthesis = true,
      .evidence = ev};
  r.proposal =
      "treat as an oncological emergency: contact the MSCC coordinator immediately, "
      "whole-spine MRI within " +
      number_text(t.mscc_mri_hours) + " h, dexamethasone " + number_text(t.dexamethasone_mg) +
      " mg, and " +
      (lesion_unconfirmed(a) ? "spinal and oncology assessment for definitive treatment as soon "
                               "as the MRI shows the compression"
                             : "immediate spinal and oncology assessment");
  d.goal(G::kPreserveNeurologicFunction, Priority::kHigh, Urgency::kStat, r);
  r.proposal =
      "act now to keep or regain walking; outcomes are best when treatment starts while "
      "the patient still walks";
  d.goal(G::kImproveFunctionAmbulation, Priority::kHigh, Urgency::kStat, r);

  d.action(1, "Contact the MSCC coordinator (or the local acute spinal oncology service) now.",
           kSrcNice, Urgency::kStat, ev);
  d.action(1,
           "Dexamethasone " + number_text(t.dexamethasone_mg) +
               " mg by mouth (or the parenteral equivalent) as soon as possible, continued daily "
               "until surgery or radiotherapy, then reduced; stop it if MSCC is excluded" +
               (a.haematological ? "; for a haematological malignancy, give the first dose and "
                                   "then discuss with the haematology MDT."
                                 : "."),
           "NICE NG234 recommendations 1.8.1-1.8.7 (secondary summary) [R26]", Urgency::kStat, ev);
  mappings::Evidence immobilise_ev = ev;
  add_evidence(immobilise_ev, c.mechanics.evidence);
  d.action(1,
           "If the symptoms or signs suggest spinal instability, immobilise without delay and get "
           "specialist advice within 24 h to keep immobilisation short.",
           "NICE NG234 [R26]", Urgency::kStat, immobilise_ev);

  const std::string reason =
      only_recorded ? "Recorded cord compression: suspected MSCC, an emergency (row 1)"
                    : "New neurological symptoms: suspected MSCC, an emergency (row 1)";
  if (!c.spine.present) {
    d.note(
        "No spinal lesion is recorded. This plan follows NICE NG234's suspected metastatic "
        "spinal cord compression pathway because the record holds cancer and " +
        join(findings, "; ") + ": an emergency is assessed before any spinal lesion is confirmed.");
  }
  if (!a.imaging_after_onset) {
    d.refer(Discipline::kDiagnosticRadiology, Urgency::kStat,
            "Whole-spine MRI within " + number_text(t.mscc_mri_hours) +
                " h (sagittal T1 or STIR and T2, axial through abnormal levels)",
            reason, {G::kPreserveNeurologicFunction}, ev);
  } else if (a.escc_class == EsccClass::kLow || a.escc_class == EsccClass::kGrey) {
    d.caution(G::kPreserveNeurologicFunction,
              "MRI on or after the onset shows ESCC grade " + escc_name(*a.escc) +
                  ": if MSCC is excluded the team may step down this pathway (NICE: stop "
                  "dexamethasone when MSCC is excluded)");
  }
  refer_specialists(a, d, reason, ev);
  if (a.haematological) {
    // NG234: after the first dexamethasone dose, discuss with the haematology
    // MDT; radiotherapy and systemic treatment come before surgery.
    mappings::Evidence haem_ev = ev;
    add_evidence(haem_ev, c.cancer->evidence);
    d.refer(Discipline::kMedicalOncology, Urgency::kStat,
            "Discuss with the haematology MDT now: " + a.cancer_label +
                " is treated with radiotherapy and systemic treatment first",
            reason, {G::kPreserveNeurologicFunction, G::kSupportCancerTreatment}, haem_ev);
  }
  d.mark_emergency();
  d.fired(1);
}

namespace {

// Unable to walk since an unknown time: the Patchell window cannot be
// judged, so establishing the onset is itself urgent.
void walking_lost_when_unknown(const std::string& window, const mappings::Evidence& ev,
                               PlanDraft& d) {
  RuleFiring r{.row = 0,
               .rule = "Unable to walk, time of onset unknown",
               .finding = "The patient cannot walk and the record does not say since when",
               .proposal = "establish urgently when walking was lost: within " + window +
                           " decompression can restore walking and the emergency pathway applies",
               .source = kSrcPatchell + "; " + kSrcNice,
               .synthesis = true,
               .evidence = ev};
  const std::vector<std::string> missing = {"time walking was lost"};
  d.goal(G::kImproveFunctionAmbulation, Priority::kHigh, Urgency::kUrgent, r, missing);
  d.goal(G::kPreserveNeurologicFunction, Priority::kHigh, Urgency::kUrgent, r, missing);
  d.refer(Discipline::kSpineSurgery, Urgency::kUrgent,
          "Establish when walking was lost; if within " + window +
              ", urgent decompression may restore walking",
          "Unable to walk, onset unknown (team rule next to row 16)",
          {G::kImproveFunctionAmbulation, G::kPreserveNeurologicFunction}, ev);
  d.missing("time walking was lost",
            "the " + window +
                " window in which decompression can restore walking (Patchell) cannot be "
                "assessed; if walking was lost recently this is an emergency");
}

// Patchell eligibility, each criterion three-valued: what speaks against
// surgery to restore walking, and what is not known.
struct PatchellCheck {
  std::vector<std::string> against;
  std::vector<std::string> missing;
};

PatchellCheck patchell_check(const Assessment& a) {
  const auto& t = *a.t;
  PatchellCheck p;
  if (a.haematological || a.onco == Onco::kSensitive) {
    p.against.push_back(a.cancer_label +
                        " is radiosensitive or haematological (treated with "
                        "radiotherapy first, row 4)");
  } else if (a.onco == Onco::kUnknown) {
    p.missing.push_back("primary histology (a radiosensitive tumour was excluded from Patchell)");
  }
  if (a.escc_class == EsccClass::kLow) {
    p.against.push_back("MRI shows no cord compression (ESCC " + escc_name(*a.escc) + ")");
  } else if (a.escc_class != EsccClass::kHigh) {
    p.missing.push_back("MRI-confirmed cord compression (ESCC grade 2 or 3)");
  }
  if (a.single_area == Tri::kUnknown) {
    p.missing.push_back("a single area of compression (one level or contiguous levels)");
  }
  if (a.operable == Tri::kNo) {
    p.against.push_back("surgical candidacy lowered: " + a.s_gate_reasons);
  } else if (a.operable == Tri::kUnknown) {
    p.missing.push_back("fitness for surgery");
  }
  if (a.survival_ge_patchell == Tri::kNo) {
    p.against.push_back("expected survival under " + number_text(t.patchell_min_survival_months) +
                        " months");
  } else if (a.survival_ge_patchell == Tri::kUnknown) {
    p.missing.push_back("expected survival of at least " +
                        number_text(t.patchell_min_survival_months) + " months");
  }
  if (a.declines_surgery != nullptr) p.against.push_back("the patient declined surgery");
  return p;
}

// Row 16: walking lost inside the window and nothing against surgery.
void propose_decompression(const Assessment& a, const std::string& window,
                           const std::vector<std::string>& missing, mappings::Evidence ev,
                           PlanDraft& d) {
  const std::string since = a.c->quality_of_life.non_ambulatory_since->date_string();
  add_evidence(ev, escc_evidence(a));
  add_evidence(ev, systemic_evidence(a));
  RuleFiring r{.row = 16,
               .rule = "Unable to walk for less than " + number_text(a.t->paraplegia_window_hours) +
                       " h, solid tumour, single compression site, operable",
               .finding = "Unable to walk since " + since +
                          (a.window_uncertain ? " (within " + window + " at the earliest reading)"
                                              : ", within " + window),
               .proposal =
                   "urgent decompressive surgery followed by radiotherapy to regain walking "
                   "(Patchell: 62% vs 19% of non-ambulatory patients walked again)",
               .source = kSrcPatchell,
               .evidence = ev};
  d.goal(G::kImproveFunctionAmbulation, Priority::kHigh, Urgency::kStat, r, missing);
  r.proposal = "urgent decompression relieves the compressed cord";
  d.goal(G::kPreserveNeurologicFunction, Priority::kHigh, Urgency::kStat, r, missing);
  const std::string reason = "Walking lost within " + window + " (row 16)";
  d.refer(Discipline::kSpineSurgery, Urgency::kStat,
          "Urgent decompressive surgery followed by radiotherapy, while walking can still be "
          "regained",
          reason, {G::kImproveFunctionAmbulation, G::kPreserveNeurologicFunction}, ev,
          &kDecompression);
  d.refer(Discipline::kRadiationOncology, Urgency::kStat, "Radiotherapy after decompression",
          reason, {G::kPreserveNeurologicFunction}, ev, &kRadiotherapy);
  for (const auto& m : missing) {
    d.missing(m,
              "eligibility for urgent decompression to restore walking (Patchell) is not "
              "confirmed; the emergency is kept and the surgeon decides");
  }
  d.mark_emergency();
  d.fired(16);
}

}  // namespace

void rule_walking_lost(const Assessment& a, PlanDraft& d) {
  if (!a.non_ambulatory) return;
  const std::string window = number_text(a.t->paraplegia_window_hours) + " h";
  const mappings::Evidence& ev = a.c->quality_of_life.ambulation.evidence;
  if (a.walking_lost_in_window == Tri::kUnknown) {
    walking_lost_when_unknown(window, ev, d);
    return;
  }
  if (a.walking_lost_in_window == Tri::kNo) {
    d.note("Unable to walk since " + a.c->quality_of_life.non_ambulatory_since->date_string() +
           ", longer than " + window +
           ": outside the Patchell trial's window, so surgery to restore walking is less likely "
           "to help (rule table row 16 not applied).");
    return;
  }
  const PatchellCheck check = patchell_check(a);
  if (!check.against.empty()) {
    d.note("Urgent decompression to restore walking (rule table row 16) is not proposed: " +
           join(check.against, "; ") + ".");
    return;
  }
  propose_decompression(a, window, check.missing, ev, d);
}

void rule_new_back_pain(const Assessment& a, PlanDraft& d) {
  if (!a.new_back_pain) return;
  const auto& bp = *a.c->quality_of_life.new_back_pain;
  const auto& ev = bp.evidence;
  RuleFiring r{.row = 2,
               .rule = "New back pain in a patient with cancer",
               .finding = "New back pain" +
                          (bp.when ? " since " + bp.when->date_string() : std::string()) +
                          " in a patient with cancer" +
                          (a.new_neuro ? "" : ", without new neurological symptoms"),
               .source = kSrcCg75,
               .synthesis = true,
               .evidence = ev};
  r.proposal = "pain control now and assessment within 24 h";
  d.goal(G::kPainRelief, Priority::kHigh, Urgency::kUrgent, r);
  r.proposal = "prompt MRI to find epidural compression before neurological signs appear";
  d.goal(G::kPreserveNeurologicFunction, Priority::kMedium, Urgency::kUrgent, r);
  r.proposal = "prompt imaging to find fracture risk and instability";
  d.goal(G::kPreventFracture, Priority::kMedium, Urgency::kUrgent, r);
  const auto& escc = a.c->neurology.escc;
  const bool imaged_since =
      escc && escc->when && bp.when && escc->when->start_ms() >= bp.when->start_ms();
  // The emergency whole-spine MRI (row 1) already images the painful spine.
  if (!imaged_since && !d.has_referral(Discipline::kDiagnosticRadiology, Urgency::kStat)) {
    d.refer(Discipline::kDiagnosticRadiology, Urgency::kUrgent,
            "MRI of the whole spine per the local pathway for pain suggestive of spinal "
            "metastases",
            "New back pain in a patient with cancer (row 2)",
            {G::kPreserveNeurologicFunction, G::kPreventFracture}, ev);
  }
  d.action(2,
           "Contact the MSCC coordinator or acute oncology service within 24 h about the new "
           "back pain.",
           kSrcCg75, Urgency::kUrgent, ev);
  d.fired(2);
}

void rule_high_grade_compression(const Assessment& a, PlanDraft& d) {
  if (a.escc_class != EsccClass::kHigh) return;
  if (a.established_complete) {
    if (!a.mscc_suspected) note_established_complete(a, d, "High-grade epidural compression");
    return;
  }
  const auto& t = *a.t;
  if (a.haematological || a.onco == Onco::kSensitive) {
    row4_radiosensitive(a, d);
    return;
  }
  std::vector<std::string> against;
  std::vector<std::string> missing;
  if (a.onco == Onco::kUnknown) {
    missing.push_back("primary histology and its radiosensitivity (NOMS 'O')");
  }
  if (a.operable == Tri::kNo) {
    against.push_back("surgical candidacy is lowered (" + a.s_gate_reasons + ")");
  } else if (a.operable == Tri::kUnknown) {
    missing.push_back(a.s_gate == Tri::kYes
                          ? "fitness for surgery (performance status is poor but may reflect "
                            "the new deficit)"
                          : "performance status (ECOG or Karnofsky) to judge fitness for surgery");
  }
  if (a.survival_ge_patchell == Tri::kNo) {
    against.push_back("expected survival is under " + number_text(t.patchell_min_survival_months) +
                      " months (" + a.prognosis_text + ")");
  } else if (a.survival_ge_patchell == Tri::kUnknown) {
    missing.push_back("expected survival of at least " +
                      number_text(t.patchell_min_survival_months) + " months (Patchell)");
  }
  if (a.declines_surgery != nullptr) against.push_back("the patient declined surgery");
  if (!against.empty()) {
    row5_radiotherapy_first(a, d, against);
  } else if (missing.empty()) {
    row3_separation_surgery(a, d);
  } else {
    rows3_5_undecided(a, d, missing);
  }
}

void rule_grey_zone_compression(const Assessment& a, PlanDraft& d) {
  if (a.escc_class != EsccClass::kGrey) return;
  const auto ev = escc_evidence(a);
  RuleFiring r{.row = 8,
               .rule = "ESCC grade 1c (grey zone)",
               .finding = escc_finding(a),
               .proposal =
                   "discussion at the MDT of surgery versus radiosurgery; watch for neurological "
                   "change",
               .source = kSrcBilsky,
               .synthesis = true,
               .evidence = ev};
  d.goal(G::kPreserveNeurologicFunction, Priority::kMedium, Urgency::kRoutine, r);
  const std::string reason = "ESCC 1c is a grey zone between surgery and radiosurgery (row 8)";
  d.refer(Discipline::kSpineSurgery, Urgency::kRoutine,
          "MDT discussion of ESCC 1c: surgery or radiosurgery", reason,
          {G::kPreserveNeurologicFunction}, ev);
  d.refer(Discipline::kRadiationOncology, Urgency::kRoutine,
          "MDT discussion of ESCC 1c: radiosurgery or surgery", reason,
          {G::kPreserveNeurologicFunction}, ev, &kRadiotherapy);
  d.fired(8);
}

void rule_compression_not_graded(const Assessment& a, PlanDraft& d) {
  if (a.escc_class != EsccClass::kUnknown) return;
  d.missing("ESCC (Bilsky) grade of epidural compression",
            "the NOMS neurological branch (rule table rows 3-8) cannot be chosen until MRI grades "
            "the compression");
  if (a.palliative_candidate && !d.emergency() && !pending_mri(d)) {
    d.note(
        "No MRI is requested only to grade epidural compression: on the palliative pathway the "
        "grade would not change the plan (no surgery or SBRT is offered; radiotherapy for pain "
        "is given either way). Image if a new neurological symptom appears.");
    return;
  }
  if (const auto u = pending_mri(d)) {
    // The MRI already asked for grades it; a second, routine one would not.
    d.refer(Discipline::kDiagnosticRadiology, *u,
            "Report the Bilsky ESCC grade of epidural compression on that MRI",
            "Epidural compression not graded in the record (work-up)", {}, a.c->spine.evidence);
    return;
  }
  d.refer(Discipline::kDiagnosticRadiology, Urgency::kRoutine,
          "MRI of the whole spine to grade epidural compression (Bilsky ESCC)",
          "Epidural compression not graded in the record (work-up)", {}, a.c->spine.evidence);
}

}  // namespace mst::adapter::detail
