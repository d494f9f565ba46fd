// Internal: the write-side searches (by the adapter's identifiers) made
// acceptable to a server that requires the patient on every search.
#pragma once

#include <string>
#include <string_view>

#include "mst/fhir/client.h"

namespace mst::adapter::detail {

// `params` unchanged when `caps` accept them for `type` (or declare nothing);
// otherwise with `patient=` or `subject=` `patient_ref` added, the first that
// meets a required combination. Unchanged when neither does: the server then
// refuses the search with its own error. Pure.
fhir::SearchParams patient_scoped(const fhir::Capabilities& caps, std::string_view type,
                                  fhir::SearchParams params, const std::string& patient_ref);

// Whether patient_scoped() adds the patient to an identifier search of `type`:
// such a search no longer sees a copy under another patient (a look-alike).
bool identifier_search_scoped(const fhir::Capabilities& caps, std::string_view type);

}  // namespace mst::adapter::detail
