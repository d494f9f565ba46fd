// Which deployment shape (docs/operations.md, "Deployment shapes") the
// servers' CapabilityStatements allow, for `check`. Pure: no I/O.
#pragma once

#include <string>

#include "mst/fhir/client.h"

namespace mst::adapter::cli {

enum class Shape {
  kOneServer,        // reads and CarePlan writes on one server
  kRepositoryWrite,  // EHR read, plans written to a FHIR repository (target.base_url)
  kNoteWrite,        // EHR read, the plan as a DocumentReference note (write.mode=document)
  kReadOnly,         // no write path: only a CDS Hooks service is left (issue #14)
};

struct ShapeAdvice {
  Shape shape = Shape::kReadOnly;
  bool change_feed = false;        // sync can find changes by _lastUpdated
  bool population_search = false;  // sync.population=search works
};

// `source` is where the records are read, `target` where plans are written
// (the same statement with one server); `separate_target` when target.base_url
// is set. The first shape the target allows, in the order of Shape.
ShapeAdvice deployment_shape(const fhir::Capabilities& source, const fhir::Capabilities& target,
                             bool separate_target);

// The `shape:` line's text, e.g. "EHR read + note write (set write.mode=document)".
std::string shape_text(Shape shape);

// The `sync:` line's text: change feed or re-pull, and the population.
std::string sync_text(const ShapeAdvice& advice);

}  // namespace mst::adapter::cli
