// Sync without `_lastUpdated` (issue #17, item 4): the population comes from
// a Group (or List, or file) and every member is re-pulled on a budget,
// least recently checked first. The whole pipeline runs against an
// in-memory FHIR store; tests/integration/population_sync_test.py runs the
// same against HAPI.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/pipeline/pipeline.h"
#include "mst/adapter/sync/population.h"
#include "mst/adapter/sync/population_feed.h"
#include "mst/adapter/sync/sqlite_state_store.h"
#include "mst/adapter/sync/sync_engine.h"
#include "support/fixture_server.h"
#include "support/memory_fhir_server.h"

namespace mst::adapter {
namespace {

using testing::MemoryFhirServer;

class SteppingClock : public fhir::Clock {
 public:
  std::chrono::system_clock::time_point now() override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms));
  }
  std::chrono::steady_clock::time_point steady_now() override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now_ms));
  }
  void sleep_for(std::chrono::milliseconds d) override { now_ms += d.count(); }
  std::int64_t now_ms = 1'790'000'000'000;
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

class PopulationSync : public ::testing::Test {
 protected:
  PopulationSync()
      : tables_(mappings::CodeTables::load({testing::kTables}, testing::kCanonical)),
        settings_(testing::fixture_settings()) {}

  // The fixture patient mst-p02 again under `id`, every resource renamed.
  void add_patient(const std::string& id) {
    store_.put_bundle(replace_all(testing::read_file(testing::kFixture), testing::kPatient, id));
  }

  void put_group(const std::vector<std::string>& ids, const std::string& extra_member = "") {
    std::string members;
    for (const auto& id : ids) {
      members += (members.empty() ? "" : ",") + std::string(R"({"entity":{"reference":"Patient/)") +
                 id + "\"}}";
    }
    if (!extra_member.empty()) members += (members.empty() ? "" : ",") + extra_member;
    store_.put(R"({"resourceType":"Group","id":"spine-mdt","type":"person","actual":true,)"
               R"("member":[)" +
               members + "]}");
  }

  // Raises `id`'s pain score so that its next plan differs.
  void worsen_pain(const std::string& id) {
    std::string obs = store_.get("Observation/" + id + "-obs-pain");
    const auto at = obs.find("\"value\":4");
    ASSERT_NE(at, std::string::npos) << obs;
    obs.replace(at, 9, "\"value\":9");
    store_.put(obs);
  }

  SyncReport cycle(std::size_t budget = 0, std::int64_t repull_interval_ms = 0) {
    Pipeline pipeline(&store_, tables_, thresholds_, settings_);
    const auto source = PopulationSource::parse("group:spine-mdt");
    PopulationFeed feed(
        [&] {
          return read_population(source, store_,
                                 std::chrono::duration_cast<std::chrono::milliseconds>(
                                     clock_->now().time_since_epoch())
                                     .count());
        },
        clock_);
    SyncOptions options;
    options.concurrency = 1;  // the fake store is not thread-safe
    options.budget = budget;
    options.repull_interval_ms = repull_interval_ms;
    SyncEngine engine(
        state_, feed,
        [&](const std::string& id) {
          ++pulls_[id];
          clock_->now_ms += 5;  // a pull takes time: no two share a check time
          return pipeline.run_safely(id).outcome;
        },
        options, log_, metrics_, clock_);
    std::atomic<bool> stop{false};
    SyncReport r = engine.run_once(stop);
    clock_->now_ms += 60'000;
    return r;
  }

  MemoryFhirServer store_;
  mappings::CodeTables tables_;
  RuleThresholds thresholds_;
  PipelineSettings settings_;
  SqliteStateStore state_{":memory:"};
  std::ostringstream log_text_;
  Logger log_{log_text_, LogLevel::kDebug, LogFormat::kText, [] { return std::int64_t{0}; }};
  Metrics metrics_;
  std::shared_ptr<SteppingClock> clock_ = std::make_shared<SteppingClock>();
  std::map<std::string, int> pulls_;
};

TEST_F(PopulationSync, UnchangedMembersAreRePulledButWriteNothingAndAChangedOneGetsItsPlan) {
  for (const char* id : {"pop-a", "pop-b", "pop-c"}) add_patient(id);
  put_group({"pop-a", "pop-b", "pop-c"});
  auto first = cycle();
  EXPECT_EQ(first.discovered, 3);
  EXPECT_EQ(first.joined, 3);
  EXPECT_EQ(first.written, 3);
  EXPECT_EQ(store_.transactions(), 3);
  EXPECT_THAT(metrics_.render(), ::testing::HasSubstr("mst_sync_population_members 3"));
  EXPECT_FALSE(state_.candidate_checkpoint());  // a population cycle is no checkpoint

  auto again = cycle();
  EXPECT_EQ(again.processed, 3);  // every member was pulled again
  EXPECT_EQ(again.unchanged, 3);
  EXPECT_EQ(again.written, 0);
  EXPECT_EQ(store_.transactions(), 3);  // and nothing was written

  const std::string plan_b = state_.patient("pop-b")->plan_ref;
  const std::string version_b = state_.patient("pop-b")->plan_version;
  worsen_pain("pop-b");
  auto changed = cycle();
  EXPECT_EQ(changed.written, 1);
  EXPECT_EQ(changed.unchanged, 2);
  EXPECT_EQ(store_.transactions(), 4);
  EXPECT_EQ(state_.patient("pop-b")->last_outcome, "written");
  EXPECT_EQ(state_.patient("pop-b")->plan_ref, plan_b);  // revised in place
  EXPECT_NE(state_.patient("pop-b")->plan_version, version_b);
  EXPECT_EQ(state_.patient("pop-a")->last_outcome, "unchanged");
}

TEST_F(PopulationSync, TheBudgetBoundsPullsPerCycleAndCoversEveryoneInTurn) {
  const std::vector<std::string> ids = {"pop-1", "pop-2", "pop-3", "pop-4", "pop-5"};
  for (const auto& id : ids) add_patient(id);
  put_group(ids);
  std::vector<int> processed, pending;
  for (int i = 0; i < 5; ++i) {
    auto r = cycle(2);
    processed.push_back(r.processed);
    pending.push_back(r.pending);
  }
  EXPECT_EQ(processed, (std::vector<int>{2, 2, 2, 2, 2}));
  // After each cycle: the members not yet pulled in this round.
  EXPECT_EQ(pending, (std::vector<int>{3, 3, 3, 3, 3}));
  // Ten pulls over five members: each exactly twice, none starved.
  for (const auto& id : ids) EXPECT_EQ(pulls_[id], 2) << id;
  EXPECT_EQ(store_.transactions(), 5);  // one plan each; the second pulls wrote nothing
}

TEST_F(PopulationSync, TheRepullIntervalSpacesAMembersPulls) {
  for (const char* id : {"pop-a", "pop-b"}) add_patient(id);
  put_group({"pop-a", "pop-b"});
  std::vector<int> processed;
  // Cycles a minute apart; each member pulled again after 150 s.
  for (int i = 0; i < 4; ++i) processed.push_back(cycle(0, 150'000).processed);
  EXPECT_EQ(processed, (std::vector<int>{2, 0, 0, 2}));
  // A member who joins is pulled at once.
  add_patient("pop-c");
  put_group({"pop-a", "pop-b", "pop-c"});
  EXPECT_EQ(cycle(0, 150'000).processed, 1);
  EXPECT_EQ(pulls_["pop-c"], 1);
}

TEST_F(PopulationSync, AMemberWhoLeavesIsNoLongerProcessedAndTheirDraftIsLeftAlone) {
  for (const char* id : {"pop-a", "pop-b"}) add_patient(id);
  put_group({"pop-a", "pop-b"});
  cycle();
  const std::string plan_b = state_.patient("pop-b")->plan_ref;
  const std::string plan_json = store_.get(plan_b);
  ASSERT_FALSE(plan_json.empty());

  put_group({"pop-a"});
  worsen_pain("pop-b");  // would be a new plan, were pop-b still a member
  auto r = cycle();
  EXPECT_EQ(r.left, 1);
  EXPECT_EQ(r.processed, 1);
  EXPECT_EQ(pulls_["pop-b"], 1);
  EXPECT_FALSE(state_.patient("pop-b")->member);
  EXPECT_EQ(store_.get(plan_b), plan_json);  // neither revised nor withdrawn

  // Marked inactive in the Group counts as having left too.
  put_group({}, R"({"entity":{"reference":"Patient/pop-a"},"inactive":true})");
  auto r2 = cycle();
  EXPECT_EQ(r2.left, 1);
  EXPECT_EQ(r2.processed, 0);

  // Back in the Group: pulled again, and the change is planned.
  put_group({"pop-a", "pop-b"});
  auto back = cycle();
  EXPECT_EQ(back.joined, 2);
  EXPECT_EQ(pulls_["pop-b"], 2);
  EXPECT_EQ(state_.patient("pop-b")->last_outcome, "written");
}

TEST_F(PopulationSync, AMalformedGroupIsAClearErrorAndLosesNothing) {
  for (const char* id : {"pop-a", "pop-b"}) add_patient(id);
  put_group({"pop-a", "pop-b"});
  cycle();
  put_group({"pop-a"}, R"({"entity":{"display":"someone"}})");
  try {
    cycle();
    FAIL() << "a malformed Group was accepted";
  } catch (const PopulationError& e) {
    EXPECT_STREQ(e.what(), "Group/spine-mdt member 1 is not a literal Patient/<id> reference");
  }
  // Nobody left because of it, and nothing was written.
  EXPECT_TRUE(state_.patient("pop-b")->member);
  EXPECT_EQ(store_.transactions(), 2);
  // A Group that is gone is a server error, with the same guarantee.
  store_.remove("Group/spine-mdt");
  EXPECT_THROW(cycle(), fhir::NotFound);
  EXPECT_TRUE(state_.patient("pop-a")->member);
  EXPECT_TRUE(state_.patient("pop-b")->member);
}

}  // namespace
}  // namespace mst::adapter
