// The sync loop as a service: runs a sync cycle, sleeps the interval, and
// again, until told to stop; keeps the readiness /readyz reports. The stop
// signal and the clock are injected, so `sync` and a long-running `serve`
// share it and tests drive it without real time or signals.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "mst/adapter/logger.h"
#include "mst/adapter/ops/ops_server.h"
#include "mst/adapter/sync/sync_engine.h"
#include "mst/fhir/clock.h"
#include "mst/fhir/error_kind.h"

namespace mst::adapter {

struct SyncServiceOptions {
  bool once = false;  // one cycle, and a failed scan is thrown rather than retried
  std::chrono::milliseconds interval = std::chrono::seconds(300);
  // The wait between cycles is slept in steps this long, so a stop ends it promptly.
  std::chrono::milliseconds sleep_step = std::chrono::milliseconds(100);
};

// One sync cycle (SyncEngine::run_once); it reads `stop` between patients.
using SyncCycle = std::function<SyncReport(const std::atomic<bool>& stop)>;

class SyncService {
 public:
  SyncService(SyncCycle cycle, const std::atomic<bool>& stop, std::shared_ptr<fhir::Clock> clock,
              Logger& log, SyncServiceOptions options);

  // Runs cycles until `once` or the stop signal. Returns the number of
  // patients that failed in the last completed cycle. A cycle that fails
  // (a server error, a population that cannot be read whole, a failed
  // export) skips the cycle with nothing changed, is logged with its kind
  // and makes the service not ready; with `once` it is rethrown. An error
  // classify() calls internal (a bug, a broken state file) ends it.
  int run();

  // What /readyz answers; safe to call from another thread.
  Readiness readiness() const;

 private:
  // Runs one cycle: its failed count, or nullopt when its scan failed.
  std::optional<int> run_cycle();
  void scan_failed(const std::exception& e, const Classification& c);
  void wait_interval();

  SyncCycle cycle_;
  const std::atomic<bool>& stop_;
  std::shared_ptr<fhir::Clock> clock_;
  Logger& log_;
  SyncServiceOptions options_;
  mutable std::mutex mu_;
  Readiness readiness_{true, ""};
};

}  // namespace mst::adapter
