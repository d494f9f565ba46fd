// Internal: a CodeIndex lookup that also tries the site ConceptMaps, in the
// order of the terminology layer: the codings as sent (with the index's own
// hierarchy), then their translations, then the text.
#pragma once

#include <cstddef>
#include <optional>

#include "code_index.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/concept_map.h"

namespace mst::mappings::detail {

// `maps` may be null (no site maps). `via` (optional) is set when the entry
// was reached through a translation, and reset otherwise.
std::optional<std::size_t> match_with_maps(const CodeIndex& index, const ConceptMapSet* maps,
                                           const fhir::CodeableConcept& cc,
                                           std::optional<SiteMapped>* via);

// The usable translations of every coding of `cc`, exact ones first, then
// in coding order; each with the coding it came from.
std::vector<SiteMapped> translations_of(const ConceptMapSet& maps, const fhir::CodeableConcept& cc);

}  // namespace mst::mappings::detail
