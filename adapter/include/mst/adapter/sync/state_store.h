// The sync's durable state in an embedded SQLite database: the change
// checkpoint, the patients still to process, and per-patient results. Every
// method is one SQLite transaction, so a crash at any point loses no patient.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mst/fhir/error_kind.h"

namespace Poco::Data {
class Session;
}

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
  // Opens or creates the database at `path` (":memory:" for tests) and
  // holds `path`.lock exclusively until destroyed: StateStoreLocked when
  // another process (or store) holds it. Throws StateStoreError naming the
  // path when it cannot open the file.
  explicit StateStore(const std::string& path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Records the FHIR server base URL and shard ("I/N") on first use and
  // checks them afterwards: StateStoreMismatch when the file was written for
  // another, whose checkpoint would silently skip this one's changes.
  // `move_server` records a new URL for the same server (a proxy, a
  // migration) and keeps the state; a shard never moves.
  void bind_to(const std::string& server, const std::string& shard, bool move_server = false);

  // The instant up to which every change has been processed, if any.
  std::optional<std::string> checkpoint();
  // The start of the last scan whose patients were enqueued: every change
  // before it is pending or processed. The checkpoint advances to it once the
  // pending set drains, and the next scan starts from it.
  std::optional<std::string> candidate_checkpoint();

  // Adds patients to the pending set and records `candidate` as the
  // checkpoint to reach once they are all processed. New data lifts a
  // quarantine: the change may be the fix.
  void enqueue(const std::vector<std::string>& patient_ids, const std::string& candidate);

  // Replaces the population with `members` and marks pending for a re-pull
  // every member last checked at or before `checked_before_ms` and every
  // one who joins (new, or back after leaving); members no longer listed leave the pending set
  // (their state is kept, should they come back). Unlike enqueue(), a failure count and its backoff
  // are kept: re-listing a member is no new data. A quarantined member is taken back once its retry
  // time has come. The checkpoint candidate is left as it is: it belongs to `_lastUpdated` scans,
  // which resume from it if the sync is switched back to them.
  PopulationChange enqueue_population(const std::vector<std::string>& members, std::int64_t now_ms,
                                      std::int64_t checked_before_ms);

  // Pending, non-quarantined patients whose retry time has come, the least
  // recently checked first (then by id); at most `limit` when it is > 0.
  std::vector<std::string> due(std::int64_t now_ms, std::size_t limit = 0);
  // Every pending, non-quarantined patient (due or waiting for a retry).
  std::size_t pending_count();

  // Marks a patient processed at `checked_ms`: clears pending and failures.
  void record_success(const std::string& patient_id, const std::string& outcome,
                      const std::string& fingerprint, const std::string& plan_ref,
                      const std::string& plan_version, std::int64_t checked_ms);
  // Counts a failure and schedules a retry with exponential backoff; after
  // `quarantine_after` consecutive failures the patient leaves the pending
  // set as quarantined. Returns the resulting state.
  PatientState record_failure(const std::string& patient_id, const std::string& error,
                              std::int64_t now_ms, const RetrySchedule& schedule);

  // Moves the checkpoint to the candidate when nothing is pending.
  // Returns true when it moved.
  bool try_advance_checkpoint();

  std::optional<PatientState> patient(const std::string& patient_id);
  std::vector<PatientState> quarantined();

 private:
  std::optional<std::string> meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);

  void release_lock();

  std::string path_;
  int lock_fd_ = -1;
  std::mutex mu_;  // Poco::Data sessions are not thread-safe; workers share one.
  std::unique_ptr<Poco::Data::Session> session_;
};

}  // namespace mst::adapter
