#include "mst/adapter/sync/postgres_state_store.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <limits>

namespace mst::adapter {

namespace {

using Params = std::vector<std::optional<std::string>>;

// Migration N takes a database at version N-1 to N. Append only: a
// deployed migration never changes.
const std::vector<std::vector<const char*>>& migrations() {
  static const std::vector<std::vector<const char*>> all = {
      // 1: the SQLite schema (version 2 there) plus the lease and the
      // `dirty` mark of a patient enqueued while leased.
      {"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
       "CREATE TABLE patient ("
       " id TEXT PRIMARY KEY,"
       " fingerprint TEXT NOT NULL DEFAULT '',"
       " plan_ref TEXT NOT NULL DEFAULT '',"
       " plan_version TEXT NOT NULL DEFAULT '',"
       " last_outcome TEXT NOT NULL DEFAULT '',"
       " last_error TEXT NOT NULL DEFAULT '',"
       " failures INTEGER NOT NULL DEFAULT 0,"
       " next_retry_ms BIGINT NOT NULL DEFAULT 0,"
       " pending INTEGER NOT NULL DEFAULT 0,"
       " quarantined INTEGER NOT NULL DEFAULT 0,"
       " last_checked_ms BIGINT NOT NULL DEFAULT 0,"
       " member INTEGER NOT NULL DEFAULT 1,"
       " lease_owner TEXT NOT NULL DEFAULT '',"
       " lease_expires_ms BIGINT NOT NULL DEFAULT 0,"
       " dirty INTEGER NOT NULL DEFAULT 0)",
       "CREATE INDEX patient_due ON patient (pending, quarantined, next_retry_ms)"},
  };
  return all;
}

// An arbitrary constant: the advisory lock that lets one worker at a time
// migrate, so workers starting together do not race to create tables.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7426153)";

// The session lock that lets one worker at a time scan (another constant),
// and the state's clock in microseconds.
constexpr const char* kScanLock = "SELECT pg_advisory_lock(7426154)";
constexpr const char* kScanUnlock = "SELECT pg_advisory_unlock(7426154)";
constexpr const char* kNowUs = "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

std::string default_worker_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] ? host : "worker") + ":" + std::to_string(::getpid());
}

}  // namespace

std::string redact_postgres_url(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto at = url.find('@', scheme + 3);
  const auto slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

// One libpq connection: statements with text parameters, results as text.
class PostgresStateStore::Connection {
 public:
  struct ResultFree {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  using Result = std::unique_ptr<PGresult, ResultFree>;

  Connection(const std::string& url, const std::string& password, const std::string& where) {
    const char* keys[] = {"dbname", password.empty() ? nullptr : "password", nullptr};
    const char* values[] = {url.c_str(), password.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      std::string why = conn_ ? PQerrorMessage(conn_) : "out of memory";
      PQfinish(conn_);
      conn_ = nullptr;
      throw StateStoreError("cannot open state store " + where + ": " + one_line(why));
    }
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Result exec(const std::string& sql, const Params& params = {}) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    Result r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0));
    const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      throw StateStoreError(one_line(PQerrorMessage(conn_)));
    }
    return r;
  }

  // Runs `fn` in one transaction; rolls back and rethrows as StateStoreError
  // (or as thrown, for the store's own errors).
  template <typename Fn>
  auto transaction(const char* what, Fn&& fn) {
    try {
      exec("BEGIN");
    } catch (const StateStoreError& e) {
      throw StateStoreError(std::string("state store: ") + what + " failed: " + e.what());
    }
    try {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        exec("COMMIT");
      } else {
        auto r = fn();
        exec("COMMIT");
        return r;
      }
    } catch (const StateStoreLeaseLost&) {
      rollback();
      throw;
    } catch (const StateStoreMismatch&) {
      rollback();
      throw;
    } catch (const StateStoreError& e) {
      rollback();
      throw StateStoreError(std::string("state store: ") + what + " failed: " + e.what());
    }
  }

 private:
  static std::string one_line(std::string s) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
  }
  void rollback() {
    // A broken connection cannot roll back; the server does when it drops.
    PQclear(PQexec(conn_, "ROLLBACK"));
  }

  PGconn* conn_ = nullptr;
};

namespace {

using Result = PostgresStateStore::Connection::Result;

std::string text(const Result& r, int row, int col) { return PQgetvalue(r.get(), row, col); }
std::int64_t number(const Result& r, int row, int col) {
  return std::strtoll(PQgetvalue(r.get(), row, col), nullptr, 10);
}
std::vector<std::string> column(const Result& r) {
  std::vector<std::string> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(text(r, i, 0));
  return out;
}

constexpr const char* kSelectPatient =
    "SELECT id, fingerprint, plan_ref, plan_version, last_outcome, last_error, failures,"
    " next_retry_ms, pending, quarantined, last_checked_ms, member FROM patient";

PatientState to_state(const Result& r, int i) {
  PatientState p;
  p.patient_id = text(r, i, 0);
  p.fingerprint = text(r, i, 1);
  p.plan_ref = text(r, i, 2);
  p.plan_version = text(r, i, 3);
  p.last_outcome = text(r, i, 4);
  p.last_error = text(r, i, 5);
  p.failures = static_cast<int>(number(r, i, 6));
  p.next_retry_ms = number(r, i, 7);
  p.pending = number(r, i, 8) != 0;
  p.quarantined = number(r, i, 9) != 0;
  p.last_checked_ms = number(r, i, 10);
  p.member = number(r, i, 11) != 0;
  return p;
}

std::string str(std::int64_t n) { return std::to_string(n); }

}  // namespace

int PostgresStateStore::schema_version() { return static_cast<int>(migrations().size()); }

PostgresStateStore::PostgresStateStore(const StateStoreOptions& options)
    : where_(redact_postgres_url(options.location)),
      worker_id_(options.worker_id.empty() ? default_worker_id() : options.worker_id),
      lease_ms_(options.lease_ms) {
  std::string password;
  if (!options.password_env.empty()) {
    if (const char* p = std::getenv(options.password_env.c_str())) password = p;
  }
  db_ = std::make_unique<Connection>(options.location, password, where_);
  db_->transaction("migrating the schema", [&] {
    db_->exec(kMigrationLock);
    db_->exec(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    const int current = static_cast<int>(
        number(db_->exec("SELECT COALESCE(MAX(version), 0) FROM schema_version"), 0, 0));
    if (current > schema_version()) {
      throw StateStoreMismatch("state store " + where_ + " has schema version " +
                               std::to_string(current) + ", newer than this adapter understands (" +
                               std::to_string(schema_version()) + ")");
    }
    for (int v = current + 1; v <= schema_version(); ++v) {
      for (const char* sql : migrations()[static_cast<std::size_t>(v - 1)]) db_->exec(sql);
      db_->exec("INSERT INTO schema_version (version) VALUES ($1)", {std::to_string(v)});
    }
  });
}

PostgresStateStore::~PostgresStateStore() = default;

std::optional<std::string> PostgresStateStore::meta(const std::string& key) {
  auto r = db_->exec("SELECT value FROM meta WHERE key = $1", {key});
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return text(r, 0, 0);
}

void PostgresStateStore::set_meta(const std::string& key, const std::string& value) {
  db_->exec(
      "INSERT INTO meta (key, value) VALUES ($1, $2) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      {key, value});
}

void PostgresStateStore::bind_to(const std::string& server, const std::string& shard,
                                 bool move_server) {
  std::lock_guard lock(mu_);
  db_->transaction("recording the server", [&] {
    // Workers share the database: leases, not shards, divide the work.
    if (shard != "0/1") {
      throw StateStoreMismatch("state store " + where_ + " is shared by workers through leases; " +
                               "shard " + shard + " is for SQLite state files only");
    }
    db_->exec("LOCK TABLE meta IN EXCLUSIVE MODE");
    const auto recorded = meta("server");
    if (recorded && *recorded != server && !move_server) {
      throw StateStoreMismatch("state store " + where_ + " belongs to server " + *recorded +
                               ", not " + server +
                               ": its checkpoint would skip this server's changes; give another "
                               "database, or pass --state-server-moved if the same server now has "
                               "this URL");
    }
    if (recorded != server) set_meta("server", server);
  });
}

std::optional<std::string> PostgresStateStore::checkpoint() {
  std::lock_guard lock(mu_);
  return db_->transaction("reading the checkpoint", [&] { return meta("checkpoint"); });
}

std::optional<std::string> PostgresStateStore::candidate_checkpoint() {
  std::lock_guard lock(mu_);
  return db_->transaction("reading the checkpoint", [&] { return meta("candidate"); });
}

void PostgresStateStore::enqueue(const std::vector<std::string>& patient_ids,
                                 const std::string& candidate) {
  std::lock_guard lock(mu_);
  db_->transaction("enqueueing patients", [&] {
    // try_advance_checkpoint() takes the same lock: it never sees the new
    // candidate without the patients it waits for.
    db_->exec("LOCK TABLE meta IN EXCLUSIVE MODE");
    for (const std::string& id : patient_ids) {
      db_->exec(
          "INSERT INTO patient (id, pending) VALUES ($1, 1) "
          "ON CONFLICT (id) DO UPDATE SET pending = 1, quarantined = 0, failures = 0,"
          " next_retry_ms = 0, member = 1,"
          " dirty = CASE WHEN patient.lease_owner <> '' THEN 1 ELSE 0 END",
          {id});
    }
    set_meta("candidate", candidate);
  });
}

PopulationChange PostgresStateStore::enqueue_population(const std::vector<std::string>& members,
                                                        std::int64_t now_ms,
                                                        std::int64_t checked_before_ms) {
  std::lock_guard lock(mu_);
  return db_->transaction("enqueueing the population", [&] {
    db_->exec("LOCK TABLE meta IN EXCLUSIVE MODE");
    PopulationChange change;
    std::vector<std::string> before =
        column(db_->exec("SELECT id FROM patient WHERE member = 1 ORDER BY id COLLATE \"C\""));
    std::sort(before.begin(), before.end());
    std::vector<std::string> listed = members;
    std::sort(listed.begin(), listed.end());
    listed.erase(std::unique(listed.begin(), listed.end()), listed.end());
    db_->exec("UPDATE patient SET member = 0");
    for (const std::string& id : listed) {
      const bool joined = !std::binary_search(before.begin(), before.end(), id);
      if (joined) ++change.joined;
      const std::int64_t due_before =
          joined ? std::numeric_limits<std::int64_t>::max() : checked_before_ms;
      db_->exec(
          "INSERT INTO patient (id, pending, member) VALUES ($1, 1, 1) "
          "ON CONFLICT (id) DO UPDATE SET member = 1,"
          " pending = CASE WHEN patient.last_checked_ms <= $2 THEN 1 ELSE patient.pending END,"
          " dirty = CASE WHEN patient.last_checked_ms <= $2 AND patient.lease_owner <> ''"
          " THEN 1 ELSE patient.dirty END,"
          " quarantined = CASE WHEN patient.next_retry_ms <= $3 THEN 0 ELSE patient.quarantined"
          " END",
          {id, str(due_before), str(now_ms)});
    }
    for (const std::string& id : before) {
      if (!std::binary_search(listed.begin(), listed.end(), id)) ++change.left;
    }
    db_->exec("UPDATE patient SET pending = 0 WHERE member = 0");
    return change;
  });
}

std::vector<std::string> PostgresStateStore::due(std::int64_t now_ms, std::size_t limit) {
  std::lock_guard lock(mu_);
  Params p{str(now_ms), limit > 0 ? std::optional(std::to_string(limit)) : std::nullopt};
  return column(db_->exec(
      "SELECT id FROM patient WHERE pending = 1 AND quarantined = 0 AND next_retry_ms <= $1 "
      "ORDER BY last_checked_ms, id COLLATE \"C\" LIMIT $2",
      p));
}

std::vector<std::string> PostgresStateStore::claim(std::int64_t now_ms, std::size_t limit) {
  std::lock_guard lock(mu_);
  Params p{worker_id_, str(now_ms + lease_ms_), str(now_ms),
           limit > 0 ? std::optional(std::to_string(limit)) : std::nullopt};
  // SKIP LOCKED: rows another worker is claiming right now are left to it;
  // a row whose lease expired is free again, so a killed worker's patients
  // are finished by the others.
  auto r = db_->exec(
      "UPDATE patient SET lease_owner = $1, lease_expires_ms = $2, dirty = 0"
      " WHERE id IN (SELECT id FROM patient"
      "  WHERE pending = 1 AND quarantined = 0 AND next_retry_ms <= $3"
      "   AND (lease_owner = '' OR lease_expires_ms <= $3)"
      "  ORDER BY last_checked_ms, id COLLATE \"C\" LIMIT $4 FOR UPDATE SKIP LOCKED)"
      " RETURNING id, last_checked_ms",
      p);
  std::vector<std::pair<std::int64_t, std::string>> rows;
  for (int i = 0; i < PQntuples(r.get()); ++i) rows.emplace_back(number(r, i, 1), text(r, i, 0));
  std::sort(rows.begin(), rows.end());
  std::vector<std::string> ids;
  for (auto& row : rows) ids.push_back(std::move(row.second));
  return ids;
}

void PostgresStateStore::release(const std::vector<std::string>& patient_ids) {
  std::lock_guard lock(mu_);
  db_->transaction("releasing leases", [&] {
    for (const std::string& id : patient_ids) {
      db_->exec(
          "UPDATE patient SET lease_owner = '', lease_expires_ms = 0"
          " WHERE id = $1 AND lease_owner = $2",
          {id, worker_id_});
    }
  });
}

std::int64_t PostgresStateStore::cycle_start() {
  std::lock_guard lock(mu_);
  return number(db_->exec(kNowUs), 0, 0);
}

bool PostgresStateStore::scan_unless_covered(std::int64_t cycle_started,
                                             const std::function<void()>& scan) {
  // A session lock, not a transaction's: the scan's own enqueue()s commit
  // while it is held. A worker killed mid-scan drops it with its connection.
  {
    std::lock_guard lock(mu_);
    try {
      db_->exec(kScanLock);
    } catch (const StateStoreError& e) {
      throw StateStoreError(std::string("state store: waiting for the scan lock failed: ") +
                            e.what());
    }
    try {
      // When the last successful scan completed; a failed one covers nothing.
      const auto last = meta("scan_completed_us");
      if (last && std::strtoll(last->c_str(), nullptr, 10) > cycle_started) {
        unlock_scans();
        return false;
      }
    } catch (...) {
      unlock_scans();
      throw;
    }
  }
  try {
    scan();
  } catch (...) {
    std::lock_guard lock(mu_);
    unlock_scans();
    throw;
  }
  std::lock_guard lock(mu_);
  try {
    set_meta("scan_completed_us", str(number(db_->exec(kNowUs), 0, 0)));
  } catch (...) {
    unlock_scans();
    throw;
  }
  unlock_scans();
  return true;
}

void PostgresStateStore::unlock_scans() {
  // A broken connection cannot unlock; the server did when it dropped.
  try {
    db_->exec(kScanUnlock);
  } catch (const StateStoreError&) {
  }
}

std::size_t PostgresStateStore::pending_count() {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(number(
      db_->exec("SELECT COUNT(*) FROM patient WHERE pending = 1 AND quarantined = 0"), 0, 0));
}

void PostgresStateStore::record_success(const std::string& patient_id, const std::string& outcome,
                                        const std::string& fingerprint, const std::string& plan_ref,
                                        const std::string& plan_version, std::int64_t checked_ms) {
  std::lock_guard lock(mu_);
  // The owner check is in the UPDATE itself: a worker whose lease expired
  // and was taken over changes nothing. A change enqueued while the patient
  // was leased (dirty) keeps it pending.
  auto r = db_->exec(
      "UPDATE patient SET last_outcome = $3, fingerprint = $4, plan_ref = $5, plan_version = $6,"
      " last_checked_ms = $7, last_error = '', failures = 0, next_retry_ms = 0,"
      " pending = dirty, dirty = 0, quarantined = 0, lease_owner = '', lease_expires_ms = 0"
      " WHERE id = $1 AND lease_owner = $2 RETURNING id",
      {patient_id, worker_id_, outcome, fingerprint, plan_ref, plan_version, str(checked_ms)});
  if (PQntuples(r.get()) == 0) {
    throw StateStoreLeaseLost("state store: patient " + patient_id + " is no longer leased to " +
                              worker_id_ + "; its result was not recorded");
  }
}

PatientState PostgresStateStore::record_failure(const std::string& patient_id,
                                                const std::string& error, std::int64_t now_ms,
                                                const RetrySchedule& schedule) {
  std::lock_guard lock(mu_);
  db_->transaction("recording a failure", [&] {
    auto r = db_->exec("SELECT failures FROM patient WHERE id = $1 AND lease_owner = $2 FOR UPDATE",
                       {patient_id, worker_id_});
    if (PQntuples(r.get()) == 0) {
      throw StateStoreLeaseLost("state store: patient " + patient_id + " is no longer leased to " +
                                worker_id_ + "; its failure was not recorded");
    }
    const int failures = static_cast<int>(number(r, 0, 0)) + 1;
    const bool quarantine = failures >= schedule.quarantine_after;
    std::int64_t delay = schedule.base_ms;
    for (int i = 1; i < failures && delay < schedule.max_ms; ++i) delay *= 2;
    const std::int64_t next = now_ms + std::min(delay, schedule.max_ms);
    // New data that arrived meanwhile (dirty) lifts the quarantine, as
    // enqueue() would have.
    db_->exec(
        "UPDATE patient SET pending = 1, failures = $2, next_retry_ms = $3, last_error = $4,"
        " last_outcome = $5, quarantined = CASE WHEN dirty = 1 THEN 0 ELSE $6::integer END,"
        " dirty = 0, lease_owner = '', lease_expires_ms = 0 WHERE id = $1",
        {patient_id, std::to_string(failures), str(next), error.substr(0, 500),
         std::string(quarantine ? "quarantined" : "failed"), std::string(quarantine ? "1" : "0")});
  });
  return *read_patient(patient_id);
}

bool PostgresStateStore::try_advance_checkpoint() {
  std::lock_guard lock(mu_);
  return db_->transaction("advancing the checkpoint", [&] {
    // After the lock, every enqueue() that set the candidate has committed
    // its patients, and the count (a new snapshot) sees them. Leased
    // patients are still pending.
    db_->exec("LOCK TABLE meta IN EXCLUSIVE MODE");
    const auto n = number(
        db_->exec("SELECT COUNT(*) FROM patient WHERE pending = 1 AND quarantined = 0"), 0, 0);
    const auto candidate = meta("candidate");
    if (n != 0 || !candidate) return false;
    if (meta("checkpoint") == candidate) return false;
    set_meta("checkpoint", *candidate);
    return true;
  });
}

std::optional<PatientState> PostgresStateStore::read_patient(const std::string& patient_id) {
  auto r = db_->exec(std::string(kSelectPatient) + " WHERE id = $1", {patient_id});
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return to_state(r, 0);
}

std::optional<PatientState> PostgresStateStore::patient(const std::string& patient_id) {
  std::lock_guard lock(mu_);
  return read_patient(patient_id);
}

std::vector<PatientState> PostgresStateStore::quarantined() {
  std::lock_guard lock(mu_);
  auto r =
      db_->exec(std::string(kSelectPatient) + " WHERE quarantined = 1 ORDER BY id COLLATE \"C\"");
  std::vector<PatientState> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(to_state(r, i));
  return out;
}

}  // namespace mst::adapter
