#include "mst/adapter/sync/sqlite_state_store.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>

using namespace Poco::Data::Keywords;

namespace mst::adapter {

namespace {

// 2 added last_checked_ms and member (population sync); a version 1 file is
// migrated in place on open.
constexpr int kSchemaVersion = 2;

// Runs `fn` inside one transaction; rolls back and rethrows as
// StateStoreError on any database error. BEGIN IMMEDIATE takes the write
// lock up front, waiting (busy_timeout) for another writer: a deferred
// transaction that has read gets SQLITE_BUSY at its first write, without
// waiting, while another connection writes (or SQLITE_BUSY_SNAPSHOT once it
// has written), and record_failure() and try_advance_checkpoint() read first.
template <typename Fn>
auto in_transaction(Poco::Data::Session& s, const char* what, Fn&& fn) {
  bool open = false;
  auto rollback = [&] {
    if (!open) return;
    try {
      s << "ROLLBACK", now;
    } catch (const Poco::Exception&) {
      // SQLite already rolled back (e.g. after SQLITE_FULL); nothing to undo.
    }
  };
  try {
    s << "BEGIN IMMEDIATE", now;
    open = true;
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      s << "COMMIT", now;
    } else {
      auto r = fn();
      s << "COMMIT", now;
      return r;
    }
  } catch (const Poco::Exception& e) {
    rollback();
    throw StateStoreError(std::string("state store: ") + what + " failed: " + e.displayText());
  } catch (...) {
    rollback();  // e.g. a StateStoreMismatch from `fn`
    throw;
  }
}

// Holds `path`.lock with flock() for the life of the store, so that a second
// sync on the same state never runs beside the first. The lock goes with the
// process, however it ends. Returns the descriptor to keep open.
int lock_state_file(const std::string& path) {
  const std::string lock_path = path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw StateStoreError("cannot open state store " + path + ": cannot create its lock file " +
                          lock_path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      throw StateStoreLocked("state store " + path +
                             " is in use by another mst-adapter process (it holds " + lock_path +
                             "); run one sync per state file");
    }
    throw StateStoreError("cannot lock state store " + path + ": " + std::strerror(err));
  }
  return fd;
}

}  // namespace

SqliteStateStore::SqliteStateStore(const std::string& path) : path_(path) {
  static std::once_flag registered;
  std::call_once(registered, [] { Poco::Data::SQLite::Connector::registerConnector(); });
  if (path != ":memory:") {
    // Poco retries an unopenable file for its whole login timeout; a missing
    // directory will not appear meanwhile, so say so at once.
    const auto dir = std::filesystem::absolute(path).parent_path();
    if (!std::filesystem::is_directory(dir)) {
      throw StateStoreError("cannot open state store " + path + ": directory " + dir.string() +
                            " does not exist");
    }
    lock_fd_ = lock_state_file(path);
    // The file holds patient ids: create it readable by its owner only.
    // SQLite gives its -wal and -shm files the database file's mode.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  }
  try {
    session_ = std::make_unique<Poco::Data::Session>("SQLite", path, 5);
    Poco::Data::Session& s = *session_;
    // WAL keeps readers and the writer apart and survives a killed process.
    s << "PRAGMA journal_mode=WAL", now;
    s << "PRAGMA synchronous=NORMAL", now;
    s << "PRAGMA busy_timeout=5000", now;
    int version = 0;
    s << "PRAGMA user_version", into(version), now;
    if (version > kSchemaVersion) {
      throw StateStoreError("state store " + path + " has schema version " +
                            std::to_string(version) + ", newer than this adapter understands (" +
                            std::to_string(kSchemaVersion) + ")");
    }
    s << "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)", now;
    s << "CREATE TABLE IF NOT EXISTS patient ("
         " id TEXT PRIMARY KEY,"
         " fingerprint TEXT NOT NULL DEFAULT '',"
         " plan_ref TEXT NOT NULL DEFAULT '',"
         " plan_version TEXT NOT NULL DEFAULT '',"
         " last_outcome TEXT NOT NULL DEFAULT '',"
         " last_error TEXT NOT NULL DEFAULT '',"
         " failures INTEGER NOT NULL DEFAULT 0,"
         " next_retry_ms INTEGER NOT NULL DEFAULT 0,"
         " pending INTEGER NOT NULL DEFAULT 0,"
         " quarantined INTEGER NOT NULL DEFAULT 0)",
        now;
    s << "CREATE INDEX IF NOT EXISTS patient_pending ON patient (pending, quarantined, "
         "next_retry_ms)",
        now;
    if (version < 2) {
      // Columns with defaults: every existing patient is a member never
      // re-pulled, which is what it was. One transaction with the version
      // (SQLite's DDL is transactional), so a crash cannot half-migrate.
      in_transaction(s, "migrating the schema", [&] {
        s << "ALTER TABLE patient ADD COLUMN last_checked_ms INTEGER NOT NULL DEFAULT 0", now;
        s << "ALTER TABLE patient ADD COLUMN member INTEGER NOT NULL DEFAULT 1", now;
        s << "PRAGMA user_version = " + std::to_string(kSchemaVersion), now;
      });
    }
  } catch (const Poco::Exception& e) {
    release_lock();
    throw StateStoreError("cannot open state store " + path + ": " + e.displayText());
  } catch (...) {
    release_lock();
    throw;
  }
}

SqliteStateStore::~SqliteStateStore() {
  session_.reset();  // close the database before another process may take it
  release_lock();
}

void SqliteStateStore::release_lock() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
  lock_fd_ = -1;
}

void SqliteStateStore::bind_to(const std::string& server, const std::string& shard,
                               bool move_server) {
  std::lock_guard lock(mu_);
  in_transaction(*session_, "recording the server", [&] {
    const auto recorded_server = meta("server");
    const auto recorded_shard = meta("shard");
    if (recorded_server && *recorded_server != server && !move_server) {
      throw StateStoreMismatch("state store " + path_ + " belongs to server " + *recorded_server +
                               ", not " + server +
                               ": its checkpoint would skip this server's changes; give another "
                               "--state file, delete this one to start over, or pass "
                               "--state-server-moved if the same server now has this URL");
    }
    if (recorded_shard && *recorded_shard != shard) {
      throw StateStoreMismatch("state store " + path_ + " belongs to shard " + *recorded_shard +
                               ", not " + shard +
                               ": give each shard its own --state file, or delete this one to "
                               "start over");
    }
    if (recorded_server != server) set_meta("server", server);
    if (!recorded_shard) set_meta("shard", shard);
  });
}

std::optional<std::string> SqliteStateStore::meta(const std::string& key) {
  std::vector<std::string> values;
  std::string k = key;
  *session_ << "SELECT value FROM meta WHERE key = ?", use(k), into(values), now;
  if (values.empty()) return std::nullopt;
  return values.front();
}

void SqliteStateStore::set_meta(const std::string& key, const std::string& value) {
  std::string k = key, v = value;
  *session_ << "INSERT INTO meta (key, value) VALUES (?, ?) "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      use(k), use(v), now;
}

std::optional<std::string> SqliteStateStore::checkpoint() {
  std::lock_guard lock(mu_);
  return in_transaction(*session_, "reading the checkpoint", [&] { return meta("checkpoint"); });
}

std::optional<std::string> SqliteStateStore::candidate_checkpoint() {
  std::lock_guard lock(mu_);
  return in_transaction(*session_, "reading the checkpoint", [&] { return meta("candidate"); });
}

void SqliteStateStore::enqueue(const std::vector<std::string>& patient_ids,
                               const std::string& candidate) {
  std::lock_guard lock(mu_);
  in_transaction(*session_, "enqueueing patients", [&] {
    for (const std::string& id : patient_ids) {
      std::string pid = id;
      *session_ << "INSERT INTO patient (id, pending) VALUES (?, 1) "
                   "ON CONFLICT(id) DO UPDATE SET pending = 1, quarantined = 0, failures = 0,"
                   " next_retry_ms = 0, member = 1",
          use(pid), now;
    }
    set_meta("candidate", candidate);
  });
}

PopulationChange SqliteStateStore::enqueue_population(const std::vector<std::string>& members,
                                                      std::int64_t now_ms,
                                                      std::int64_t checked_before_ms) {
  std::lock_guard lock(mu_);
  return in_transaction(*session_, "enqueueing the population", [&] {
    PopulationChange change;
    std::vector<std::string> before;
    *session_ << "SELECT id FROM patient WHERE member = 1 ORDER BY id", into(before), now;
    std::vector<std::string> listed = members;
    std::sort(listed.begin(), listed.end());
    listed.erase(std::unique(listed.begin(), listed.end()), listed.end());
    *session_ << "UPDATE patient SET member = 0", now;
    std::int64_t t = now_ms, checked = checked_before_ms;
    for (const std::string& id : listed) {
      std::string pid = id;
      // A member who (re)joins is pulled now, however recently checked:
      // while out, their record was not watched.
      const bool joined = !std::binary_search(before.begin(), before.end(), id);
      if (joined) ++change.joined;
      std::int64_t due_before = joined ? std::numeric_limits<std::int64_t>::max() : checked;
      *session_ << "INSERT INTO patient (id, pending, member) VALUES (?, 1, 1) "
                   "ON CONFLICT(id) DO UPDATE SET member = 1,"
                   " pending = CASE WHEN last_checked_ms <= ? THEN 1 ELSE pending END,"
                   " quarantined = CASE WHEN next_retry_ms <= ? THEN 0 ELSE quarantined END",
          use(pid), use(due_before), use(t), now;
    }
    for (const std::string& id : before) {
      if (!std::binary_search(listed.begin(), listed.end(), id)) ++change.left;
    }
    *session_ << "UPDATE patient SET pending = 0 WHERE member = 0", now;
    return change;
  });
}

std::vector<std::string> SqliteStateStore::due(std::int64_t now_ms, std::size_t limit) {
  std::lock_guard lock(mu_);
  return in_transaction(*session_, "listing due patients", [&] {
    std::vector<std::string> ids;
    std::int64_t t = now_ms;
    // SQLite reads a negative LIMIT as no limit.
    std::int64_t n = limit > 0 ? static_cast<std::int64_t>(limit) : -1;
    *session_
        << "SELECT id FROM patient WHERE pending = 1 AND quarantined = 0 AND next_retry_ms <= ? "
           "ORDER BY last_checked_ms, id LIMIT ?",
        use(t), use(n), into(ids), now;
    return ids;
  });
}

std::vector<std::string> SqliteStateStore::claim(std::int64_t now_ms, std::size_t limit) {
  // One process: the lock file keeps every other worker out, so a claim
  // needs no lease.
  return due(now_ms, limit);
}

void SqliteStateStore::release(const std::vector<std::string>&) {}

// One process holds the file (the lock in the constructor): no other
// worker's scan can cover this one's.
std::int64_t SqliteStateStore::cycle_start() { return 0; }

bool SqliteStateStore::scan_unless_covered(std::int64_t, const std::function<void()>& scan) {
  scan();
  return true;
}

std::size_t SqliteStateStore::pending_count() {
  std::lock_guard lock(mu_);
  return in_transaction(*session_, "counting pending patients", [&] {
    std::size_t n = 0;
    *session_ << "SELECT COUNT(*) FROM patient WHERE pending = 1 AND quarantined = 0", into(n), now;
    return n;
  });
}

void SqliteStateStore::record_success(const std::string& patient_id, const std::string& outcome,
                                      const std::string& fingerprint, const std::string& plan_ref,
                                      const std::string& plan_version, std::int64_t checked_ms) {
  std::lock_guard lock(mu_);
  in_transaction(*session_, "recording a processed patient", [&] {
    std::string id = patient_id, o = outcome, f = fingerprint, r = plan_ref, v = plan_version;
    std::int64_t t = checked_ms;
    *session_ << "INSERT INTO patient (id, last_outcome, fingerprint, plan_ref, plan_version,"
                 " last_checked_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                 " last_outcome = excluded.last_outcome, fingerprint = excluded.fingerprint,"
                 " plan_ref = excluded.plan_ref, plan_version = excluded.plan_version,"
                 " last_checked_ms = excluded.last_checked_ms,"
                 " last_error = '', failures = 0, next_retry_ms = 0, pending = 0, quarantined = 0",
        use(id), use(o), use(f), use(r), use(v), use(t), now;
  });
}

PatientState SqliteStateStore::record_failure(const std::string& patient_id,
                                              const std::string& error, std::int64_t now_ms,
                                              const RetrySchedule& schedule) {
  std::unique_lock lock(mu_);
  in_transaction(*session_, "recording a failure", [&] {
    std::string id = patient_id;
    int failures = 0;
    std::vector<int> rows;
    *session_ << "SELECT failures FROM patient WHERE id = ?", use(id), into(rows), now;
    failures = (rows.empty() ? 0 : rows.front()) + 1;
    const bool quarantine = failures >= schedule.quarantine_after;
    std::int64_t delay = schedule.base_ms;
    for (int i = 1; i < failures && delay < schedule.max_ms; ++i) delay *= 2;
    std::int64_t next = now_ms + std::min(delay, schedule.max_ms);
    std::string err = error.substr(0, 500), outcome = quarantine ? "quarantined" : "failed";
    int q = quarantine ? 1 : 0;
    *session_
        << "INSERT INTO patient (id, pending, failures, next_retry_ms, last_error, last_outcome,"
           " quarantined) VALUES (?, 1, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
           " failures = excluded.failures, next_retry_ms = excluded.next_retry_ms,"
           " last_error = excluded.last_error, last_outcome = excluded.last_outcome,"
           " quarantined = excluded.quarantined",
        use(id), use(failures), use(next), use(err), use(outcome), use(q), now;
  });
  lock.unlock();
  return *patient(patient_id);
}

bool SqliteStateStore::try_advance_checkpoint() {
  std::lock_guard lock(mu_);
  return in_transaction(*session_, "advancing the checkpoint", [&] {
    std::size_t n = 0;
    *session_ << "SELECT COUNT(*) FROM patient WHERE pending = 1 AND quarantined = 0", into(n), now;
    auto candidate = meta("candidate");
    if (n != 0 || !candidate) return false;
    if (meta("checkpoint") == candidate) return false;
    set_meta("checkpoint", *candidate);
    return true;
  });
}

namespace {

using Row = Poco::Tuple<std::string, std::string, std::string, std::string, std::string,
                        std::string, int, Poco::Int64, int, int, Poco::Int64, int>;

PatientState to_state(const Row& r) {
  PatientState p;
  p.patient_id = r.get<0>();
  p.fingerprint = r.get<1>();
  p.plan_ref = r.get<2>();
  p.plan_version = r.get<3>();
  p.last_outcome = r.get<4>();
  p.last_error = r.get<5>();
  p.failures = r.get<6>();
  p.next_retry_ms = r.get<7>();
  p.pending = r.get<8>() != 0;
  p.quarantined = r.get<9>() != 0;
  p.last_checked_ms = r.get<10>();
  p.member = r.get<11>() != 0;
  return p;
}

constexpr const char* kSelectPatient =
    "SELECT id, fingerprint, plan_ref, plan_version, last_outcome, last_error, failures,"
    " next_retry_ms, pending, quarantined, last_checked_ms, member FROM patient";

}  // namespace

std::optional<PatientState> SqliteStateStore::patient(const std::string& patient_id) {
  std::lock_guard lock(mu_);
  return in_transaction(*session_, "reading a patient", [&]() -> std::optional<PatientState> {
    std::vector<Row> rows;
    std::string id = patient_id;
    *session_ << std::string(kSelectPatient) + " WHERE id = ?", use(id), into(rows), now;
    if (rows.empty()) return std::nullopt;
    return to_state(rows.front());
  });
}

std::vector<PatientState> SqliteStateStore::quarantined() {
  std::lock_guard lock(mu_);
  return in_transaction(*session_, "listing quarantined patients", [&] {
    std::vector<Row> rows;
    *session_ << std::string(kSelectPatient) + " WHERE quarantined = 1 ORDER BY id", into(rows),
        now;
    std::vector<PatientState> out;
    for (const auto& r : rows) out.push_back(to_state(r));
    return out;
  });
}

}  // namespace mst::adapter
