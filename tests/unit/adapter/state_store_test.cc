#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "mst/adapter/sync/sqlite_state_store.h"

namespace mst::adapter {
namespace {

TEST(SqliteStateStore, SurvivesReopening) {
  auto path =
      std::filesystem::temp_directory_path() / ("mst-state-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  {
    SqliteStateStore s(path.string());
    s.enqueue({"p1", "p2"}, "c1");
    s.record_success("p1", "written", "fp", "CarePlan/a", "1", 0);
  }
  {
    SqliteStateStore s(path.string());
    EXPECT_EQ(s.due(0), (std::vector<std::string>{"p2"}));
    EXPECT_EQ(s.candidate_checkpoint(), "c1");
    EXPECT_FALSE(s.checkpoint());
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

// The state file holds patient ids: created readable by its owner only,
// whatever the umask (issue #12).
TEST(SqliteStateStore, IsCreatedOwnerOnly) {
  auto path = std::filesystem::temp_directory_path() /
              ("mst-state-mode-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  const mode_t old_mask = ::umask(0);
  {
    SqliteStateStore s(path.string());
    s.enqueue({"p1"}, "c1");
  }
  ::umask(old_mask);
  using std::filesystem::perms;
  for (const std::string suffix : {"", "-wal"}) {
    const auto file = path.string() + suffix;
    if (suffix != "" && !std::filesystem::exists(file)) continue;
    const auto p = std::filesystem::status(file).permissions();
    EXPECT_EQ(p & (perms::group_all | perms::others_all), perms::none) << file;
  }
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

TEST(SqliteStateStore, UnopenablePathIsAClearError) {
  try {
    SqliteStateStore s("/nonexistent-dir/x/state.db");
    FAIL();
  } catch (const StateStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x/state.db"), std::string::npos);
  }
}

// A state file in the temp directory, removed with its companions.
class TempState {
 public:
  explicit TempState(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               ("mst-" + name + "-" + std::to_string(::getpid()) + ".db"))
                  .string()) {
    clean();
  }
  ~TempState() { clean(); }
  const std::string& path() const { return path_; }

 private:
  void clean() {
    for (const char* suffix : {"", "-wal", "-shm", ".lock"})
      std::filesystem::remove(path_ + suffix);
  }
  std::string path_;
};

// Two syncs on one state file both processed every patient (issue #12).
TEST(SqliteStateStore, IsHeldExclusivelyWhileOpen) {
  TempState file("state-lock");
  {
    SqliteStateStore first(file.path());
    try {
      SqliteStateStore second(file.path());
      FAIL() << "a second store opened a held state file";
    } catch (const StateStoreLocked& e) {
      EXPECT_NE(std::string(e.what()).find(file.path()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
    }
    first.enqueue({"p1"}, "c1");  // the first keeps working
  }
  SqliteStateStore again(file.path());  // released with the first
  EXPECT_EQ(again.due(0), (std::vector<std::string>{"p1"}));
}

// A state file reused against another server kept that server's checkpoint.
TEST(SqliteStateStore, BelongsToOneServerAndShard) {
  TempState file("state-bind");
  {
    SqliteStateStore s(file.path());
    s.bind_to("https://a.example/fhir", "0/1");
    s.bind_to("https://a.example/fhir", "0/1");  // the same: fine
  }
  SqliteStateStore s(file.path());
  s.bind_to("https://a.example/fhir", "0/1");
  try {
    s.bind_to("https://b.example/fhir", "0/1");
    FAIL() << "another server was accepted";
  } catch (const StateStoreMismatch& e) {
    EXPECT_NE(std::string(e.what()).find("https://a.example/fhir"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("https://b.example/fhir"), std::string::npos);
  }
  EXPECT_THROW(s.bind_to("https://a.example/fhir", "1/2"), StateStoreMismatch);
  // The same server behind a new URL, said so explicitly: the state stays.
  s.enqueue({"p1"}, "c1");
  s.bind_to("https://b.example/fhir", "0/1", /*move_server=*/true);
  s.bind_to("https://b.example/fhir", "0/1");
  EXPECT_THROW(s.bind_to("https://a.example/fhir", "0/1"), StateStoreMismatch);
  EXPECT_THROW(s.bind_to("https://b.example/fhir", "1/2", true), StateStoreMismatch);
  EXPECT_EQ(s.due(0), (std::vector<std::string>{"p1"}));
}

// A read-modify-write transaction takes the write lock before it reads: a
// deferred one read the failure count, then failed (SQLITE_BUSY, no wait)
// when another connection was writing, or would have counted from a stale
// value.
TEST(SqliteStateStore, ReadModifyWriteWaitsForAnotherWriter) {
  TempState file("state-immediate");
  SqliteStateStore s(file.path());
  s.enqueue({"p"}, "c1");
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(file.path().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE; UPDATE patient SET failures = 3 WHERE id = 'p';",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  std::thread committer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  });
  PatientState st;
  EXPECT_NO_THROW(st = s.record_failure("p", "x", 0, RetrySchedule{}));
  committer.join();
  sqlite3_close(other);
  EXPECT_EQ(st.failures, 4);
}

}  // namespace
}  // namespace mst::adapter

namespace mst::adapter {
namespace {

// A state file written before population sync (schema 1) opens, keeps its
// checkpoint and patients, and gains the new columns with neutral values.
TEST(SqliteStateStore, MigratesASchemaOneFileInPlace) {
  TempState file("state-v1");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                         "CREATE TABLE patient (id TEXT PRIMARY KEY,"
                         " fingerprint TEXT NOT NULL DEFAULT '', plan_ref TEXT NOT NULL DEFAULT '',"
                         " plan_version TEXT NOT NULL DEFAULT '',"
                         " last_outcome TEXT NOT NULL DEFAULT '',"
                         " last_error TEXT NOT NULL DEFAULT '',"
                         " failures INTEGER NOT NULL DEFAULT 0,"
                         " next_retry_ms INTEGER NOT NULL DEFAULT 0,"
                         " pending INTEGER NOT NULL DEFAULT 0,"
                         " quarantined INTEGER NOT NULL DEFAULT 0);"
                         "INSERT INTO meta VALUES ('checkpoint', '2026-11-01T00:00:00Z');"
                         "INSERT INTO patient (id, fingerprint, plan_ref, pending)"
                         " VALUES ('done', 'fp', 'CarePlan/1', 0), ('todo', '', '', 1);"
                         "PRAGMA user_version = 1;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  for (int open = 0; open < 2; ++open) {  // and opens again once migrated
    SqliteStateStore s(file.path());
    EXPECT_EQ(s.checkpoint(), "2026-11-01T00:00:00Z");
    EXPECT_EQ(s.due(0), (std::vector<std::string>{"todo"}));
    auto done = s.patient("done");
    ASSERT_TRUE(done);
    EXPECT_EQ(done->plan_ref, "CarePlan/1");
    EXPECT_TRUE(done->member);
    EXPECT_EQ(done->last_checked_ms, 0);
  }
}

}  // namespace
}  // namespace mst::adapter
