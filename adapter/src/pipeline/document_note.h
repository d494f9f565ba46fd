// The plan as a DocumentReference clinical note, for targets that take no
// CarePlan writes (write.mode=document): LOINC 18776-5 "Plan of care note",
// docStatus preliminary, the CarePlan's narrative as XHTML and as plain
// text, each opening with the proposal status. Pure functions: the writer
// does the I/O. docs/careplan-output.md, "The note".
#pragma once

#include <string>
#include <string_view>

#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"
#include "plan_members.h"

namespace mst::adapter {

struct NoteIdentity {
  std::string patient_id;
  std::string identifier_system;  // the plan's identifier: a re-run finds the note by it
  std::string identifier_value;
  std::string author;  // the adapter's name, as Annotation authors and the note's author display
};

// The note for the CarePlan in `transaction` (as careplan_builder.h builds
// it), carrying `fingerprint` in the extension at `fingerprint_url` so a
// re-run with the same content writes nothing; `id` set when it revises the
// note found. Throws std::invalid_argument when the bundle holds no CarePlan.
fhir::JsonValue build_note(const fhir::JsonValue& transaction, const NoteIdentity& who,
                           const std::string& fingerprint, const std::string& fingerprint_url,
                           const std::string& id = "");

// The plain text of an XHTML fragment: block ends become line breaks,
// entities are decoded, tags dropped.
std::string xhtml_to_text(std::string_view xhtml);

// Judges a note found under the plan's identifier: the adapter's to revise
// only while its subject is the patient, its author is the adapter, its
// status is current, its docStatus preliminary; a note a clinician amended
// or finalised is kChanged and left alone.
Verdict judge_note(fhir::Node note, const NoteIdentity& who, const std::string& base_url);

}  // namespace mst::adapter
