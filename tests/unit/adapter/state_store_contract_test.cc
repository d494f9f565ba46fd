// The StateStore contract, run against both backends. The PostgreSQL runs
// need a server: MST_PG_URL names a database on it where each test creates
// and drops its own (CTest's postgres fixture sets it for the integration
// run, state_store_postgres); without it they are skipped, loudly.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "mst/adapter/sync/postgres_state_store.h"
#include "mst/adapter/sync/sqlite_state_store.h"

namespace mst::adapter {
namespace {

// A database of its own on MST_PG_URL's server, dropped afterwards.
class ScratchDatabase {
 public:
  ScratchDatabase() {
    const char* admin = std::getenv("MST_PG_URL");
    if (admin == nullptr || *admin == '\0') return;
    admin_ = admin;
    static std::atomic<int> counter{0};
    name_ = "mst_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    run("DROP DATABASE IF EXISTS " + name_);
    run("CREATE DATABASE " + name_);
    const auto query = admin_.find('?');
    const auto slash = admin_.rfind('/', query);
    url_ = admin_.substr(0, slash + 1) + name_ +
           (query == std::string::npos ? "" : admin_.substr(query));
  }
  ~ScratchDatabase() {
    if (!name_.empty()) run("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  bool available() const { return !url_.empty(); }
  const std::string& url() const { return url_; }

  void run(const std::string& sql) const {
    PGconn* c = PQconnectdb(admin_.c_str());
    ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    PGresult* r = PQexec(c, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << sql << ": " << PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
  }

 private:
  std::string admin_, name_, url_;
};

constexpr const char* kNoServer =
    "\n*** MST_PG_URL is not set: the PostgreSQL state store is NOT tested in this run. ***\n"
    "*** ctest -R state_store_postgres starts a server and runs these tests against it. ***\n";

struct Sqlite {
  static constexpr bool kPostgres = false;
};
struct Postgres {
  static constexpr bool kPostgres = true;
};

template <typename Backend>
class StateStoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    if constexpr (Backend::kPostgres) {
      if (!db_.available()) GTEST_SKIP() << kNoServer;
      store_ = std::make_unique<PostgresStateStore>(StateStoreOptions{
          .location = db_.url(), .password_env = "", .worker_id = "w1", .lease_ms = 60'000});
    } else {
      store_ = std::make_unique<SqliteStateStore>(":memory:");
    }
  }
  StateStore& store() { return *store_; }

  ScratchDatabase db_;
  std::unique_ptr<StateStore> store_;
};

using Backends = ::testing::Types<Sqlite, Postgres>;
class BackendName {
 public:
  template <typename T>
  static std::string GetName(int) {
    return T::kPostgres ? "Postgres" : "Sqlite";
  }
};
TYPED_TEST_SUITE(StateStoreContract, Backends, BackendName);

using Ids = std::vector<std::string>;

TYPED_TEST(StateStoreContract, CheckpointAdvancesOnlyWhenEveryPatientIsProcessed) {
  StateStore& s = this->store();
  EXPECT_FALSE(s.checkpoint());
  s.enqueue({"p2", "p1"}, "2026-11-20T10:00:00Z");
  EXPECT_EQ(s.due(0), (Ids{"p1", "p2"}));
  EXPECT_EQ(s.claim(0), (Ids{"p1", "p2"}));
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

TYPED_TEST(StateStoreContract, FailuresBackOffExponentiallyThenQuarantineWithoutBlocking) {
  StateStore& s = this->store();
  RetrySchedule sched{1000, 5000, 3};
  s.enqueue({"bad", "good"}, "c1");
  EXPECT_EQ(s.claim(10'000), (Ids{"bad", "good"}));
  auto f1 = s.record_failure("bad", "server said 500", 10'000, sched);
  EXPECT_EQ(f1.failures, 1);
  EXPECT_EQ(f1.next_retry_ms, 11'000);
  EXPECT_EQ(s.due(10'500), (Ids{"good"}));
  EXPECT_EQ(s.due(11'000), (Ids{"bad", "good"}));
  ASSERT_EQ(s.claim(11'000, 1), (Ids{"bad"}));
  auto f2 = s.record_failure("bad", "again", 11'000, sched);
  EXPECT_EQ(f2.next_retry_ms, 13'000);
  ASSERT_EQ(s.claim(13'000, 1), (Ids{"bad"}));
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

TYPED_TEST(StateStoreContract, BackoffIsCappedAtTheMaximum) {
  StateStore& s = this->store();
  RetrySchedule sched{1000, 3000, 100};
  s.enqueue({"p"}, "c");
  PatientState st;
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(s.claim(1'000'000).size(), 1u);
    st = s.record_failure("p", "x", 0, sched);
  }
  EXPECT_EQ(st.next_retry_ms, 3000);
}

TYPED_TEST(StateStoreContract, BelongsToOneServer) {
  StateStore& s = this->store();
  s.bind_to("https://a.example/fhir", "0/1");
  s.bind_to("https://a.example/fhir", "0/1");  // the same: fine
  try {
    s.bind_to("https://b.example/fhir", "0/1");
    FAIL() << "another server was accepted";
  } catch (const StateStoreMismatch& e) {
    EXPECT_NE(std::string(e.what()).find("https://a.example/fhir"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("https://b.example/fhir"), std::string::npos);
  }
  EXPECT_THROW(s.bind_to("https://a.example/fhir", "1/2"), StateStoreMismatch);
  s.enqueue({"p1"}, "c1");
  s.bind_to("https://b.example/fhir", "0/1", /*move_server=*/true);
  s.bind_to("https://b.example/fhir", "0/1");
  EXPECT_THROW(s.bind_to("https://a.example/fhir", "0/1"), StateStoreMismatch);
  EXPECT_EQ(s.due(0), (Ids{"p1"}));
}

TYPED_TEST(StateStoreContract, ThePopulationIsReplacedEachTimeAndLeaversStopBeingPending) {
  StateStore& s = this->store();
  auto c1 = s.enqueue_population({"a", "b", "c", "b"}, 0, 0);
  EXPECT_EQ(c1.joined, 3);
  EXPECT_EQ(c1.left, 0);
  EXPECT_EQ(s.due(0), (Ids{"a", "b", "c"}));
  EXPECT_EQ(s.claim(0), (Ids{"a", "b", "c"}));
  s.record_success("b", "written", "fp", "CarePlan/b", "1", 50);
  auto c2 = s.enqueue_population({"b", "d"}, 100, 100);
  EXPECT_EQ(c2.joined, 1);
  EXPECT_EQ(c2.left, 2);
  EXPECT_EQ(s.due(100), (Ids{"d", "b"}));  // never checked first
  EXPECT_FALSE(s.patient("a")->member);
  EXPECT_FALSE(s.patient("a")->pending);
  EXPECT_EQ(s.patient("b")->plan_ref, "CarePlan/b");  // a member's state is kept
  // A leaver who comes back is a member again, with its state.
  EXPECT_EQ(s.claim(100, 2), (Ids{"d", "b"}));
  s.record_success("b", "unchanged", "fp", "CarePlan/b", "1", 150);
  auto c3 = s.enqueue_population({"a", "b", "d"}, 200, 200);
  EXPECT_EQ(c3.joined, 1);
  EXPECT_TRUE(s.patient("a")->member);
}

TYPED_TEST(StateStoreContract, AReturningMemberIsDueWhateverTheInterval) {
  StateStore& s = this->store();
  s.enqueue_population({"a", "b"}, 0, 0);
  EXPECT_EQ(s.claim(0), (Ids{"a", "b"}));
  s.record_success("a", "written", "fp", "CarePlan/a", "1", 10);
  s.record_success("b", "written", "fp", "CarePlan/b", "1", 10);
  s.enqueue_population({"b"}, 20, 0);
  s.enqueue_population({"a", "b"}, 30, 0);  // neither checked before 0
  EXPECT_EQ(s.due(30), (Ids{"a"}));
}

TYPED_TEST(StateStoreContract, APopulationCycleLeavesTheCheckpointCandidate) {
  StateStore& s = this->store();
  s.enqueue({"x"}, "2026-11-01T00:00:00Z");
  auto c = s.enqueue_population({"x", "y"}, 0, 0);
  EXPECT_EQ(c.joined, 1);
  EXPECT_EQ(s.candidate_checkpoint(), "2026-11-01T00:00:00Z");
}

TYPED_TEST(StateStoreContract, OnlyMembersCheckedLongEnoughAgoAreDueAgain) {
  StateStore& s = this->store();
  s.enqueue_population({"a", "b", "c"}, 0, 0);
  EXPECT_EQ(s.claim(0), (Ids{"a", "b", "c"}));
  s.record_success("a", "unchanged", "", "", "", 100);
  s.record_success("b", "unchanged", "", "", "", 500);
  s.record_failure("c", "x", 500, RetrySchedule{100, 100, 5});
  s.enqueue_population({"a", "b", "c", "d"}, 1000, 1000 - 600);
  EXPECT_EQ(s.due(1000), (Ids{"c", "d", "a"}));
  EXPECT_EQ(s.pending_count(), 3u);
}

TYPED_TEST(StateStoreContract, DueIsLeastRecentlyCheckedFirstAndBounded) {
  StateStore& s = this->store();
  s.enqueue_population({"a", "b", "c", "d"}, 0, 0);
  EXPECT_EQ(s.claim(0, 3), (Ids{"a", "b", "c"}));
  s.record_success("a", "unchanged", "", "", "", 30);
  s.record_success("b", "unchanged", "", "", "", 10);
  s.record_success("c", "unchanged", "", "", "", 20);
  s.enqueue_population({"a", "b", "c", "d"}, 40, 40);
  EXPECT_EQ(s.due(40), (Ids{"d", "b", "c", "a"}));
  EXPECT_EQ(s.due(40, 2), (Ids{"d", "b"}));
  EXPECT_EQ(s.due(40, 0).size(), 4u);
  EXPECT_EQ(s.claim(40, 2), (Ids{"d", "b"}));
}

TYPED_TEST(StateStoreContract, ReListingKeepsBackoffAndQuarantine) {
  StateStore& s = this->store();
  RetrySchedule sched{1000, 4000, 2};
  s.enqueue_population({"p"}, 0, 0);
  ASSERT_EQ(s.claim(0), (Ids{"p"}));
  s.record_failure("p", "x", 0, sched);
  s.enqueue_population({"p"}, 10, 10);
  EXPECT_EQ(s.patient("p")->failures, 1);
  EXPECT_TRUE(s.due(10).empty());
  ASSERT_EQ(s.claim(1000), (Ids{"p"}));
  auto q = s.record_failure("p", "x", 1000, sched);
  ASSERT_TRUE(q.quarantined);
  s.enqueue_population({"p"}, 1500, 1500);
  EXPECT_TRUE(s.patient("p")->quarantined);
  s.enqueue_population({"p"}, q.next_retry_ms, q.next_retry_ms);
  EXPECT_FALSE(s.patient("p")->quarantined);
  EXPECT_EQ(s.due(q.next_retry_ms), (Ids{"p"}));
  // One more failure quarantines it again at once.
  ASSERT_EQ(s.claim(q.next_retry_ms), (Ids{"p"}));
  EXPECT_TRUE(s.record_failure("p", "x", q.next_retry_ms, sched).quarantined);
}

TYPED_TEST(StateStoreContract, AWorkersOwnScansAlwaysRun) {
  StateStore& s = this->store();
  int scans = 0;
  for (int cycle = 0; cycle < 2; ++cycle) {
    EXPECT_TRUE(s.scan_unless_covered(s.cycle_start(), [&] {
      ++scans;
      s.enqueue({"p"}, "c" + std::to_string(cycle));
    }));
  }
  EXPECT_EQ(scans, 2);
  EXPECT_EQ(s.candidate_checkpoint(), "c1");
}

// Leases: several workers on one PostgreSQL database.
class PostgresLeases : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!db_.available()) GTEST_SKIP() << kNoServer;
  }
  std::unique_ptr<PostgresStateStore> worker(const std::string& id, std::int64_t lease_ms = 1000) {
    return std::make_unique<PostgresStateStore>(StateStoreOptions{
        .location = db_.url(), .password_env = "", .worker_id = id, .lease_ms = lease_ms});
  }
  ScratchDatabase db_;
};

TEST_F(PostgresLeases, TwoWorkersNeverClaimTheSamePatient) {
  auto a = worker("a");
  auto b = worker("b");
  Ids all;
  for (int i = 0; i < 200; ++i) all.push_back("p" + std::to_string(i));
  a->enqueue(all, "c1");
  // Both claim in small batches at once, as the engines' threads do: in
  // rounds, so that a thread started late on a busy machine cannot find
  // everything taken (CI, 2026-12-06).
  std::vector<Ids> got(2);
  std::barrier round(2);
  auto take = [&round](PostgresStateStore& s, Ids& out) {
    for (;;) {
      round.arrive_and_wait();
      Ids batch = s.claim(0, 7);
      if (batch.empty()) {
        round.arrive_and_drop();
        return;
      }
      out.insert(out.end(), batch.begin(), batch.end());
    }
  };
  std::thread ta([&] { take(*a, got[0]); });
  std::thread tb([&] { take(*b, got[1]); });
  ta.join();
  tb.join();
  std::set<std::string> seen;
  for (const auto& ids : got) {
    for (const auto& id : ids) EXPECT_TRUE(seen.insert(id).second) << id << " claimed twice";
  }
  EXPECT_EQ(seen.size(), all.size());
  EXPECT_FALSE(got[0].empty());
  EXPECT_FALSE(got[1].empty());
}

TEST_F(PostgresLeases, AnExpiredLeaseIsReclaimedAndTheStaleOwnerIsRefused) {
  auto a = worker("a", 1000);
  auto b = worker("b", 1000);
  a->enqueue({"p"}, "c1");
  ASSERT_EQ(a->claim(0), (Ids{"p"}));
  EXPECT_TRUE(b->claim(999).empty());  // a holds it
  // b may not record what it does not hold.
  EXPECT_THROW(b->record_success("p", "written", "fb", "CarePlan/b", "1", 999),
               StateStoreLeaseLost);
  ASSERT_EQ(b->claim(1000), (Ids{"p"}));  // a's lease expired: b takes over
  b->record_success("p", "written", "fb", "CarePlan/b", "1", 1500);
  // a comes back from a long pause: neither result nor failure overwrites b's.
  EXPECT_THROW(a->record_success("p", "written", "fa", "CarePlan/a", "1", 1600),
               StateStoreLeaseLost);
  EXPECT_THROW(a->record_failure("p", "x", 1600, RetrySchedule{}), StateStoreLeaseLost);
  auto p = a->patient("p");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->plan_ref, "CarePlan/b");
  EXPECT_EQ(p->failures, 0);
  EXPECT_FALSE(p->pending);
}

TEST_F(PostgresLeases, TheCheckpointWaitsForLeasedPatients) {
  auto a = worker("a");
  auto b = worker("b");
  a->enqueue({"p1", "p2"}, "c1");
  ASSERT_EQ(a->claim(0, 1), (Ids{"p1"}));
  ASSERT_EQ(b->claim(0, 1), (Ids{"p2"}));
  a->record_success("p1", "written", "", "", "", 10);
  EXPECT_FALSE(a->try_advance_checkpoint());  // p2 is leased to b, not done
  EXPECT_FALSE(b->try_advance_checkpoint());
  b->record_success("p2", "written", "", "", "", 20);
  EXPECT_TRUE(a->try_advance_checkpoint());
  EXPECT_EQ(b->checkpoint(), "c1");
}

// New data for a patient while a worker processes older data: the worker's
// result is recorded, and the patient stays pending for the new data.
TEST_F(PostgresLeases, AChangeWhileLeasedKeepsThePatientPending) {
  auto a = worker("a");
  a->enqueue({"p"}, "c1");
  ASSERT_EQ(a->claim(0), (Ids{"p"}));
  a->enqueue({"p"}, "c2");
  a->record_success("p", "written", "", "CarePlan/1", "1", 10);
  EXPECT_TRUE(a->patient("p")->pending);
  EXPECT_FALSE(a->try_advance_checkpoint());
  EXPECT_EQ(a->claim(20), (Ids{"p"}));
}

// A worker that will not process a patient it claimed gives the lease back:
// another worker takes the patient at once, not when the lease expires.
TEST_F(PostgresLeases, AReleasedPatientIsClaimableAtOnceAndStaysPending) {
  auto a = worker("a", 300'000);
  auto b = worker("b", 300'000);
  a->enqueue({"p", "q"}, "c1");
  ASSERT_EQ(a->claim(0), (Ids{"p", "q"}));
  EXPECT_TRUE(b->claim(0).empty());
  a->release({"p"});
  b->release({"q"});  // not b's: changes nothing
  EXPECT_EQ(b->claim(0), (Ids{"p"}));
  EXPECT_TRUE(a->patient("p")->pending);
  a->record_success("q", "written", "", "CarePlan/q", "1", 10);
  EXPECT_FALSE(a->try_advance_checkpoint());  // p is leased to b
}

// Workers started together: the first to scan queues the changes, and a
// worker whose cycle began before that scan completed takes them as they
// are. Queued again, the patients already finished would be processed twice.
TEST_F(PostgresLeases, AScanCompletedAfterThisCycleBeganIsNotRepeated) {
  auto a = worker("a");
  auto b = worker("b");
  const std::int64_t a_cycle = a->cycle_start();
  EXPECT_TRUE(b->scan_unless_covered(b->cycle_start(), [&] { b->enqueue({"p"}, "c1"); }));
  bool ran = false;
  EXPECT_FALSE(a->scan_unless_covered(a_cycle, [&] { ran = true; }));
  EXPECT_FALSE(ran);
  // a's next cycle began after b's scan: a scans.
  EXPECT_TRUE(a->scan_unless_covered(a->cycle_start(), [&] { ran = true; }));
  EXPECT_TRUE(ran);
}

// b's cycle begins while a scans: b waits for a's scan, then takes it.
TEST_F(PostgresLeases, ScansNeverOverlapAndAWaitingWorkerTakesTheFinishedScan) {
  auto a = worker("a");
  auto b = worker("b");
  std::atomic<bool> a_scanning{false};
  std::atomic<bool> b_scanned{false};
  std::atomic<bool> overlapped{false};
  std::optional<bool> b_ran;
  std::thread tb;
  EXPECT_TRUE(a->scan_unless_covered(a->cycle_start(), [&] {
    a_scanning = true;
    const std::int64_t b_cycle = b->cycle_start();
    tb = std::thread([&, b_cycle] {
      b_ran = b->scan_unless_covered(b_cycle, [&] {
        b_scanned = true;
        if (a_scanning) overlapped = true;
      });
    });
    // b asks for the lock while a scans; it must wait for a to finish.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    a->enqueue({"p"}, "c1");
    a_scanning = false;
  }));
  tb.join();
  EXPECT_FALSE(overlapped);
  ASSERT_TRUE(b_ran.has_value());
  EXPECT_FALSE(*b_ran);
  EXPECT_FALSE(b_scanned);
}

TEST_F(PostgresLeases, AFailedScanCoversNothing) {
  auto a = worker("a");
  auto b = worker("b");
  const std::int64_t b_cycle = b->cycle_start();
  EXPECT_THROW(a->scan_unless_covered(a->cycle_start(),
                                      [] { throw std::runtime_error("server unreachable"); }),
               std::runtime_error);
  bool ran = false;
  EXPECT_TRUE(b->scan_unless_covered(b_cycle, [&] { ran = true; }));
  EXPECT_TRUE(ran);
  // And a's failed scan left the lock free: a scans again at once.
  EXPECT_TRUE(a->scan_unless_covered(a->cycle_start(), [] {}));
}

TEST_F(PostgresLeases, MigratesOnceAndRefusesANewerSchema) {
  { auto a = worker("a"); }
  { auto b = worker("b"); }  // already at the version: nothing applied twice
  PGconn* c = PQconnectdb(db_.url().c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK);
  PGresult* r = PQexec(c, "SELECT COUNT(*), MAX(version) FROM schema_version");
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
  EXPECT_EQ(std::stoi(PQgetvalue(r, 0, 0)), PostgresStateStore::schema_version());
  EXPECT_EQ(std::stoi(PQgetvalue(r, 0, 1)), PostgresStateStore::schema_version());
  PQclear(r);
  PQclear(PQexec(c, "INSERT INTO schema_version (version) VALUES (999)"));
  PQfinish(c);
  try {
    worker("c");
    FAIL() << "a newer schema was accepted";
  } catch (const StateStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("999"), std::string::npos) << e.what();
  }
}

TEST(PostgresUrl, ThePasswordNeverLeavesTheUrl) {
  EXPECT_EQ(redact_postgres_url("postgresql://mst:s3cret@db.example:5432/state"),
            "postgresql://mst:***@db.example:5432/state");
  EXPECT_EQ(redact_postgres_url("postgresql://mst@db.example/state"),
            "postgresql://mst@db.example/state");
  EXPECT_EQ(redact_postgres_url("postgresql:///state?host=/tmp"), "postgresql:///state?host=/tmp");
  EXPECT_TRUE(is_postgres_location("postgresql://x/y"));
  EXPECT_FALSE(is_postgres_location("state.db"));
}

TEST(PostgresUrl, AnUnreachableServerIsAClearErrorWithoutThePassword) {
  try {
    PostgresStateStore s(
        StateStoreOptions{.location = "postgresql://mst:s3cret@127.0.0.1:1/state?connect_timeout=2",
                          .password_env = "",
                          .worker_id = "w",
                          .lease_ms = 1000});
    FAIL();
  } catch (const StateStoreError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find("s3cret"), std::string::npos) << what;
    EXPECT_NE(what.find("postgresql://mst:***@127.0.0.1:1/state"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace mst::adapter
