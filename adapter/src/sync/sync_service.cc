#include "mst/adapter/sync/sync_service.h"

#include <algorithm>
#include <string>
#include <utility>

#include "mst/fhir/error_kind.h"
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
  } catch (const std::exception& e) {
    // The server, the population, the export: a later cycle sees them
    // again, maybe mended. An internal error (a bug, a broken state file)
    // ends the service.
    const Classification c = classify(e);
    if (c.kind == ErrorKind::kInternal) throw;
    scan_failed(e, c);
    if (options_.once) throw;
  }
  return std::nullopt;
}

void SyncService::scan_failed(const std::exception& e, const Classification& c) {
  // /readyz answers anyone who can reach the port: the reason is filtered.
  const std::string reason = fhir::safe_text(e.what());
  {
    std::lock_guard lock(mu_);
    readiness_ = {false, reason};
  }
  log_.error("sync.scan_failed", {{"kind", error_kind_name(c.kind)},
                                  {"retryable", c.retryable ? "true" : "false"},
                                  {"error", reason}});
}

void SyncService::wait_interval() {
  using std::chrono::milliseconds;
  const milliseconds step = std::max(options_.sleep_step, milliseconds(1));
  for (milliseconds slept{0}; slept < options_.interval && !stop_; slept += step) {
    clock_->sleep_for(std::min(step, options_.interval - slept));
  }
}

}  // namespace mst::adapter
