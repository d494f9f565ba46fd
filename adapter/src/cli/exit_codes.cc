#include "mst/adapter/cli/exit_codes.h"

#include "mst/adapter/cli/args.h"
#include "mst/adapter/config.h"
#include "mst/adapter/goals/rule_thresholds.h"
#include "mst/adapter/sync/bulk_manifest.h"
#include "mst/adapter/sync/population.h"
#include "mst/fhir/client_errors.h"
#include "mst/mappings/code_tables.h"

namespace mst::adapter::cli {

ExitCode exit_code_for(const std::exception& e) {
  if (dynamic_cast<const UsageError*>(&e) || dynamic_cast<const ConfigError*>(&e) ||
      dynamic_cast<const fhir::InvalidRequest*>(&e) || dynamic_cast<const fhir::ParseError*>(&e) ||
      dynamic_cast<const mappings::CodeTableError*>(&e) ||
      dynamic_cast<const mappings::ConceptMapError*>(&e) ||
      dynamic_cast<const ThresholdsError*>(&e) ||
      dynamic_cast<const PopulationError*>(&e)) {  // the configured population is unusable
    return kUsage;
  }
  if (dynamic_cast<const fhir::ServerUnreachable*>(&e) ||
      dynamic_cast<const fhir::DeadlineExceeded*>(&e)) {
    return kUnreachable;
  }
  if (dynamic_cast<const fhir::AuthError*>(&e)) return kAuthFailed;
  if (dynamic_cast<const fhir::SearchIncomplete*>(&e)) return kPartial;
  // A failed Bulk Data export is the server's answer, like a refused request.
  if (dynamic_cast<const fhir::ClientError*>(&e) || dynamic_cast<const BulkExportError*>(&e))
    return kRejected;
  return kInternal;
}

}  // namespace mst::adapter::cli
