#include <algorithm>

#include "extract_internal.h"
#include "mst/mappings/text.h"

namespace mst::mappings::detail {

void note_site_map(const Context& ctx, const std::string& ref,
                   const std::optional<SiteMapped>& via) {
  if (!via || use_of(via->translation.equivalence) != TranslationUse::kConfirm) return;
  const Translation& t = via->translation;
  std::string detail = ref + ": local code " + via->source_system + "|" + via->source_code +
                       " read as " + t.system + "|" + t.code + " by site map " + t.map +
                       " (equivalence " + std::string(to_string(t.equivalence));
  if (!t.comment.empty()) detail += ": " + t.comment;
  detail += "); confirm";
  detail = one_line(std::move(detail));
  const bool seen = std::any_of(ctx.out.data_gaps.begin(), ctx.out.data_gaps.end(),
                                [&](const DataGap& g) { return g.detail == detail; });
  if (!seen) ctx.gap("site code translation", std::move(detail));
}

}  // namespace mst::mappings::detail
