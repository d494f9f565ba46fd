#include "mst/adapter/sync/state_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

namespace mst::adapter {
namespace {

TEST(StateStore, CheckpointAdvancesOnlyWhenEveryPatientIsProcessed) {
  StateStore s(":memory:");
  EXPECT_FALSE(s.checkpoint());
  s.enqueue({"p2", "p1"}, "2026-11-20T10:00:00Z");
  EXPECT_EQ(s.due(0), (std::vector<std::string>{"p1", "p2"}));
  EXPECT_FALSE(s.try_advance_checkpoint());
  s.record_success("p1", "written", "fp1", "CarePlan/c1", "1", 0);
  EXPECT_FALSE(s.try_advance_checkpoint());
  EXPECT_EQ(s.pending_count(), 1u);
  s.record_success("p2", "unchanged", "fp2", "CarePlan/c2", "3", 0);
  EXPECT_TRUE(s.try_advance_checkpoint());
  EXPECT_EQ(s.checkpoint(), "2026-11-20T10:00:00Z");
  EXPECT_FALSE(s.try_advance_checkpoint());  // already there
  auto p1 = s.patient("p1");
  ASSERT_TRUE(p1);
  EXPECT_EQ(p1->fingerprint, "fp1");
  EXPECT_EQ(p1->plan_ref, "CarePlan/c1");
  EXPECT_FALSE(p1->pending);
}

TEST(StateStore, FailuresBackOffExponentiallyThenQuarantineWithoutBlocking) {
  StateStore s(":memory:");
  RetrySchedule sched{1000, 5000, 3};
  s.enqueue({"bad", "good"}, "c1");
  auto f1 = s.record_failure("bad", "server said 500", 10'000, sched);
  EXPECT_EQ(f1.failures, 1);
  EXPECT_EQ(f1.next_retry_ms, 11'000);
  EXPECT_EQ(s.due(10'500), (std::vector<std::string>{"good"}));
  EXPECT_EQ(s.due(11'000), (std::vector<std::string>{"bad", "good"}));
  auto f2 = s.record_failure("bad", "again", 11'000, sched);
  EXPECT_EQ(f2.next_retry_ms, 13'000);
  auto f3 = s.record_failure("bad", "again", 13'000, sched);
  EXPECT_TRUE(f3.quarantined);
  EXPECT_EQ(f3.last_outcome, "quarantined");
  s.record_success("good", "written", "fp", "CarePlan/x", "1", 0);
  EXPECT_TRUE(s.try_advance_checkpoint());  // the quarantined patient does not block
  ASSERT_EQ(s.quarantined().size(), 1u);
  EXPECT_EQ(s.quarantined()[0].last_error, "again");
  // New data for the patient lifts the quarantine.
  s.enqueue({"bad"}, "c2");
  EXPECT_TRUE(s.quarantined().empty());
  EXPECT_EQ(s.patient("bad")->failures, 0);
}

TEST(StateStore, BackoffIsCappedAtTheMaximum) {
  StateStore s(":memory:");
  RetrySchedule sched{1000, 3000, 100};
  s.enqueue({"p"}, "c");
  PatientState st;
  for (int i = 0; i < 6; ++i) st = s.record_failure("p", "x", 0, sched);
  EXPECT_EQ(st.next_retry_ms, 3000);
}

TEST(StateStore, SurvivesReopening) {
  auto path =
      std::filesystem::temp_directory_path() / ("mst-state-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  {
    StateStore s(path.string());
    s.enqueue({"p1", "p2"}, "c1");
    s.record_success("p1", "written", "fp", "CarePlan/a", "1", 0);
  }
  {
    StateStore s(path.string());
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
TEST(StateStore, IsCreatedOwnerOnly) {
  auto path = std::filesystem::temp_directory_path() /
              ("mst-state-mode-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  const mode_t old_mask = ::umask(0);
  {
    StateStore s(path.string());
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

TEST(StateStore, UnopenablePathIsAClearError) {
  try {
    StateStore s("/nonexistent-dir/x/state.db");
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
TEST(StateStore, IsHeldExclusivelyWhileOpen) {
  TempState file("state-lock");
  {
    StateStore first(file.path());
    try {
      StateStore second(file.path());
      FAIL() << "a second store opened a held state file";
    } catch (const StateStoreLocked& e) {
      EXPECT_NE(std::string(e.what()).find(file.path()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
    }
    first.enqueue({"p1"}, "c1");  // the first keeps working
  }
  StateStore again(file.path());  // released with the first
  EXPECT_EQ(again.due(0), (std::vector<std::string>{"p1"}));
}

// A state file reused against another server kept that server's checkpoint.
TEST(StateStore, BelongsToOneServerAndShard) {
  TempState file("state-bind");
  {
    StateStore s(file.path());
    s.bind_to("https://a.example/fhir", "0/1");
    s.bind_to("https://a.example/fhir", "0/1");  // the same: fine
  }
  StateStore s(file.path());
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
TEST(StateStore, ReadModifyWriteWaitsForAnotherWriter) {
  TempState file("state-immediate");
  StateStore s(file.path());
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
TEST(StateStore, MigratesASchemaOneFileInPlace) {
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
    StateStore s(file.path());
    EXPECT_EQ(s.checkpoint(), "2026-11-01T00:00:00Z");
    EXPECT_EQ(s.due(0), (std::vector<std::string>{"todo"}));
    auto done = s.patient("done");
    ASSERT_TRUE(done);
    EXPECT_EQ(done->plan_ref, "CarePlan/1");
    EXPECT_TRUE(done->member);
    EXPECT_EQ(done->last_checked_ms, 0);
  }
}

TEST(StateStore, ThePopulationIsReplacedEachTimeAndLeaversStopBeingPending) {
  StateStore s(":memory:");
  auto c1 = s.enqueue_population({"a", "b", "c", "b"}, 0, 0);
  EXPECT_EQ(c1.joined, 3);
  EXPECT_EQ(c1.left, 0);
  EXPECT_EQ(s.due(0), (std::vector<std::string>{"a", "b", "c"}));
  s.record_success("b", "written", "fp", "CarePlan/b", "1", 50);
  auto c2 = s.enqueue_population({"b", "d"}, 100, 100);
  EXPECT_EQ(c2.joined, 1);
  EXPECT_EQ(c2.left, 2);
  EXPECT_EQ(s.due(100), (std::vector<std::string>{"d", "b"}));  // never checked first
  EXPECT_FALSE(s.patient("a")->member);
  EXPECT_FALSE(s.patient("a")->pending);
  EXPECT_EQ(s.patient("b")->plan_ref, "CarePlan/b");  // a member's state is kept
  // A leaver who comes back is a member again, with its state.
  s.record_success("b", "unchanged", "fp", "CarePlan/b", "1", 150);
  auto c3 = s.enqueue_population({"a", "b", "d"}, 200, 200);
  EXPECT_EQ(c3.joined, 1);
  EXPECT_TRUE(s.patient("a")->member);
}

// A member who comes back is pulled at once, however recently checked:
// their record was not watched while they were out.
TEST(StateStore, AReturningMemberIsDueWhateverTheInterval) {
  StateStore s(":memory:");
  s.enqueue_population({"a", "b"}, 0, 0);
  s.record_success("a", "written", "fp", "CarePlan/a", "1", 10);
  s.record_success("b", "written", "fp", "CarePlan/b", "1", 10);
  s.enqueue_population({"b"}, 20, 0);
  s.enqueue_population({"a", "b"}, 30, 0);  // neither checked before 0
  EXPECT_EQ(s.due(30), (std::vector<std::string>{"a"}));
}

// The checkpoint is the _lastUpdated feed's: a population cycle leaves it,
// so a sync switched back to _lastUpdated resumes where it stopped.
TEST(StateStore, APopulationCycleLeavesTheCheckpointCandidate) {
  StateStore s(":memory:");
  s.enqueue({"x"}, "2026-11-01T00:00:00Z");
  auto c = s.enqueue_population({"x", "y"}, 0, 0);
  EXPECT_EQ(c.joined, 1);
  EXPECT_EQ(s.candidate_checkpoint(), "2026-11-01T00:00:00Z");
}

// sync.repull_interval_s: a member checked recently is not due again yet,
// while a new member, and one still failing, is.
TEST(StateStore, OnlyMembersCheckedLongEnoughAgoAreDueAgain) {
  StateStore s(":memory:");
  s.enqueue_population({"a", "b", "c"}, 0, 0);
  s.record_success("a", "unchanged", "", "", "", 100);
  s.record_success("b", "unchanged", "", "", "", 500);
  s.record_failure("c", "x", 500, RetrySchedule{100, 100, 5});
  s.enqueue_population({"a", "b", "c", "d"}, 1000, 1000 - 600);
  EXPECT_EQ(s.due(1000), (std::vector<std::string>{"c", "d", "a"}));
  EXPECT_EQ(s.pending_count(), 3u);
}

TEST(StateStore, DueIsLeastRecentlyCheckedFirstAndBounded) {
  StateStore s(":memory:");
  s.enqueue_population({"a", "b", "c", "d"}, 0, 0);
  s.record_success("a", "unchanged", "", "", "", 30);
  s.record_success("b", "unchanged", "", "", "", 10);
  s.record_success("c", "unchanged", "", "", "", 20);
  s.enqueue_population({"a", "b", "c", "d"}, 40, 40);
  EXPECT_EQ(s.due(40), (std::vector<std::string>{"d", "b", "c", "a"}));
  EXPECT_EQ(s.due(40, 2), (std::vector<std::string>{"d", "b"}));
  EXPECT_EQ(s.due(40, 0).size(), 4u);
}

// Re-listing a member is not new data: a failing member keeps its count and
// backoff, and a quarantined one is only taken back once its retry time came.
TEST(StateStore, ReListingKeepsBackoffAndQuarantine) {
  StateStore s(":memory:");
  RetrySchedule sched{1000, 4000, 2};
  s.enqueue_population({"p"}, 0, 0);
  s.record_failure("p", "x", 0, sched);
  s.enqueue_population({"p"}, 10, 10);
  EXPECT_EQ(s.patient("p")->failures, 1);
  EXPECT_TRUE(s.due(10).empty());
  auto q = s.record_failure("p", "x", 1000, sched);
  ASSERT_TRUE(q.quarantined);
  s.enqueue_population({"p"}, 1500, 1500);
  EXPECT_TRUE(s.patient("p")->quarantined);
  s.enqueue_population({"p"}, q.next_retry_ms, q.next_retry_ms);
  EXPECT_FALSE(s.patient("p")->quarantined);
  EXPECT_EQ(s.due(q.next_retry_ms), (std::vector<std::string>{"p"}));
  // One more failure quarantines it again at once.
  EXPECT_TRUE(s.record_failure("p", "x", q.next_retry_ms, sched).quarantined);
}

}  // namespace
}  // namespace mst::adapter
