#include "mst/adapter/pipeline/write_mode.h"

#include "mst/adapter/pipeline/server_interactions.h"

namespace mst::adapter {

namespace {

constexpr std::pair<WriteMode, std::string_view> kNames[] = {
    {WriteMode::kAuto, "auto"},         {WriteMode::kTransaction, "transaction"},
    {WriteMode::kBatch, "batch"},       {WriteMode::kIndividual, "individual"},
    {WriteMode::kDocument, "document"},
};

}  // namespace

std::string_view write_mode_name(WriteMode mode) {
  for (const auto& [m, name] : kNames) {
    if (m == mode) return name;
  }
  return "auto";
}

std::optional<WriteMode> parse_write_mode(std::string_view name) {
  for (const auto& [m, n] : kNames) {
    if (n == name) return m;
  }
  return std::nullopt;
}

std::vector<ModeSupport> write_mode_support(const fhir::Capabilities& caps) {
  std::vector<ModeSupport> out;
  for (WriteMode mode :
       {WriteMode::kTransaction, WriteMode::kBatch, WriteMode::kIndividual, WriteMode::kDocument}) {
    ModeSupport s{mode, {}};
    // Only the writes decide the mode: the reads are the same in every mode.
    for (const auto& row : server_interactions(false, mode)) {
      const auto it = caps.resources.find(row.type);
      if ((row.access & fhir::kCreate) && !caps.supports(row.type, "create"))
        s.missing.push_back("create " + row.type);
      if ((row.access & fhir::kUpdate) && !caps.supports(row.type, "update"))
        s.missing.push_back("update " + row.type);
      if (row.conditional_create && (it == caps.resources.end() || !it->second.conditional_create))
        s.missing.push_back("conditional create " + row.type);
    }
    for (const auto& system : system_interactions(mode)) {
      if (!caps.supports_system(system)) s.missing.push_back("system " + system);
    }
    out.push_back(std::move(s));
  }
  return out;
}

WriteMode auto_write_mode(const fhir::Capabilities& caps) {
  for (const auto& s : write_mode_support(caps)) {
    if (s.possible()) return s.mode;
  }
  return WriteMode::kTransaction;
}

}  // namespace mst::adapter
