// The sync state in an embedded SQLite file for one process: claims are
// plain due() lists and there are no leases; a lock file keeps a second
// process out.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "mst/adapter/sync/state_store.h"

namespace Poco::Data {
class Session;
}

namespace mst::adapter {

class SqliteStateStore final : public StateStore {
 public:
  // Opens or creates the database at `path` (":memory:" for tests) and
  // holds `path`.lock exclusively until destroyed: StateStoreLocked when
  // another process (or store) holds it. Throws StateStoreError naming the
  // path when it cannot open the file.
  explicit SqliteStateStore(const std::string& path);
  ~SqliteStateStore() override;
  SqliteStateStore(const SqliteStateStore&) = delete;
  SqliteStateStore& operator=(const SqliteStateStore&) = delete;

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
