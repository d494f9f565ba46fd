// A stable fingerprint of a plan's content, so the write-back can tell an
// unchanged plan from a changed one without comparing whole resources.
// Stored in the CarePlan as an extension (not meta.tag: HAPI keeps old tags
// across updates, so a tag could not be replaced). docs/careplan-output.md.
#pragma once

#include <optional>
#include <string>

#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"

namespace mst::adapter {

// URL of the fingerprint extension on CarePlan:
// <canonical>/StructureDefinition/mst-content-fingerprint (a trailing '/' on
// the base is ignored, as build_transaction ignores it).
std::string fingerprint_extension_url(const std::string& canonical_base);

// "sha256:<64 hex>" over the entries of a transaction built by
// build_transaction, leaving out what changes without the plan changing:
// the Device and Provenance entries, entry.request, and in every resource
// id, meta, the fingerprint extension, CarePlan.created,
// ServiceRequest.authoredOn and the narrative's closing "Prepared on" line.
// Each fullUrl and resource is hashed in a length-prefixed encoding of its
// JSON tree (not its JSON text), so any change of content changes it.
std::string content_fingerprint(const fhir::JsonValue& transaction);

// The fingerprint build_transaction stored on the transaction's CarePlan
// ("" when there is none): reading it is free, computing it again is not.
std::string built_fingerprint(const fhir::JsonValue& transaction);

// The fingerprint stored on a CarePlan read back from a server, if any.
std::optional<std::string> read_fingerprint(fhir::Node careplan, const std::string& canonical_base);

}  // namespace mst::adapter
