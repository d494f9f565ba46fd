#include "mst/adapter/sync/sync_engine.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>

#include "mst/adapter/sync/sqlite_state_store.h"
#include "support/fake_clock.h"

namespace mst::adapter {
namespace {

using fhir::testing::FakeClock;
using std::chrono::milliseconds;

class FakeFeed : public ChangeFeed {
 public:
  ChangeScan changed_since(const std::optional<std::string>& since) override {
    seen_since.push_back(since.value_or("(none)"));
    ChangeScan s{next_ids, "t" + std::to_string(++scans)};
    s.members = members;
    next_ids.clear();
    return s;
  }
  std::vector<std::string> next_ids;
  std::optional<std::vector<std::string>> members;
  std::vector<std::string> seen_since;
  int scans = 0;
};

// An SQLite store that records what the engine gives back, and can stand
// for a database where another worker's scan covered this cycle's.
class SpyStore : public StateStore {
 public:
  void bind_to(const std::string& server, const std::string& shard, bool move_server) override {
    db.bind_to(server, shard, move_server);
  }
  std::optional<std::string> checkpoint() override { return db.checkpoint(); }
  std::optional<std::string> candidate_checkpoint() override { return db.candidate_checkpoint(); }
  void enqueue(const std::vector<std::string>& ids, const std::string& candidate) override {
    db.enqueue(ids, candidate);
  }
  PopulationChange enqueue_population(const std::vector<std::string>& members, std::int64_t now_ms,
                                      std::int64_t checked_before_ms) override {
    return db.enqueue_population(members, now_ms, checked_before_ms);
  }
  std::vector<std::string> due(std::int64_t now_ms, std::size_t limit) override {
    return db.due(now_ms, limit);
  }
  std::vector<std::string> claim(std::int64_t now_ms, std::size_t limit) override {
    return db.claim(now_ms, limit);
  }
  void release(const std::vector<std::string>& ids) override {
    released.insert(released.end(), ids.begin(), ids.end());
  }
  std::int64_t cycle_start() override { return db.cycle_start(); }
  bool scan_unless_covered(std::int64_t cycle_started, const std::function<void()>& scan) override {
    if (covered) return false;
    return db.scan_unless_covered(cycle_started, scan);
  }
  std::size_t pending_count() override { return db.pending_count(); }
  void record_success(const std::string& id, const std::string& outcome,
                      const std::string& fingerprint, const std::string& plan_ref,
                      const std::string& plan_version, std::int64_t checked_ms) override {
    db.record_success(id, outcome, fingerprint, plan_ref, plan_version, checked_ms);
  }
  PatientState record_failure(const std::string& id, const std::string& error, std::int64_t now_ms,
                              const RetrySchedule& schedule) override {
    return db.record_failure(id, error, now_ms, schedule);
  }
  bool try_advance_checkpoint() override { return db.try_advance_checkpoint(); }
  std::optional<PatientState> patient(const std::string& id) override { return db.patient(id); }
  std::vector<PatientState> quarantined() override { return db.quarantined(); }

  SqliteStateStore db{":memory:"};
  std::vector<std::string> released;
  bool covered = false;
};

struct Harness {
  SpyStore state;
  FakeFeed feed;
  std::ostringstream log_text;
  Logger log{log_text, LogLevel::kDebug, LogFormat::kText, [] { return std::int64_t{0}; }};
  Metrics metrics;
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::mutex mu;
  std::map<std::string, int> calls;
  std::map<std::string, OutcomeKind> results;  // default: written
  bool retryable = true;

  SyncEngine engine(SyncOptions opts = {}) {
    return SyncEngine(
        state, feed,
        [this](const std::string& id) {
          std::lock_guard lock(mu);
          ++calls[id];
          PatientOutcome o;
          o.kind = results.count(id) ? results[id] : OutcomeKind::kWritten;
          o.retryable = retryable;
          o.error_kind = ErrorKind::kUnreachable;
          o.detail = "server unreachable";
          o.plan_ref = "CarePlan/" + id;
          o.plan_version = "1";
          o.fingerprint = "fp-" + id;
          return o;
        },
        opts, log, metrics, clock);
  }
};

TEST(SyncEngine, ProcessesEveryChangedPatientOnceAndAdvancesTheCheckpoint) {
  Harness h;
  h.feed.next_ids = {"p1", "p2", "p1", "p3"};
  std::atomic<bool> stop{false};
  auto r = h.engine().run_once(stop);
  EXPECT_EQ(r.discovered, 3);
  EXPECT_EQ(r.written, 3);
  EXPECT_TRUE(r.checkpoint_advanced);
  EXPECT_EQ(h.state.checkpoint(), "t1");
  EXPECT_EQ(h.calls, (std::map<std::string, int>{{"p1", 1}, {"p2", 1}, {"p3", 1}}));
  EXPECT_EQ(h.metrics.counter("mst_patients_processed_total", "written"), 3u);
  EXPECT_EQ(h.state.patient("p2")->plan_ref, "CarePlan/p2");
  // The next cycle asks for changes since the checkpoint.
  h.engine().run_once(stop);
  EXPECT_EQ(h.feed.seen_since, (std::vector<std::string>{"(none)", "t1"}));
}

// Workers sharing PostgreSQL claim a few patients at a time: every patient
// is still processed once per cycle, within the budget, and a failure due
// again at once (no retry delay) waits for the next cycle instead of looping.
TEST(SyncEngine, ClaimsInBatchesProcessEachPatientOncePerCycle) {
  Harness h;
  h.feed.next_ids = {"p1", "p2", "p3", "p4", "p5"};
  h.results["p3"] = OutcomeKind::kFailed;
  std::atomic<bool> stop{false};
  SyncOptions opts;
  opts.concurrency = 2;
  opts.claim_batch = 2;
  opts.retry = RetrySchedule{0, 0, 100};
  auto r = h.engine(opts).run_once(stop);
  EXPECT_EQ(r.processed, 5);
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(h.calls,
            (std::map<std::string, int>{{"p1", 1}, {"p2", 1}, {"p3", 1}, {"p4", 1}, {"p5", 1}}));
  EXPECT_FALSE(r.checkpoint_advanced);  // p3 is pending

  h.calls.clear();
  h.results.clear();
  h.feed.next_ids = {"q1", "q2", "q3", "q4"};
  opts.budget = 3;
  r = h.engine(opts).run_once(stop);
  EXPECT_EQ(r.processed, 3);  // the budget holds across batches
  EXPECT_EQ(r.pending, 2);
}

// A patient claimed again in the cycle that recorded it (here a failure with
// no retry delay; on PostgreSQL also new data that came while it was leased)
// is not processed twice, and its lease goes back: held, no worker would
// take it until the lease expired.
TEST(SyncEngine, APatientDueAgainInItsCycleIsReleasedNotHeld) {
  Harness h;
  h.feed.next_ids = {"p1", "p2", "p3"};
  h.results["p3"] = OutcomeKind::kFailed;
  SyncOptions opts;
  opts.concurrency = 1;
  opts.claim_batch = 1;
  opts.retry = RetrySchedule{0, 0, 100};
  std::atomic<bool> stop{false};
  const auto r = h.engine(opts).run_once(stop);
  EXPECT_EQ(h.calls, (std::map<std::string, int>{{"p1", 1}, {"p2", 1}, {"p3", 1}}));
  EXPECT_EQ(r.processed, 3);
  ASSERT_FALSE(h.state.released.empty());
  for (const auto& id : h.state.released) EXPECT_EQ(id, "p3");
}

// Another worker's scan completed after this cycle began: this worker does
// not scan (its scan would queue again the patients that one finished) and
// processes what is pending.
TEST(SyncEngine, ACycleCoveredByAnotherWorkersScanProcessesWithoutScanning) {
  Harness h;
  h.state.db.enqueue({"p1", "p2"}, "t-other");
  h.state.covered = true;
  h.feed.next_ids = {"p1", "p2", "p3"};
  std::atomic<bool> stop{false};
  const auto r = h.engine().run_once(stop);
  EXPECT_EQ(h.feed.scans, 0);
  EXPECT_EQ(r.discovered, 0);
  EXPECT_EQ(h.calls, (std::map<std::string, int>{{"p1", 1}, {"p2", 1}}));
  EXPECT_TRUE(r.checkpoint_advanced);  // to the other worker's scan
  EXPECT_EQ(h.state.checkpoint(), "t-other");
  EXPECT_NE(h.log_text.str().find("sync.scan_shared"), std::string::npos);
}

// A change feed that also knows the population (a Group's bulk export):
// joiners are pulled without a change, leavers' changes are not taken, and
// a listed member without a change is not pulled again.
TEST(SyncEngine, AChangeScanWithMembersPullsJoinersAndDropsLeavers) {
  Harness h;
  std::atomic<bool> stop{false};
  h.feed.members = std::vector<std::string>{"a", "b"};
  h.feed.next_ids = {"a"};
  auto r = h.engine().run_once(stop);
  EXPECT_EQ(r.joined, 2);
  EXPECT_EQ(h.calls, (std::map<std::string, int>{{"a", 1}, {"b", 1}}));
  EXPECT_EQ(h.state.checkpoint(), "t1");

  h.calls.clear();
  h.feed.members = std::vector<std::string>{"b", "c"};  // a leaves, c joins
  h.feed.next_ids = {"a", "x"};                         // changes of non-members
  r = h.engine().run_once(stop);
  EXPECT_EQ(r.joined, 1);
  EXPECT_EQ(r.left, 1);
  EXPECT_EQ(r.discovered, 0);
  EXPECT_EQ(h.calls, (std::map<std::string, int>{{"c", 1}}));
  EXPECT_FALSE(h.state.patient("a")->member);
  EXPECT_FALSE(h.state.patient("x").has_value());
  EXPECT_EQ(h.state.checkpoint(), "t2");

  h.calls.clear();
  h.feed.next_ids = {"b"};
  h.engine().run_once(stop);
  EXPECT_EQ(h.calls, (std::map<std::string, int>{{"b", 1}}));
}

TEST(SyncEngine, AFailureHoldsTheCheckpointUntilItsRetrySucceeds) {
  Harness h;
  h.feed.next_ids = {"good", "flaky"};
  h.results["flaky"] = OutcomeKind::kFailed;
  std::atomic<bool> stop{false};
  SyncOptions opts;
  opts.retry = {1000, 8000, 5};
  auto r1 = h.engine(opts).run_once(stop);
  EXPECT_EQ(r1.failed, 1);
  EXPECT_FALSE(r1.checkpoint_advanced);
  EXPECT_EQ(r1.waiting, 1);
  // Not due yet: nothing is retried.
  auto r2 = h.engine(opts).run_once(stop);
  EXPECT_EQ(r2.processed, 0);
  h.clock->advance(milliseconds(1000));
  h.results["flaky"] = OutcomeKind::kWritten;
  auto r3 = h.engine(opts).run_once(stop);
  EXPECT_EQ(r3.written, 1);
  EXPECT_TRUE(r3.checkpoint_advanced);
  EXPECT_EQ(h.state.checkpoint(), "t3");
  EXPECT_EQ(h.calls["good"], 1);
  EXPECT_EQ(h.calls["flaky"], 2);
}

TEST(SyncEngine, NonRetryableFailuresAreQuarantinedWithoutBlockingOthers) {
  Harness h;
  h.feed.next_ids = {"bad", "ok"};
  h.results["bad"] = OutcomeKind::kFailed;
  h.retryable = false;
  std::atomic<bool> stop{false};
  auto r = h.engine().run_once(stop);
  EXPECT_EQ(r.quarantined, 1);
  EXPECT_TRUE(r.checkpoint_advanced);
  EXPECT_EQ(h.state.quarantined().at(0).patient_id, "bad");
  EXPECT_NE(h.log_text.str().find("patient.quarantined patient=bad"), std::string::npos);
}

// Like FhirChangeFeed: every scan reports every change after `since`, so a
// change stays visible to later scans until the scan start moves past it.
class RescanningFeed : public ChangeFeed {
 public:
  ChangeScan changed_since(const std::optional<std::string>& since) override {
    seen_since.push_back(since.value_or("(none)"));
    ChangeScan s;
    for (const auto& [time, id] : changes) {
      if (!since || time > *since) s.patient_ids.push_back(id);
    }
    s.scan_time = next_scan_time();
    return s;
  }
  std::string next_scan_time() {
    char t[16];
    std::snprintf(t, sizeof t, "T%04d", 10 * ++scans);
    return t;
  }
  std::vector<std::pair<std::string, std::string>> changes;  // (time, patient id)
  std::vector<std::string> seen_since;
  int scans = 0;
};

struct RescanHarness : Harness {
  RescanningFeed rescan;
  SyncEngine rescan_engine(SyncOptions opts) {
    return SyncEngine(
        state, rescan,
        [this](const std::string& id) {
          std::lock_guard lock(mu);
          ++calls[id];
          PatientOutcome o;
          o.kind = results.count(id) ? results[id] : OutcomeKind::kWritten;
          o.retryable = true;
          o.error_kind = ErrorKind::kUnreachable;
          o.detail = "server unreachable";
          return o;
        },
        opts, log, metrics, clock);
  }
};

// A scan finds the same changes again while the checkpoint is held; that is
// not new data, so it must not reset a failing patient's backoff or failure
// count, nor make finished patients run again.
TEST(SyncEngine, ARescanOfTheSameChangesKeepsBackoffAndRedoesNothing) {
  RescanHarness h;
  h.rescan.changes = {{"T0001", "good"}, {"T0001", "flaky"}};
  h.results["flaky"] = OutcomeKind::kFailed;
  SyncOptions opts;
  opts.retry = {60'000, 600'000, 5};
  std::atomic<bool> stop{false};
  auto r1 = h.rescan_engine(opts).run_once(stop);
  EXPECT_EQ(r1.failed, 1);
  h.clock->advance(milliseconds(1000));  // flaky's retry is 59 s away
  auto r2 = h.rescan_engine(opts).run_once(stop);
  EXPECT_EQ(r2.processed, 0);
  EXPECT_EQ(h.calls["good"], 1);
  EXPECT_EQ(h.calls["flaky"], 1);
  EXPECT_EQ(h.state.patient("flaky")->failures, 1);
  // The second scan started where the first ended, not at the held checkpoint.
  EXPECT_EQ(h.rescan.seen_since, (std::vector<std::string>{"(none)", "T0010"}));
}

TEST(SyncEngine, APatientThatKeepsFailingIsQuarantinedAndReleasesTheCheckpoint) {
  RescanHarness h;
  h.rescan.changes = {{"T0001", "good"}, {"T0001", "flaky"}};
  h.results["flaky"] = OutcomeKind::kFailed;
  SyncOptions opts;
  opts.retry = {1000, 8000, 3};
  std::atomic<bool> stop{false};
  SyncReport last;
  for (int cycle = 0; cycle < 6 && h.state.quarantined().empty(); ++cycle) {
    last = h.rescan_engine(opts).run_once(stop);
    h.clock->advance(milliseconds(10'000));  // past any backoff
  }
  ASSERT_EQ(h.state.quarantined().size(), 1u);
  EXPECT_EQ(h.calls["flaky"], 3);
  EXPECT_EQ(h.calls["good"], 1);
  EXPECT_TRUE(last.checkpoint_advanced);
  EXPECT_TRUE(h.state.checkpoint().has_value());
  // New data for the quarantined patient takes it back.
  h.rescan.changes.push_back({"T0999", "flaky"});
  h.results["flaky"] = OutcomeKind::kWritten;
  auto r = h.rescan_engine(opts).run_once(stop);
  EXPECT_EQ(r.written, 1);
  EXPECT_TRUE(h.state.quarantined().empty());
  EXPECT_EQ(h.calls["good"], 1);
}

TEST(SyncEngine, ShardsSplitPatientsWithoutOverlap) {
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.push_back("mst-gen-" + std::to_string(i));
  std::map<std::string, int> total;
  for (int shard = 0; shard < 3; ++shard) {
    Harness h;
    h.feed.next_ids = ids;
    SyncOptions opts;
    opts.shard_index = shard;
    opts.shard_count = 3;
    std::atomic<bool> stop{false};
    auto r = h.engine(opts).run_once(stop);
    EXPECT_GT(r.processed, 40);
    for (const auto& [id, n] : h.calls) total[id] += n;
  }
  EXPECT_EQ(total.size(), ids.size());
  for (const auto& [id, n] : total) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(shard_of("mst-p01", 4), shard_of("mst-p01", 4));
}

TEST(SyncEngine, StopFinishesInFlightWorkAndKeepsTheRestPending) {
  Harness h;
  for (int i = 0; i < 20; ++i) h.feed.next_ids.push_back("p" + std::to_string(i));
  std::atomic<bool> stop{false};
  int seen = 0;
  SyncOptions opts;
  opts.concurrency = 1;
  SyncEngine engine(
      h.state, h.feed,
      [&](const std::string& id) {
        if (++seen == 5) stop = true;
        PatientOutcome o;
        o.kind = OutcomeKind::kWritten;
        o.patient_id = id;
        return o;
      },
      opts, h.log, h.metrics, h.clock);
  auto r = engine.run_once(stop);
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.processed, 5);
  EXPECT_FALSE(r.checkpoint_advanced);
  EXPECT_EQ(h.state.pending_count(), 15u);
}

TEST(SyncEngine, AProcessorThatThrowsIsAFailureNotACrash) {
  Harness h;
  h.feed.next_ids = {"p1"};
  std::atomic<bool> stop{false};
  SyncEngine engine(
      h.state, h.feed,
      [](const std::string&) -> PatientOutcome { throw std::runtime_error("boom"); }, {}, h.log,
      h.metrics, h.clock);
  auto r = engine.run_once(stop);
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(h.state.patient("p1")->last_error, "boom");
}

}  // namespace
}  // namespace mst::adapter
