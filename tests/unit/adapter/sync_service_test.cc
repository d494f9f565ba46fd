#include "mst/adapter/sync/sync_service.h"

#include <gtest/gtest.h>

#include <sstream>

#include "mst/adapter/sync/population.h"
#include "mst/adapter/sync/state_store.h"
#include "mst/fhir/client_errors.h"
#include "support/fake_clock.h"

namespace mst::adapter {
namespace {

using std::chrono::milliseconds;

// A clock that raises the stop signal on its n-th sleep, as a SIGTERM
// arriving while the service waits for the next cycle would.
class StopWhileSleeping : public fhir::testing::FakeClock {
 public:
  StopWhileSleeping(std::atomic<bool>& stop, int at) : stop_(stop), at_(at) {}
  void sleep_for(milliseconds d) override {
    FakeClock::sleep_for(d);
    if (++slept_ == at_) stop_ = true;
  }

 private:
  std::atomic<bool>& stop_;
  int at_;
  int slept_ = 0;
};

class SyncServiceTest : public ::testing::Test {
 protected:
  SyncService service(SyncCycle cycle, SyncServiceOptions options) {
    return SyncService(std::move(cycle), stop, clock, log, options);
  }
  // A cycle that reports `failed` and raises stop on its `stop_at`-th run.
  SyncCycle counting(int failed, int stop_at) {
    return [this, failed, stop_at](const std::atomic<bool>&) {
      if (++cycles == stop_at) stop = true;
      SyncReport r;
      r.failed = failed;
      return r;
    };
  }

  std::atomic<bool> stop{false};
  std::shared_ptr<fhir::testing::FakeClock> clock = std::make_shared<fhir::testing::FakeClock>();
  std::ostringstream log_text;
  Logger log{log_text, LogLevel::kDebug, LogFormat::kText, [] { return std::int64_t{0}; }};
  int cycles = 0;
};

TEST_F(SyncServiceTest, OnceRunsOneCycleWithoutSleeping) {
  auto s = service(counting(2, 0), {.once = true, .interval = milliseconds(1000)});
  EXPECT_EQ(s.run(), 2);
  EXPECT_EQ(cycles, 1);
  EXPECT_TRUE(clock->sleeps.empty());
  EXPECT_EQ(log_text.str().find("sync.stopped"), std::string::npos);
}

TEST_F(SyncServiceTest, SleepsTheIntervalInShortStepsBetweenCycles) {
  auto s =
      service(counting(0, 3), {.interval = milliseconds(250), .sleep_step = milliseconds(100)});
  EXPECT_EQ(s.run(), 0);
  EXPECT_EQ(cycles, 3);
  // Two waits between three cycles; none after the cycle that saw the stop.
  const std::vector<milliseconds> expected = {milliseconds(100), milliseconds(100),
                                              milliseconds(50),  milliseconds(100),
                                              milliseconds(100), milliseconds(50)};
  EXPECT_EQ(clock->sleeps, expected);
  EXPECT_EQ(clock->elapsed(), milliseconds(500));
  EXPECT_NE(log_text.str().find("sync.stopped"), std::string::npos);
}

TEST_F(SyncServiceTest, StopDuringTheWaitEndsItAtTheNextStep) {
  auto stopping = std::make_shared<StopWhileSleeping>(stop, 3);
  SyncService s(counting(1, 0), stop, stopping, log,
                {.interval = milliseconds(60'000), .sleep_step = milliseconds(100)});
  EXPECT_EQ(s.run(), 1);
  EXPECT_EQ(cycles, 1);  // no cycle starts after the stop
  EXPECT_EQ(stopping->sleeps.size(), 3u);
  EXPECT_EQ(stopping->elapsed(), milliseconds(300));
  EXPECT_NE(log_text.str().find("sync.stopped"), std::string::npos);
}

TEST_F(SyncServiceTest, AFailedScanSkipsTheCycleAndIsNotReadyUntilOneSucceeds) {
  std::vector<Readiness> seen;
  SyncService* self = nullptr;
  auto s = service(
      [&](const std::atomic<bool>&) -> SyncReport {
        seen.push_back(self->readiness());
        if (++cycles == 2) throw PopulationError("Group/g1 could not be read");
        if (cycles == 3) stop = true;
        SyncReport r;
        r.failed = cycles;
        return r;
      },
      {.interval = milliseconds(0)});
  self = &s;
  EXPECT_EQ(s.run(), 3);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_TRUE(seen[0].ready);
  EXPECT_TRUE(seen[1].ready);
  EXPECT_FALSE(seen[2].ready);  // after the failed scan
  EXPECT_EQ(seen[2].reason, "Group/g1 could not be read");
  EXPECT_TRUE(s.readiness().ready);
  EXPECT_NE(log_text.str().find("sync.scan_failed"), std::string::npos);
  EXPECT_TRUE(clock->sleeps.empty());  // a zero interval does not sleep
}

TEST_F(SyncServiceTest, OnceRethrowsAFailedScan) {
  auto s = service([](const std::atomic<bool>&) -> SyncReport { throw PopulationError("no list"); },
                   {.once = true});
  EXPECT_THROW(s.run(), PopulationError);
  EXPECT_FALSE(s.readiness().ready);
  EXPECT_EQ(s.readiness().reason, "no list");
}

TEST_F(SyncServiceTest, EveryProjectErrorIsAFailedCycleLoggedWithItsKind) {
  // The server, the population: both may be mended before the next cycle.
  auto s = service(
      [&](const std::atomic<bool>&) -> SyncReport {
        if (++cycles == 1) {
          throw fhir::HttpStatusError("GET", "http://x/fhir/Condition", 503, "", "unavailable");
        }
        stop = true;
        throw PopulationError("'ids.txt' line 3: 'a b' is not a FHIR id");
      },
      {.interval = milliseconds(0)});
  EXPECT_EQ(s.run(), 0);
  EXPECT_EQ(cycles, 2);
  EXPECT_FALSE(s.readiness().ready);
  const std::string text = log_text.str();
  EXPECT_NE(text.find("kind=rejected retryable=true"), std::string::npos) << text;
  EXPECT_NE(text.find("kind=configuration"), std::string::npos) << text;
}

TEST_F(SyncServiceTest, OtherErrorsAreNotScanFailures) {
  auto s = service([](const std::atomic<bool>&) -> SyncReport { throw std::logic_error("bug"); },
                   {.interval = milliseconds(0)});
  EXPECT_THROW(s.run(), std::logic_error);
  EXPECT_TRUE(s.readiness().ready);
  auto broken = service(
      [](const std::atomic<bool>&) -> SyncReport {
        throw StateStoreError("state store: commit failed: disk I/O error");
      },
      {.interval = milliseconds(0)});
  EXPECT_THROW(broken.run(), StateStoreError);
}

}  // namespace
}  // namespace mst::adapter
