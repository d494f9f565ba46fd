// Code systems and codes the CarePlan builder writes, with where each was
// verified (fhir-coding.md sections 4, 5, 12 and 13).
#pragma once

#include <string_view>
#include <vector>

#include "mst/adapter/goals/goal_plan.h"
#include "mst/fhir/code_systems.h"

namespace mst::adapter::detail {

using fhir::code_system::kDataOperation;
using fhir::code_system::kGoalPriority;
using fhir::code_system::kLoinc;
using fhir::code_system::kNucc;
using fhir::code_system::kProvenanceParticipant;
using fhir::code_system::kSnomed;
using fhir::code_system::kUcum;
using fhir::code_system::kUsCoreCarePlanCategory;

struct Code {
  std::string_view system;
  std::string_view code;
  std::string_view display;
};

// A CareTeam role: one or more coded roles (each its own CodeableConcept),
// and the text used when a single concept is needed.
struct Role {
  std::string_view text;
  Code primary;    // SNOMED CT occupation; empty code when none is verified
  Code secondary;  // NUCC equivalent, empty when none is verified
};

// The roles of a discipline (section 13). Spine surgery is either an
// orthopaedic surgeon or a neurosurgeon; interventional radiologist has no
// verified code (section 15 item 8) and is text only.
inline std::vector<Role> roles_of(Discipline d) {
  switch (d) {
    case Discipline::kSpineSurgery:
      return {{"Orthopaedic spine surgeon",
               {kSnomed, "22731001", "Orthopedic surgeon (occupation)"},
               {kNucc, "207X00000X", "Orthopaedic Surgery"}},
              {"Neurosurgeon",
               {kSnomed, "45544007", "Neurosurgeon (occupation)"},
               {kNucc, "207T00000X", "Neurological Surgery"}}};
    case Discipline::kRadiationOncology:
      return {{"Radiation oncologist",
               {kSnomed, "763292005", "Radiation oncologist (occupation)"},
               {}}};
    case Discipline::kMedicalOncology:
      return {
          {"Medical oncologist", {kSnomed, "310512001", "Medical oncologist (occupation)"}, {}}};
    case Discipline::kDiagnosticRadiology:
      return {{"Diagnostic radiologist", {kSnomed, "66862007", "Radiologist (occupation)"}, {}}};
    case Discipline::kInterventionalRadiology:
      return {{"Interventional radiologist", {}, {}}};
    case Discipline::kRehabilitation:
      return {{"Rehabilitation physician (physiatrist)",
               {kSnomed, "309360001", "Rehabilitation physician (occupation)"},
               {kNucc, "208100000X", "Physical Medicine & Rehabilitation"}}};
    case Discipline::kHaematology:
      // FHIR performer-role value set (SNOMED CT occupations).
      return {{"Haematologist", {kSnomed, "40204001", "Haematologist (occupation)"}, {}}};
  }
  return {};
}

}  // namespace mst::adapter::detail
