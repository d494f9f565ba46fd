#include "mst/adapter/sync/sync_service.h"

#include <algorithm>
#include <string>
#include <utility>

#include "mst/adapter/sync/bulk_manifest.h"
#include "mst/adapter/sync/population.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/safe_text.h"

namespace mst::adapter {

SyncService::SyncService(SyncCycle cycle, const std::atomic<bool>& stop,
                         std::shared_ptr<fhir::Clock> clock, Logger& log,
                         SyncServiceOptions options)
    : cycle_(std::move(cycle)),
      stop_(stop),
      clock_(std::move(clock)),
      log_(log),
      options_(options) {}

int SyncService::run() {
  int failed = 0;
  for (;;) {
    if (const auto f = run_cycle()) failed = *f;
    if (options_.once || stop_) break;
    wait_interval();
    if (stop_) break;
  }
  if (stop_) log_.info("sync.stopped", {{"reason", "signal"}});
  return failed;
}

Readiness SyncService::readiness() const {
  std::lock_guard lock(mu_);
  return readiness_;
}

std::optional<int> SyncService::run_cycle() {
  try {
    const int failed = cycle_(stop_).failed;
    std::lock_guard lock(mu_);
    readiness_ = {true, ""};
    return failed;
  } catch (const fhir::ClientError& e) {
    scan_failed(e);
    if (options_.once) throw;
  } catch (const PopulationError& e) {
    scan_failed(e);
    if (options_.once) throw;
  } catch (const BulkExportError& e) {
    scan_failed(e);
    if (options_.once) throw;
  }
  return std::nullopt;
}

void SyncService::scan_failed(const std::exception& e) {
  // /readyz answers anyone who can reach the port: the reason is filtered.
  const std::string reason = fhir::safe_text(e.what());
  {
    std::lock_guard lock(mu_);
    readiness_ = {false, reason};
  }
  log_.error("sync.scan_failed", {{"error", reason}});
}

void SyncService::wait_interval() {
  using std::chrono::milliseconds;
  const milliseconds step = std::max(options_.sleep_step, milliseconds(1));
  for (milliseconds slept{0}; slept < options_.interval && !stop_; slept += step) {
    clock_->sleep_for(std::min(step, options_.interval - slept));
  }
}

}  // namespace mst::adapter
