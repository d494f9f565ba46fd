// The rules of the goal engine, one function per finding family. Each reads
// the Assessment and adds to the PlanDraft; docs/clinical-rules.md lists
// them row by row with their sources.
#pragma once

#include <optional>
#include <string>

#include "mst/adapter/goals/assessment.h"
#include "plan_draft.h"

namespace mst::adapter::detail {

// Sources, as cited in clinical-decision.md (reference numbers in brackets).
inline const std::string kSrcNice = "NICE NG234 (2023) [R26]; NICE CG75 (2008) [R27]";
inline const std::string kSrcCg75 = "NICE CG75 (2008) [R27], carried into NG234 [R26]";
inline const std::string kSrcQs56 = "NICE QS56 statement 6 [R28]";
inline const std::string kSrcAstro2017 = "ASTRO 2017 guideline update [R31]";
inline const std::string kSrcAstro2024 = "ASTRO 2024 guideline [R32]";
inline const std::string kSrcNoms = "NOMS framework, Laufer 2013 [R6, R7]";
inline const std::string kSrcPatchell = "Patchell 2005 randomised trial [R35]";
inline const std::string kSrcScorad = "SCORAD trial, Hoskin 2019 [R36]";
inline const std::string kSrcSc24 = "CCTG SC.24 trial, Sahgal 2021 [R37]";
inline const std::string kSrcCafe = "CAFE trial, Berenson 2011 [R38]";
inline const std::string kSrcSeparation = "separation surgery and SRS, Laufer 2013 [R39]";
inline const std::string kSrcAlOmair = "postoperative SBRT, Al-Omair 2013 [R41]";
inline const std::string kSrcBilsky = "Bilsky ESCC scale, Bilsky 2010 [R4]; Radiopaedia [R5]";
inline const std::string kSrcSins = "SINS, SOSG Fisher 2010 [R1]; Fisher 2014 [R3]";
inline const std::string kSrcEsmo = "ESMO bone health 2020 [R34]";
inline const std::string kSrcTokuhashi = "revised Tokuhashi 2005 [R9]";
inline const std::string kSrcTomita = "Tomita 2001 [R13]";
inline const std::string kSrcGstsg = "GSTSG consensus, Choi 2010 [R40]";
inline const std::string kSrcPrinciple =
    "the source document's principle that spine treatment must not interfere with the primary "
    "cancer treatment unless a delay risks serious neurological damage";

// Neurological and compression rules (rows 1-5, 8, 16; compression work-up).
void rule_new_neurology(const Assessment& a, PlanDraft& d);           // row 1
void rule_walking_lost(const Assessment& a, PlanDraft& d);            // row 16
void rule_new_back_pain(const Assessment& a, PlanDraft& d);           // row 2
void rule_high_grade_compression(const Assessment& a, PlanDraft& d);  // rows 3, 4, 5
void rule_grey_zone_compression(const Assessment& a, PlanDraft& d);   // row 8
void rule_compression_not_graded(const Assessment& a, PlanDraft& d);  // work-up

// Local treatment rules (rows 6, 7, 12, 13, 19).
void rule_low_grade_compression(const Assessment& a, PlanDraft& d);            // rows 6, 7
void rule_painful_uncomplicated(const Assessment& a, PlanDraft& d);            // row 12
void rule_excisional_surgery(const Assessment& a, PlanDraft& d);               // row 13
void rule_postoperative_rt(const Assessment& a, PlanDraft& d);                 // row 19
void rule_pain_goal(const Assessment& a, PlanDraft& d);                        // team rule
void rule_declined_operation_alternatives(const Assessment& a, PlanDraft& d);  // row 20
// A primary bone tumour of the spine goes to a sarcoma / primary spinal
// tumour service; the metastatic rows step aside outside an emergency.
void rule_primary_spine_tumour(const Assessment& a, PlanDraft& d);  // hard rule 9

// Mechanical rules (rows 9-11; stability work-up).
void rule_instability(const Assessment& a, PlanDraft& d);             // rows 9, 10
void rule_vertebral_augmentation(const Assessment& a, PlanDraft& d);  // row 11

// Function, systemic and whole-person rules.
void rule_ambulation(const Assessment& a, PlanDraft& d);  // team rule
// Comfort first with a short prognosis, or an established deficit and poor
// performance status (rules_palliative.cc); never during an emergency.
void rule_palliative_pathway(const Assessment& a, PlanDraft& d);   // row 14, team synthesis
void rule_bone_targeted_agent(const Assessment& a, PlanDraft& d);  // row 18
void rule_systemic_gate(const Assessment& a, PlanDraft& d);        // row 15
void rule_poor_prognosis(const Assessment& a, PlanDraft& d);       // row 14
void rule_ongoing_treatment(const Assessment& a, PlanDraft& d);    // row 17
void rule_preferences(const Assessment& a, PlanDraft& d);          // row 20
void rule_input_quality(const Assessment& a, PlanDraft& d);        // stale and missing inputs

// The urgency of a diagnostic-radiology request already made at `urgent` or
// above (the emergency or back-pain MRI), so a work-up joins it; else none.
std::optional<Urgency> pending_mri(const PlanDraft& d);

// True when `g` was proposed by an emergency row (1, 3, 4, 5, 16).
bool from_emergency_row(const ProposedGoal& g);

}  // namespace mst::adapter::detail
