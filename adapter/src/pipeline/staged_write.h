// Sends a Bundle built as one transaction (careplan_builder.h, after the
// write-back's reconcile) to a server without transactions: as batches, or
// as one conditional request at a time. Dependencies go first and the
// CarePlan last, so a failure part-way never leaves a plan naming members
// that do not exist; the conditional creates on the adapter's identifiers
// make a re-run after such a failure find what was written instead of
// duplicating it. docs/careplan-output.md, "Write modes".
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "mst/adapter/pipeline/write_mode.h"
#include "mst/fhir/client.h"
#include "mst/fhir/json_value.h"

namespace mst::adapter {

// The entries of `bundle` (indexes into Bundle.entry) in the order they are
// sent, grouped into the requests that carry them: for kIndividual one
// entry per group, for kBatch every entry whose references are written by
// earlier groups; other entries before the CarePlan, the CarePlan before the
// Provenance. Pure. Throws std::invalid_argument on references that cannot
// be ordered (a cycle) and for the other modes.
std::vector<std::vector<std::size_t>> write_stages(const fhir::JsonValue& bundle, WriteMode mode);

// Sends `bundle` (a transaction Bundle) in the stages above and returns,
// per entry sent in bundle order, where the server put it
// ("Type/id/_history/version"; the version may be missing). A failed batch
// entry (a batch answers 200 whatever its entries did) throws like the
// failed request would: VersionConflict for an If-Match update that lost,
// HttpStatusError otherwise. Client errors propagate; what was written
// before stays written, and the next run finds it. `progress`, when given,
// is sized to Bundle.entry and holds where each entry went as soon as it
// is written ("" until then), so a caller still knows after a failure.
std::vector<std::string> send_staged(fhir::Client& client, const fhir::JsonValue& bundle,
                                     WriteMode mode, std::vector<std::string>* progress = nullptr);

}  // namespace mst::adapter
