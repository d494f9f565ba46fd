// The CarePlan builder: a pure function from the considerations and the goal
// plan to ONE FHIR R4 transaction Bundle (Device, Goals, CareTeam,
// ServiceRequests, CarePlan, Provenance), as DESIGN.md's output contract
// says. Same inputs and options give byte-identical output. Entry rules and
// identifiers are documented in docs/careplan-output.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mst/adapter/goals/goal_plan.h"
#include "mst/fhir/datetime.h"
#include "mst/fhir/error_kind.h"
#include "mst/fhir/json_value.h"
#include "mst/mappings/canonical_base.h"
#include "mst/mappings/considerations.h"

#ifndef MST_VERSION
#define MST_VERSION "0.0.0"
#endif

namespace mst::adapter {

// The draft CarePlan already on the server, when the write-back found one.
struct ExistingDraft {
  std::string id;          // CarePlan.id on the server
  std::string version_id;  // meta.versionId, for If-Match; may be empty
};

struct BuildOptions {
  // Base of the adapter's own CodeSystems, NamingSystems and extensions.
  std::string canonical_base{mappings::kDefaultCanonicalBase};
  std::string device_name = "MST Care-Plan Adapter";
  std::string device_identifier = "mst-careplan-adapter";
  std::string device_version = MST_VERSION;
  // The as-of day; absent = Considerations::as_of.
  std::optional<fhir::DateTime> as_of;
  std::optional<ExistingDraft> existing;
  // Base URL of the server the record was read from, when the plan is
  // written to another one: references to the record (subject, evidence,
  // Provenance entities) become absolute URLs on it, and the identifiers are
  // named from the patient's absolute URL, so that patients of two sources
  // never share one. Empty: the same server, relative references.
  std::string source_base;
};

// A plan that cannot be built (not applicable, or options unusable).
class BuildError : public ::mst::Error {
 public:
  using ::mst::Error::Error;
  ErrorKind error_kind() const override { return ErrorKind::kInternal; }
};

// The transaction Bundle. Throws BuildError when !plan.applicable or an
// option is empty or malformed (e.g. a canonical base that is not http(s)).
fhir::JsonValue build_transaction(const mappings::Considerations& c, const GoalPlan& plan,
                                  const BuildOptions& options = {});

// The adapter-owned business identifier of a patient's CarePlan
// (`patient_ref` is "Patient/<id>"; options.source_base applies).
struct PlanIdentifier {
  std::string system;  // <canonical>/NamingSystem/mst-careplan
  std::string value;   // name-based UUID of the patient reference
};
PlanIdentifier careplan_identifier(const std::string& patient_ref, const BuildOptions& options);

// A kind of resource a build writes beside the CarePlan, and the system of
// the business identifier it gives them (<canonical>/NamingSystem/mst-goal, ...).
struct PlanMemberKind {
  std::string type;  // Goal | ServiceRequest | CareTeam
  std::string identifier_system;
};
std::vector<PlanMemberKind> plan_member_kinds(const BuildOptions& options);

// A transaction Bundle holding only the Provenance of a withdrawal (by the
// Device `device_ref`, "Device/<id>", on `as_of_day`, for `cause`), with no
// targets yet: the write-back adds the withdrawn resources before it and
// names them in its targets.
fhir::JsonValue build_withdrawal(const std::string& device_ref, const std::string& as_of_day,
                                 const std::string& cause);

// The system of the Device identifier (one value per adapter version): every
// Device carrying it is the adapter, whichever version wrote a plan.
std::string device_identifier_system(const BuildOptions& options);

}  // namespace mst::adapter
