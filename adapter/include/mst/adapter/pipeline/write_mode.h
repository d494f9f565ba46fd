// How the plan reaches the target server: one transaction (all or
// nothing), batches or individual conditional requests in dependency order
// (servers without transactions), or a DocumentReference note (servers that
// take no CarePlan writes). docs/careplan-output.md, "Write modes".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/client.h"

namespace mst::adapter {

enum class WriteMode { kAuto, kTransaction, kBatch, kIndividual, kDocument };

// "auto", "transaction", "batch", "individual", "document".
std::string_view write_mode_name(WriteMode mode);
std::optional<WriteMode> parse_write_mode(std::string_view name);

// Whether a server can take the plan in `mode`, and what it lacks if not.
struct ModeSupport {
  WriteMode mode;
  std::vector<std::string> missing;  // "create CarePlan", "system batch"; empty: possible
  bool possible() const { return missing.empty(); }
};

// The four concrete modes, in the order `auto` prefers them, judged against
// the write rows of server_interactions() for each mode.
std::vector<ModeSupport> write_mode_support(const fhir::Capabilities& caps);

// The mode `auto` uses: the first possible one; transaction when none is
// (`check` then lists what the server lacks).
WriteMode auto_write_mode(const fhir::Capabilities& caps);

}  // namespace mst::adapter
