// The sync's durable state: the change checkpoint, the patients still to
// process, and per-patient results. Every method is one transaction, so a
// crash at any point loses no patient. Two backends: SQLite (one process,
// sqlite_state_store.h) and PostgreSQL (many workers with leases,
// postgres_state_store.h); open_state_store() picks one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mst/fhir/error_kind.h"

namespace mst::adapter {

class StateStoreError : public ::mst::Error {
 public:
  using ::mst::Error::Error;
  ErrorKind error_kind() const override { return ErrorKind::kInternal; }
};

// Another process holds the state file.
class StateStoreLocked : public StateStoreError {
 public:
  using StateStoreError::StateStoreError;
  ErrorKind error_kind() const override { return ErrorKind::kConfiguration; }
};

// The state file was written for another server or shard.
class StateStoreMismatch : public StateStoreError {
 public:
  using StateStoreError::StateStoreError;
  ErrorKind error_kind() const override { return ErrorKind::kConfiguration; }
};

// A record_*() for a patient whose lease this worker no longer holds: another
// worker took it over after it expired, and its result stands.
class StateStoreLeaseLost : public StateStoreError {
 public:
  using StateStoreError::StateStoreError;
  ErrorKind error_kind() const override { return ErrorKind::kConflict; }
};

struct PatientState {
  std::string patient_id;
  std::string fingerprint;   // content fingerprint of the last plan written or confirmed
  std::string plan_ref;      // "CarePlan/id" of the adapter's draft, if any
  std::string plan_version;  // its meta.versionId
  std::string last_outcome;  // written | unchanged | skipped | failed | quarantined
  std::string last_error;    // one line, no clinical values
  int failures = 0;          // consecutive failures
  std::int64_t next_retry_ms = 0;
  bool pending = false;
  bool quarantined = false;
  std::int64_t last_checked_ms = 0;  // last successful pull; 0: never
  bool member = true;                // in the sync's population (false: left it)
};

// What re-reading the population changed in the state file.
struct PopulationChange {
  int joined = 0;  // members not in the previous population (or never seen)
  int left = 0;    // previous members no longer listed: no longer processed
};

struct RetrySchedule {
  std::int64_t base_ms = 30'000;    // first retry after 30 s
  std::int64_t max_ms = 3'600'000;  // never wait more than an hour
  int quarantine_after = 5;         // consecutive failures
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // Records the FHIR server base URL and shard ("I/N") on first use and
  // checks them afterwards: StateStoreMismatch when the state was written for
  // another, whose checkpoint would silently skip this one's changes.
  // `move_server` records a new URL for the same server (a proxy, a
  // migration) and keeps the state; a shard never moves.
  virtual void bind_to(const std::string& server, const std::string& shard,
                       bool move_server = false) = 0;

  // The instant up to which every change has been processed, if any.
  virtual std::optional<std::string> checkpoint() = 0;
  // The start of the last scan whose patients were enqueued: every change
  // before it is pending or processed. The checkpoint advances to it once the
  // pending set drains, and the next scan starts from it.
  virtual std::optional<std::string> candidate_checkpoint() = 0;

  // Adds patients to the pending set and records `candidate` as the
  // checkpoint to reach once they are all processed. New data lifts a
  // quarantine: the change may be the fix. A patient leased meanwhile stays
  // pending after its worker records it: that worker may have read old data.
  virtual void enqueue(const std::vector<std::string>& patient_ids,
                       const std::string& candidate) = 0;

  // Replaces the population with `members` and marks pending for a re-pull
  // every member last checked at or before `checked_before_ms` and every
  // one who joins (new, or back after leaving); members no longer listed leave the pending set
  // (their state is kept, should they come back). Unlike enqueue(), a failure count and its backoff
  // are kept: re-listing a member is no new data. A quarantined member is taken back once its retry
  // time has come. The checkpoint candidate is left as it is: it belongs to `_lastUpdated` scans,
  // which resume from it if the sync is switched back to them.
  virtual PopulationChange enqueue_population(const std::vector<std::string>& members,
                                              std::int64_t now_ms,
                                              std::int64_t checked_before_ms) = 0;

  // Now on the state's clock, in microseconds: the instant a sync cycle
  // begins, for scan_unless_covered(). Workers sharing the state compare
  // instants on this one clock, not on their own. 0 with one process.
  virtual std::int64_t cycle_start() = 0;
  // Runs `scan` (a change scan that enqueues what it finds) unless another
  // worker sharing this state completed a scan after `cycle_started`: this
  // cycle began before or during that scan, whose patients are queued (its
  // start is the next scan's), and queued again, patients already done
  // would be processed twice. Scans never overlap: a worker waits for the
  // one in progress, then decides. Returns whether `scan` ran; rethrows what
  // it throws. One process (SQLite): always runs it.
  virtual bool scan_unless_covered(std::int64_t cycle_started,
                                   const std::function<void()>& scan) = 0;

  // Pending, non-quarantined patients whose retry time has come, the least
  // recently checked first (then by id); at most `limit` when it is > 0.
  // Patients leased to a worker are included: this is a count, not a claim.
  virtual std::vector<std::string> due(std::int64_t now_ms, std::size_t limit = 0) = 0;
  // Due patients this worker may process now, at most `limit` when > 0,
  // leased to it until `now_ms` + the lease time: no other worker claims
  // them meanwhile. With one process (SQLite) the same as due().
  virtual std::vector<std::string> claim(std::int64_t now_ms, std::size_t limit = 0) = 0;
  // Gives back this worker's leases on claimed patients it will not process
  // now: they stay pending, claimable by any worker at once rather than when
  // the lease expires. No-op with one process.
  virtual void release(const std::vector<std::string>& patient_ids) = 0;
  // Every pending, non-quarantined patient (due or waiting for a retry).
  virtual std::size_t pending_count() = 0;

  // Marks a patient processed at `checked_ms`: clears pending and failures
  // and the lease. StateStoreLeaseLost, changing nothing, when another
  // worker holds the patient's lease.
  virtual void record_success(const std::string& patient_id, const std::string& outcome,
                              const std::string& fingerprint, const std::string& plan_ref,
                              const std::string& plan_version, std::int64_t checked_ms) = 0;
  // Counts a failure and schedules a retry with exponential backoff; after
  // `quarantine_after` consecutive failures the patient leaves the pending
  // set as quarantined. Returns the resulting state. StateStoreLeaseLost as
  // for record_success().
  virtual PatientState record_failure(const std::string& patient_id, const std::string& error,
                                      std::int64_t now_ms, const RetrySchedule& schedule) = 0;

  // Moves the checkpoint to the candidate when nothing is pending (leased
  // patients are pending until recorded). Returns true when it moved.
  virtual bool try_advance_checkpoint() = 0;

  virtual std::optional<PatientState> patient(const std::string& patient_id) = 0;
  virtual std::vector<PatientState> quarantined() = 0;
};

// Where the state lives and, for PostgreSQL, who this worker is.
struct StateStoreOptions {
  // A file path (SQLite) or a postgresql:// URL (PostgreSQL).
  std::string location;
  // PostgreSQL: the environment variable holding the password, if any; the
  // password is never taken from the URL into logs or errors.
  std::string password_env;
  std::string worker_id;            // PostgreSQL lease owner; empty: host:pid
  std::int64_t lease_ms = 300'000;  // PostgreSQL: how long a claim lasts
};

// True when `location` names a PostgreSQL database rather than a file.
bool is_postgres_location(const std::string& location);

// Opens the backend `options.location` names. Throws as the backend does.
std::unique_ptr<StateStore> open_state_store(const StateStoreOptions& options);

}  // namespace mst::adapter
