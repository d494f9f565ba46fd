// The scheduled sync: finds patients whose relevant data changed since the
// checkpoint, processes them with bounded concurrency, and moves the
// checkpoint only past changes whose patients were all processed. A feed
// that lists a whole population instead has its members re-pulled, least
// recently checked first, within a per-cycle budget.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mst/adapter/logger.h"
#include "mst/adapter/ops/metrics.h"
#include "mst/adapter/pipeline/patient_outcome.h"
#include "mst/adapter/sync/state_store.h"
#include "mst/fhir/clock.h"

namespace mst::adapter {

struct ChangeScan {
  std::vector<std::string> patient_ids;  // may repeat; order irrelevant
  std::string scan_time;                 // server time the scan began: the next checkpoint
  // patient_ids is the whole population, each member due for a re-pull:
  // patients no longer listed leave it (StateStore::enqueue_population), and
  // scan_time is not a checkpoint.
  bool population = false;
  // With a change scan (population false): who the population is now, when
  // the feed knows it. Joiners are pulled, leavers no longer processed
  // (as for a population scan); only members' changes are taken.
  std::optional<std::vector<std::string>> members = std::nullopt;
};

// Finds patients with relevant changes. I/O lives behind this interface.
class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  // Patients whose relevant resources changed after `since`; with no
  // checkpoint, every patient with a spinal-metastasis Condition.
  virtual ChangeScan changed_since(const std::optional<std::string>& since) = 0;
};

using PatientProcessor = std::function<PatientOutcome(const std::string& patient_id)>;

struct SyncOptions {
  int concurrency = 4;
  int shard_index = 0;
  int shard_count = 1;
  RetrySchedule retry;
  bool progress = false;  // redraw a progress line on stderr (a terminal)
  // Patients pulled per cycle, least recently checked first; 0: all due.
  std::size_t budget = 0;
  // Population scans: a member is due again this long after its last check.
  std::int64_t repull_interval_ms = 0;
  // Patients claimed (leased) at a time; 0: every due patient at once.
  std::size_t claim_batch = 0;
};

struct SyncReport {
  int discovered = 0;  // patients the scan found in this shard
  int processed = 0;
  int written = 0;
  int unchanged = 0;
  int skipped = 0;
  int failed = 0;
  int quarantined = 0;  // newly quarantined in this cycle
  int waiting = 0;      // pending patients whose retry time has not come
  int pending = 0;      // left for later cycles (budget, retries), after this one
  int joined = 0;       // population scans: members new since the last cycle
  int left = 0;         // population scans: members no longer listed
  int lease_lost = 0;   // results dropped: another worker took the patient over
  bool checkpoint_advanced = false;
  bool interrupted = false;  // stop was requested before the work ran out
};

// Stable across platforms and releases (FNV-1a), unlike std::hash.
int shard_of(const std::string& patient_id, int shard_count);

class SyncEngine {
 public:
  SyncEngine(StateStore& state, ChangeFeed& feed, PatientProcessor process, SyncOptions options,
             Logger& log, Metrics& metrics, std::shared_ptr<fhir::Clock> clock);

  // One cycle: scan, enqueue, process every due patient, advance the
  // checkpoint if possible. Returns early (interrupted) once `stop` is set,
  // after in-flight patients finish. A failing scan throws; nothing is lost.
  SyncReport run_once(const std::atomic<bool>& stop);

 private:
  // Scans the feed from the last scan's start and enqueues what it finds.
  void scan_and_enqueue(SyncReport& report);
  // The ids among `ids` this shard owns.
  std::set<std::string> this_shard(const std::vector<std::string>& ids) const;
  // Makes `members` the state's population (joiners enqueued, leavers
  // withdrawn; members last pulled before `repull_before_ms` due again) and
  // reports the change.
  void update_population(const std::set<std::string>& members, std::int64_t repull_before_ms,
                         SyncReport& report);
  // Claims due patients batch by batch and processes them.
  void process_due(const std::atomic<bool>& stop, SyncReport& report);
  void process_batch(const std::vector<std::string>& due, const std::atomic<bool>& stop,
                     std::chrono::steady_clock::time_point started, SyncReport& report);
  void record(const PatientOutcome& outcome, SyncReport& report);
  void lease_lost(const std::string& patient_id, SyncReport& report);

  StateStore& state_;
  ChangeFeed& feed_;
  PatientProcessor process_;
  SyncOptions options_;
  Logger& log_;
  Metrics& metrics_;
  std::shared_ptr<fhir::Clock> clock_;
};

}  // namespace mst::adapter
