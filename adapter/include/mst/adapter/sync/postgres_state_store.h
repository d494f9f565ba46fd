// The sync state in a PostgreSQL database shared by any number of workers:
// each claims due patients with a lease (SELECT ... FOR UPDATE SKIP LOCKED),
// records results only while it holds the lease, and finishes the patients
// of a worker whose lease expired. Schema migrations are versioned in a
// schema_version table, each applied once, in one transaction.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "mst/adapter/sync/state_store.h"

namespace mst::adapter {

class PostgresStateStore final : public StateStore {
 public:
  // Connects to `options.location` (a postgresql:// URL) and migrates the
  // schema. StateStoreError, without the password, when it cannot.
  explicit PostgresStateStore(const StateStoreOptions& options);
  ~PostgresStateStore() override;
  PostgresStateStore(const PostgresStateStore&) = delete;
  PostgresStateStore& operator=(const PostgresStateStore&) = delete;

  const std::string& worker_id() const { return worker_id_; }

  void bind_to(const std::string& server, const std::string& shard,
               bool move_server = false) override;
  std::optional<std::string> checkpoint() override;
  std::optional<std::string> candidate_checkpoint() override;
  void enqueue(const std::vector<std::string>& patient_ids, const std::string& candidate) override;
  PopulationChange enqueue_population(const std::vector<std::string>& members, std::int64_t now_ms,
                                      std::int64_t checked_before_ms) override;
  std::vector<std::string> due(std::int64_t now_ms, std::size_t limit = 0) override;
  std::vector<std::string> claim(std::int64_t now_ms, std::size_t limit = 0) override;
  void release(const std::vector<std::string>& patient_ids) override;
  std::int64_t cycle_start() override;
  bool scan_unless_covered(std::int64_t cycle_started, const std::function<void()>& scan) override;
  std::size_t pending_count() override;
  void record_success(const std::string& patient_id, const std::string& outcome,
                      const std::string& fingerprint, const std::string& plan_ref,
                      const std::string& plan_version, std::int64_t checked_ms) override;
  PatientState record_failure(const std::string& patient_id, const std::string& error,
                              std::int64_t now_ms, const RetrySchedule& schedule) override;
  bool try_advance_checkpoint() override;
  std::optional<PatientState> patient(const std::string& patient_id) override;
  std::vector<PatientState> quarantined() override;

  // The schema version this adapter migrates a database to.
  static int schema_version();

  class Connection;  // libpq, behind postgres_state_store.cc

 private:
  std::optional<std::string> meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);
  std::optional<PatientState> read_patient(const std::string& patient_id);
  void unlock_scans();

  std::string where_;  // the URL without its password, for messages
  std::string worker_id_;
  std::int64_t lease_ms_;
  std::mutex mu_;  // one libpq connection; the engine's threads share it
  std::unique_ptr<Connection> db_;
};

// `url` with any password replaced by "***": for logs and errors.
std::string redact_postgres_url(const std::string& url);

}  // namespace mst::adapter
