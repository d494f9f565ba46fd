#include "mst/adapter/cli/exit_codes.h"

#include "mst/adapter/cli/args.h"
#include "mst/adapter/config.h"
#include "mst/adapter/goals/rule_thresholds.h"
#include "mst/adapter/sync/bulk_manifest.h"
#include "mst/adapter/sync/population.h"
#include "mst/fhir/client_errors.h"
#include "mst/mappings/code_tables.h"

namespace mst::adapter::cli {

ExitCode exit_code_for(const std::exception& e) { return classify(e).exit_code; }

}  // namespace mst::adapter::cli
