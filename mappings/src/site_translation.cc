#include "site_translation.h"

#include <algorithm>

namespace mst::mappings::detail {

std::vector<SiteMapped> translations_of(const ConceptMapSet& maps,
                                        const fhir::CodeableConcept& cc) {
  std::vector<SiteMapped> out;
  for (const auto& c : cc.codings) {
    for (auto& t : maps.translate(c.system, c.code)) {
      out.push_back({std::string(c.system), std::string(c.code), std::move(t)});
    }
  }
  // A site's exact mapping of any coding beats an approximate one of an
  // earlier coding; stable, so coding order breaks ties.
  std::stable_sort(out.begin(), out.end(), [](const SiteMapped& a, const SiteMapped& b) {
    return use_of(a.translation.equivalence) == TranslationUse::kExact &&
           use_of(b.translation.equivalence) != TranslationUse::kExact;
  });
  return out;
}

std::optional<std::size_t> match_with_maps(const CodeIndex& index, const ConceptMapSet* maps,
                                           const fhir::CodeableConcept& cc,
                                           std::optional<SiteMapped>* via) {
  if (via) via->reset();
  if (!maps || maps->empty() || cc.codings.empty()) return index.match(cc);
  const fhir::CodeableConcept codes_only{cc.codings, std::nullopt};
  if (auto m = index.match(codes_only)) return m;
  for (auto& sm : translations_of(*maps, cc)) {
    const fhir::CodeableConcept translated{
        {fhir::Coding{sm.translation.system, sm.translation.code, sm.translation.display}},
        std::nullopt};
    if (auto m = index.match(translated)) {
      if (via) *via = std::move(sm);
      return m;
    }
  }
  // The text last, through the index's own rules (the codings miss again).
  return index.match(cc);
}

}  // namespace mst::mappings::detail
