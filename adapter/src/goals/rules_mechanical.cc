// Rows 9-11 of the rule table: spinal instability (SINS, NOMS "M") and
// vertebral augmentation; the stability work-up when SINS is missing.
#include "rules.h"

namespace mst::adapter::detail {

using G = GoalCode;

namespace {

std::string sins_text(const Assessment& a) {
  const auto& m = a.c->mechanics;
  std::vector<std::string> parts;
  if (a.sins) {
    parts.push_back("SINS " + std::to_string(*a.sins) + " of 18" +
                    (m.sins_computed ? " (computed from its six components)" : "") +
                    (m.sins_total->when ? " on " + m.sins_total->when->date_string() : ""));
  }
  if (a.subluxation) parts.push_back("subluxation or translation on imaging");
  return join(parts, "; ");
}

mappings::Evidence mechanics_evidence(const Assessment& a) {
  mappings::Evidence ev = a.c->mechanics.evidence;
  if (a.c->mechanics.sins_total) add_evidence(ev, a.c->mechanics.sins_total->evidence);
  return ev;
}

// Poor performance status gates an operation (NOMS 'S'; Patchell: "medically
// operable"): the surgeon's opinion on stability and bracing is still asked
// for, and the non-operative means are proposed in place of stabilisation.
void refer_without_operation(const Assessment& a, PlanDraft& d, Urgency u,
                             const std::string& reason, const mappings::Evidence& ev) {
  const std::string why = reason + "; performance status " + a.s_gate_reasons +
                          ": no operation is proposed (row 15, NOMS 'S')";
  d.refer(Discipline::kSpineSurgery, u,
          "Opinion on spinal stability, bracing and immobilisation (" + sins_text(a) +
              "); no operation is proposed because of performance status " + a.s_gate_reasons,
          why, {G::kCorrectSpinalInstability, G::kPreventFracture}, ev);
  d.refer(Discipline::kRehabilitation, u,
          "Spinal orthosis (brace) and a safe-handling and mobilisation plan as non-operative "
          "support of the spine",
          why, {G::kCorrectSpinalInstability, G::kPreventFracture, G::kPainRelief}, ev);
  if (a.pain_present == Tri::kYes && a.declines_radiotherapy == nullptr) {
    d.refer(Discipline::kRadiationOncology, u,
            "Palliative radiotherapy for pain (a single 8 Gy fraction) in place of stabilisation",
            why, {G::kPainRelief}, ev, &kRadiotherapy);
  }
  d.caution(G::kCorrectSpinalInstability,
            "performance status " + a.s_gate_reasons +
                ": stabilisation surgery is not proposed; bracing and radiotherapy instead");
}

}  // namespace

void rule_instability(const Assessment& a, PlanDraft& d) {
  const auto& t = *a.t;
  const auto& m = a.c->mechanics;
  if (!a.sins && !a.subluxation) {
    std::string consequence =
        "mechanical stability (NOMS 'M', rule table rows 9-11) cannot be "
        "assessed";
    if (!m.missing_components.empty()) {
      consequence += "; missing SINS components: " + join(m.missing_components, ", ");
    }
    d.missing("SINS (Spinal Instability Neoplastic Score)", consequence);
    if ((a.palliative_candidate || a.ps_gates_procedures) && !d.emergency() && !pending_mri(d)) {
      // SINS chooses between stabilisation, SBRT and augmentation; none of
      // them is offered here, so imaging to score it would change nothing.
      d.note(std::string("No imaging is requested only to score spinal stability (SINS): ") +
             (a.palliative_candidate ? "on the palliative pathway"
                                     : "with performance status " + a.s_gate_reasons) +
             " no stabilisation or SBRT is offered, so the score would not change the plan. "
             "Pain on movement is treated with analgesia, radiotherapy and, if needed, a brace.");
      return;
    }
    if (const auto u = pending_mri(d)) {
      // Scored on the imaging already asked for, not on a later routine one.
      d.refer(Discipline::kDiagnosticRadiology, *u,
              "Report the six SINS components (spinal instability) on that imaging, with CT of "
              "the affected levels if needed",
              "Spinal stability not scored in the record (work-up)", {}, a.c->spine.evidence);
      return;
    }
    // In an emergency stability decides immobilisation and the treatment:
    // expert advice within 24 h (NICE NG234), so the work-up is not elective.
    d.refer(Discipline::kDiagnosticRadiology, d.emergency() ? Urgency::kUrgent : Urgency::kRoutine,
            "CT and MRI review to score spinal instability (the six SINS components)",
            "Spinal stability not scored in the record (work-up)", {}, a.c->spine.evidence);
    return;
  }
  const auto ev = mechanics_evidence(a);
  if (a.gross_instability == Tri::kYes) {
    RuleFiring r{
        .row = 10,
        .rule = "Unstable spine (SINS " + number_text(t.sins_unstable_min) + "-18 or subluxation)",
        .finding = "Unstable spine: " + sins_text(a),
        .source = kSrcSins + "; " + kSrcNoms,
        .synthesis = true,
        .evidence = ev};
    r.proposal =
        "surgical stabilisation, or bracing with radiotherapy or cement augmentation if "
        "surgery is not suitable";
    d.goal(G::kCorrectSpinalInstability, Priority::kHigh, Urgency::kUrgent, r);
    r.proposal = "stabilisation prevents further collapse and deformity";
    d.goal(G::kPreventFracture, Priority::kHigh, Urgency::kUrgent, r);
    if (a.pain_present != Tri::kNo) {
      r.proposal = "mechanical pain from instability responds to stabilisation";
      d.goal(G::kPainRelief, Priority::kHigh, Urgency::kUrgent, r);
    }
    if (a.ps_gates_procedures) {
      refer_without_operation(a, d, Urgency::kUrgent, "Unstable spine (row 10)", ev);
    } else {
      d.refer(
          Discipline::kSpineSurgery, Urgency::kUrgent,
          "Assessment for surgical stabilisation (" + sins_text(a) + ")", "Unstable spine (row 10)",
          {G::kCorrectSpinalInstability, G::kPreventFracture, G::kPainRelief}, ev, &kArthrodesis);
    }
    d.fired(10);
    return;
  }
  if (*a.sins < t.sins_consult_min) return;  // stable: no instability goal
  const bool raise = (a.severe_pain && a.c->quality_of_life.mechanical_pain) || !a.deficits.empty();
  // Row 9 is P2, or P1 with severe mechanical pain or neurology: P1 goals are
  // high. During an emergency the consultation is urgent whatever the pain:
  // stability is evaluated before the emergency radiotherapy (ASTRO 2024) and
  // decides immobilisation (NICE NG234).
  const Urgency u = raise || d.emergency() ? Urgency::kUrgent : Urgency::kRoutine;
  const Priority p = raise ? Priority::kHigh : Priority::kMedium;
  std::string finding = "Potentially unstable spine: " + sins_text(a);
  if (raise) {
    finding += a.deficits.empty() ? ", with severe mechanical pain" : ", with neurological signs";
  }
  RuleFiring r{.row = 9,
               .rule = "Potentially unstable spine (SINS " + number_text(t.sins_consult_min) + "-" +
                       number_text(t.sins_unstable_min - 1) + ")",
               .finding = finding,
               .proposal =
                   "surgical consultation on stability (at SINS 10 or more, more than half of "
                   "patients were stabilised in one series [R47])",
               .source = kSrcSins,
               .synthesis = true,
               .evidence = ev};
  d.goal(G::kCorrectSpinalInstability, p, u, r);
  r.proposal = "assess fracture risk and whether stabilisation or augmentation prevents collapse";
  d.goal(G::kPreventFracture, p, u, r);
  if (a.ps_gates_procedures) {
    refer_without_operation(a, d, u, "Potentially unstable spine (row 9)", ev);
  } else {
    d.refer(Discipline::kSpineSurgery, u,
            "Surgical consultation on spinal stability (" + sins_text(a) + ")",
            "Potentially unstable spine (row 9)",
            {G::kCorrectSpinalInstability, G::kPreventFracture}, ev);
  }
  d.fired(9);
}

void rule_vertebral_augmentation(const Assessment& a, PlanDraft& d) {
  const auto& m = a.c->mechanics;
  if (!m.pathological_fracture || !a.c->quality_of_life.mechanical_pain) return;
  std::vector<std::string> against;
  if (a.gross_instability == Tri::kYes) against.push_back("the spine is grossly unstable");
  if (a.escc_class == EsccClass::kHigh)
    against.push_back("the cord is compressed (high-grade ESCC)");
  if (!against.empty()) {
    d.note("Vertebral augmentation (rule table row 11) is not proposed: " + join(against, "; ") +
           "; stabilisation or decompression is considered instead.");
    return;
  }
  std::vector<std::string> missing;
  if (a.gross_instability == Tri::kUnknown)
    missing.push_back("SINS (to exclude gross instability)");
  if (a.escc_class == EsccClass::kUnknown) missing.push_back("ESCC grade (to exclude compression)");
  mappings::Evidence ev = mechanics_evidence(a);
  if (a.c->quality_of_life.pain_score) add_evidence(ev, a.c->quality_of_life.pain_score->evidence);
  RuleFiring r{.row = 11,
               .rule =
                   "Mechanical pain from a vertebral compression fracture without gross "
                   "instability",
               .finding = "Pathological vertebral fracture with mechanical pain",
               .proposal =
                   "vertebral augmentation (vertebroplasty or kyphoplasty), with radiotherapy as "
                   "needed",
               .source = kSrcNoms + "; " + kSrcCafe,
               .synthesis = true,
               .evidence = ev};
  d.goal(G::kPainRelief, Priority::kMedium, Urgency::kRoutine, r, missing);
  r.proposal = "cement augmentation stabilises the fractured vertebral body";
  d.goal(G::kPreventFracture, Priority::kMedium, Urgency::kRoutine, r, missing);
  d.refer(Discipline::kInterventionalRadiology, Urgency::kRoutine,
          "Assessment for vertebral augmentation (vertebroplasty or kyphoplasty)",
          "Painful pathological fracture without gross instability (row 11)",
          {G::kPainRelief, G::kPreventFracture}, ev);
  for (const auto& mi : missing) {
    d.missing(mi,
              "augmentation is proposed, but gross instability and cord compression must "
              "be excluded first");
  }
  d.fired(11);
}

}  // namespace mst::adapter::detail
