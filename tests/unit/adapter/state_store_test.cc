#include "mst/adapter/state_store.h"

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
  s.record_success("p1", "written", "fp1", "CarePlan/c1", "1");
  EXPECT_FALSE(s.try_advance_checkpoint());
  EXPECT_EQ(s.pending_count(), 1u);
  s.record_success("p2", "unchanged", "fp2", "CarePlan/c2", "3");
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
  s.record_success("good", "written", "fp", "CarePlan/x", "1");
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
    s.record_success("p1", "written", "fp", "CarePlan/a", "1");
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
