#include "cli/exit_codes.h"

namespace mst::adapter::cli {

ExitCode exit_code_for(const std::exception& e) { return classify(e).exit_code; }

}  // namespace mst::adapter::cli
