// Who owns a resource that carries the adapter's identifier, and what the
// write-back may do with it. The identifier alone proves nothing (anyone can
// copy it), so a resource is the adapter's to change only while its subject
// is the patient, its author is one of the adapter's Devices (or, for Goals
// and CareTeams, which have no author element, the adapter's own plan names
// it), its status is still the proposal status, and every note on it is the
// adapter's. Pure functions: the writer does the I/O.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/json_value.h"
#include "mst/fhir/resource.h"

namespace mst::adapter {

// How the adapter writes and withdraws one kind of resource (FHIR R4
// care-plan-status, goal-status, request-status, care-team-status).
struct MemberKind {
  std::string_view type;
  std::string_view status_element;
  std::string_view proposed;  // the status the adapter writes
  std::string_view retired;   // the status that withdraws the proposal
  std::string_view noun;
  std::string_view label_element;   // a CodeableConcept with text, or a string
  std::string_view author_element;  // a Reference to the adapter's Device; empty: none
};

// CarePlan, Goal, ServiceRequest, CareTeam; nullptr for anything else.
const MemberKind* member_kind(std::string_view type);

// What marks the adapter's own resources on this server.
struct OwnerMarks {
  std::string base_url;    // the server's base, for absolute references
  std::string patient_id;  // the patient the plan is for
  // The source server the patient lives on when it is not this one: the
  // subject is then <subject_base>/Patient/<patient_id>, nothing else.
  std::string subject_base;
  std::set<std::string> device_refs;   // "Device/<id>" of every adapter Device found
  std::string note_author;             // Annotation.authorString of the adapter's notes
  std::set<std::string> plan_members;  // "Type/id" the adapter's own CarePlan names
};

enum class Standing {
  kOurs,          // the adapter's untouched proposal: may be updated by id
  kChanged,       // the adapter's, but a person has moved or annotated it
  kNotOurs,       // the patient's, but not written by the adapter
  kOtherPatient,  // carries the adapter's identifier for another subject
};

struct Verdict {
  Standing standing = Standing::kOurs;
  std::string why;  // for kChanged, kNotOurs, kOtherPatient: a sentence part
};

// The subject reference the adapter writes for the patient of `marks`.
std::string subject_reference(const OwnerMarks& marks);

// Judges one resource found by the adapter's identifier.
Verdict judge(fhir::Node resource, const MemberKind& kind, const OwnerMarks& marks);

// "Type/id" when `reference` points at a resource on the server `base_url`
// (relative, or absolute under that base); empty otherwise.
std::string local_reference(std::string_view reference, const std::string& base_url);

// The Goals, CareTeams and ServiceRequests a CarePlan names, as "Type/id".
std::set<std::string> named_members(fhir::Node care_plan, const std::string& base_url);

// A resource found on the server and its verdict.
struct FoundMember {
  std::string ref;               // "Type/id"
  std::string version;           // meta.versionId; may be empty
  std::string identifier_value;  // its value in the adapter's system of its kind
  fhir::Node resource;
  Verdict verdict;
};

// Whether `found`, a Goal or CareTeam no plan of the adapter's names (so
// judged kNotOurs), is exactly the proposal `built` this run would write:
// subject the patient, still proposed, only the adapter's notes, and the
// same content but for id and meta. That is what a write without a
// transaction leaves when it stops before its CarePlan; anything else
// under the identifier is someone's.
bool interrupted_proposal(const FoundMember& found, const fhir::JsonValue& built,
                          const OwnerMarks& marks);

// What reconcile() did to the bundle.
struct Reconciled {
  std::size_t updated = 0;        // entries turned into updates by id
  std::vector<std::string> left;  // "Goal/7 (status is 'accepted')": linked, not written
};

// Rewrites the built transaction against what the server holds: an entry
// whose identifier matches one of the adapter's untouched resources becomes
// a PUT of that id with If-Match on the version read; one matching a
// changed or foreign resource of the patient is dropped, and every reference
// to it (the plan's, the Provenance's targets aside) points at the resource
// found instead. Entries nothing matches stay conditional creates. `found`
// must hold no kOtherPatient verdicts and at most one resource per
// identifier (the writer refuses those cases).
Reconciled reconcile(fhir::JsonValue& bundle, const std::vector<FoundMember>& found,
                     const std::string& base_url);

}  // namespace mst::adapter
