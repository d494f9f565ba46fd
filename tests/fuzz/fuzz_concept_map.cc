// Fuzz target: JSON -> ConceptMapSet -> translations and every table lookup
// through them. A map is either refused with one ConceptMapError line, or
// loaded; after that nothing may throw.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/concept_map.h"

namespace {

using namespace mst;

mappings::CodeTables& tables() {
  static mappings::CodeTables t =
      mappings::CodeTables::load({std::filesystem::path(MST_SOURCE_DIR) / "mappings" / "tables"});
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  mappings::ConceptMapSet set;
  try {
    set.add_json(text, "fuzz.json");
  } catch (const mappings::ConceptMapError& e) {
    const std::string what = e.what();
    MST_FUZZ_CHECK(what.rfind("fuzz.json", 0) == 0 && what.find('\n') == std::string::npos);
    return 0;
  }
  const auto all = set.all();
  for (const auto& [source, t] : all) {
    MST_FUZZ_CHECK(!t.system.empty() && !t.code.empty());
    MST_FUZZ_CHECK(mappings::use_of(t.equivalence) != mappings::TranslationUse::kExcluded);
  }
  mappings::CodeTables& t = tables();
  t.use_concept_maps(std::move(set));
  for (const auto& [source, translation] : all) {
    const auto bar = source.find('|');
    MST_FUZZ_CHECK(bar != std::string::npos);
    fhir::CodeableConcept cc;
    cc.codings.push_back(
        {std::string_view(source).substr(0, bar), std::string_view(source).substr(bar + 1), {}});
    std::optional<mappings::SiteMapped> via;
    (void)t.cancer(cc, &via);
    (void)t.metastasis(cc, &via);
    (void)t.finding(cc, &via);
    (void)t.comorbidity(cc, &via);
    (void)t.care_plan(cc, &via);
    (void)t.procedure(cc, &via);
    (void)t.cancer_medication(cc);
    if (const auto* e = t.observation(cc, &via)) (void)t.answer(*e, cc);
    (void)t.spine_site(cc);
  }
  (void)t.observation_search_codes();
  (void)t.population_search_codes();
  t.use_concept_maps(mappings::ConceptMapSet());
  return 0;
}
