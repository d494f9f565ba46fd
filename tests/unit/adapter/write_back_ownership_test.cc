// Issue #12, finding 1 and 3: a re-run never overwrites what a clinician
// took over, and never modifies a look-alike carrying the adapter's
// identifier. Runs the whole pipeline against an in-memory FHIR store; the
// same scenarios run against HAPI in tests/integration/e2e_test.py. Each
// runs in every CarePlan write mode (issue #17): ownership does not depend
// on how the plan reaches the server.
#include <gtest/gtest.h>

#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/pipeline/pipeline.h"
#include "mst/fhir/safe_text.h"
#include "support/fixture_store.h"

namespace mst::adapter {
namespace {

class WriteBackOwnership : public ::testing::TestWithParam<WriteMode>,
                           protected testing::FixtureStore {
 protected:
  PatientOutcome run() {
    PipelineSettings settings = testing::fixture_settings();
    settings.write.mode = GetParam();
    // Proves the staged modes never fall back on a transaction.
    store_.refuse_transactions = GetParam() != WriteMode::kTransaction;
    last_ = run_on_store(settings);
    return last_.outcome;
  }

  PatientOutcome first_run() {
    PatientOutcome o = run();
    EXPECT_EQ(o.kind, OutcomeKind::kWritten) << o.detail;
    return o;
  }

  // The first resource of `type` the adapter wrote (the fixture has a
  // CarePlan of its own).
  std::string first(const std::string& type) {
    for (const auto& ref : store_.all(type)) {
      if (store_.get(ref).find(std::string(testing::kCanonical) + "/NamingSystem/") !=
          std::string::npos)
        return ref;
    }
    ADD_FAILURE() << "the adapter wrote no " << type;
    return "";
  }

  // The CarePlan's references, as "Type/id".
  std::string plan_json() { return store_.get(first("CarePlan")); }

  PatientRun last_;
};

TEST_P(WriteBackOwnership, ARevisionUpdatesTheAdaptersUntouchedResourcesById) {
  ASSERT_EQ(first_run().kind, OutcomeKind::kWritten);
  const auto goals = store_.all("Goal");
  const std::string goal = goals.front();
  ASSERT_NE(store_.get(goal).find("\"versionId\":\"1\""), std::string::npos);
  worsen_pain();
  const PatientOutcome o = run();
  ASSERT_EQ(o.kind, OutcomeKind::kWritten) << o.detail;
  EXPECT_EQ(o.detail.find("left"), std::string::npos) << o.detail;
  EXPECT_EQ(store_.all("CarePlan").size(), 2u);  // the fixture's and ours
  // Updated in place: no second copy, a new version.
  EXPECT_GE(store_.all("Goal").size(), goals.size());
  EXPECT_NE(store_.get(goal).find("\"versionId\":\"2\""), std::string::npos) << store_.get(goal);
}

TEST_P(WriteBackOwnership, TheAdaptersOwnResourcesAreNotItsNextInput) {
  // The pull reads the patient's Goals (preferences) and CarePlans: the
  // adapter's own must not change the plan it writes next.
  ASSERT_EQ(first_run().kind, OutcomeKind::kWritten);
  const int writes = store_.write_requests();
  const PatientOutcome again = run();
  EXPECT_EQ(again.kind, OutcomeKind::kUnchanged) << again.detail;
  EXPECT_EQ(store_.write_requests(), writes);
}

TEST_P(WriteBackOwnership, WhatAClinicianTookOverIsLeftAloneAndLinked) {
  ASSERT_EQ(first_run().kind, OutcomeKind::kWritten);
  const std::string goal = first("Goal");
  const std::string request = first("ServiceRequest");
  const std::string team = first("CareTeam");
  edit(goal, "\"lifecycleStatus\":\"proposed\"",
       "\"lifecycleStatus\":\"accepted\",\"expressedBy\":{\"reference\":\"Practitioner/dr-1\"}");
  edit(goal, "\"note\":[", "\"note\":[{\"text\":\"Agreed with the patient on 21 Nov.\"},");
  edit(request, "\"status\":\"draft\"", "\"status\":\"active\"");
  edit(team, "\"status\":\"proposed\"", "\"status\":\"active\"");
  const std::string goal_before = store_.get(goal);
  const std::string request_before = store_.get(request);
  const std::string team_before = store_.get(team);
  worsen_pain();

  const PatientOutcome o = run();
  ASSERT_EQ(o.kind, OutcomeKind::kWritten) << o.detail;
  EXPECT_EQ(store_.get(goal), goal_before);
  EXPECT_EQ(store_.get(request), request_before);
  EXPECT_EQ(store_.get(team), team_before);
  EXPECT_NE(o.detail.find("left 3 resource(s)"), std::string::npos) << o.detail;
  EXPECT_NE(o.detail.find(goal + " (its lifecycleStatus is 'accepted')"), std::string::npos)
      << o.detail;
  // The revised plan points at them, and no copy was made.
  const std::string plan = plan_json();
  for (const auto& ref : {goal, request, team}) {
    EXPECT_NE(plan.find("\"reference\":\"" + ref + "\""), std::string::npos) << ref << plan;
  }
  EXPECT_EQ(store_.all("CareTeam").size(), 1u);
}

TEST_P(WriteBackOwnership, ANoteBySomeoneElseMarksAProposalAsTakenOver) {
  ASSERT_EQ(first_run().kind, OutcomeKind::kWritten);
  const std::string goal = first("Goal");
  edit(goal, "\"note\":[", "\"note\":[{\"text\":\"Discuss at MDT.\"},");
  const std::string before = store_.get(goal);
  worsen_pain();
  const PatientOutcome o = run();
  ASSERT_EQ(o.kind, OutcomeKind::kWritten) << o.detail;
  EXPECT_EQ(store_.get(goal), before);
  EXPECT_NE(o.detail.find("a note someone else wrote"), std::string::npos) << o.detail;
}

TEST_P(WriteBackOwnership, ADraftPlanAClinicianAnnotatedIsLeftUntouched) {
  ASSERT_EQ(first_run().kind, OutcomeKind::kWritten);
  const std::string plan = first("CarePlan");
  edit(plan, "\"note\":[", "\"note\":[{\"text\":\"Hold until MRI.\"},");
  const std::string before = store_.get(plan);
  worsen_pain();
  const PatientOutcome o = run();
  EXPECT_EQ(o.kind, OutcomeKind::kSkipped);
  EXPECT_EQ(o.skip_reason, SkipReason::kEdited);
  EXPECT_EQ(store_.get(plan), before);
}

TEST_P(WriteBackOwnership, ALookAlikePlanOfAnotherPatientIsReportedNeverMoved) {
  ASSERT_EQ(first_run().kind, OutcomeKind::kWritten);
  const std::string plan = first("CarePlan");
  // Another system's plan for another patient, carrying our identifier.
  edit(plan, "\"subject\":{\"reference\":\"Patient/mst-p02\"}",
       "\"subject\":{\"reference\":\"Patient/someone-else\"}");
  const std::string before = store_.get(plan);
  const int writes = store_.write_requests();
  worsen_pain();
  const PatientOutcome o = run();
  EXPECT_EQ(o.kind, OutcomeKind::kFailed);
  EXPECT_FALSE(o.retryable);
  EXPECT_EQ(o.skip_reason, SkipReason::kLookAlike);
  EXPECT_NE(o.detail.find(plan + " (its subject is Patient/someone-else)"), std::string::npos)
      << o.detail;
  // The log, the state file and /readyz show it through safe_text: the
  // reference must survive, or the operator cannot find the look-alike.
  EXPECT_NE(fhir::safe_text(o.detail).find(plan + " (its subject is Patient/someone-else)"),
            std::string::npos)
      << fhir::safe_text(o.detail);
  EXPECT_EQ(store_.get(plan), before);
  EXPECT_EQ(store_.write_requests(), writes);
}

TEST_P(WriteBackOwnership, APlanUnderOurIdentifierNotAuthoredByTheAdapterIsNeverModified) {
  ASSERT_EQ(first_run().kind, OutcomeKind::kWritten);
  const std::string plan = first("CarePlan");
  edit(plan, "\"author\":{\"reference\":\"Device/", "\"author\":{\"reference\":\"Practitioner/");
  const std::string before = store_.get(plan);
  worsen_pain();
  const PatientOutcome o = run();
  EXPECT_EQ(o.kind, OutcomeKind::kFailed);
  EXPECT_EQ(o.skip_reason, SkipReason::kLookAlike);
  EXPECT_NE(o.detail.find("its author is Practitioner/"), std::string::npos) << o.detail;
  EXPECT_EQ(store_.get(plan), before);
  // Nor is it dropped from the input unseen, as the adapter's own drafts are.
  ASSERT_TRUE(last_.derivation);
  std::string gaps;
  for (const auto& g : last_.derivation->considerations.data_gaps) gaps += g.detail + "\n";
  EXPECT_NE(gaps.find(plan + " carries the adapter's plan identifier but no Device wrote it"),
            std::string::npos)
      << gaps;
}

TEST_P(WriteBackOwnership, ALookAlikeGoalOfAnotherPatientStopsTheWrite) {
  ASSERT_EQ(first_run().kind, OutcomeKind::kWritten);
  std::string copy = store_.get(first("Goal"));
  copy.replace(copy.find("\"id\":\""), 6, "\"id\":\"planted-");
  copy.replace(copy.find("Patient/mst-p02"), 15, "Patient/someone-else");
  const std::string planted = store_.put(copy);
  const std::string before = store_.get(planted);
  worsen_pain();
  const PatientOutcome o = run();
  EXPECT_EQ(o.kind, OutcomeKind::kFailed);
  EXPECT_EQ(o.skip_reason, SkipReason::kLookAlike);
  EXPECT_NE(o.detail.find(planted), std::string::npos) << o.detail;
  EXPECT_EQ(store_.get(planted), before);
}

TEST_P(WriteBackOwnership, AReferralUnderOurIdentifierRequestedByAPersonIsLinkedNotWritten) {
  ASSERT_EQ(first_run().kind, OutcomeKind::kWritten);
  const std::string request = first("ServiceRequest");
  edit(request, "\"requester\":{\"reference\":\"Device/",
       "\"requester\":{\"reference\":\"Practitioner/");
  const std::string before = store_.get(request);
  worsen_pain();
  const PatientOutcome o = run();
  ASSERT_EQ(o.kind, OutcomeKind::kWritten) << o.detail;
  EXPECT_EQ(store_.get(request), before);
  EXPECT_NE(o.detail.find(request + " (its requester is Practitioner/"), std::string::npos)
      << o.detail;
}

TEST_P(WriteBackOwnership, ADeceasedPatientsDraftIsWithdrawnWhatAPersonTookOverIsLeft) {
  // Issue #11, item 5.
  ASSERT_EQ(first_run().kind, OutcomeKind::kWritten);
  const std::string plan = first("CarePlan");
  const std::string accepted = first("Goal");
  edit(accepted, "\"lifecycleStatus\":\"proposed\"", "\"lifecycleStatus\":\"accepted\"");
  const std::string accepted_before = store_.get(accepted);
  edit("Patient/mst-p02", "\"resourceType\":\"Patient\"",
       "\"resourceType\":\"Patient\",\"deceasedDateTime\":\"2026-11-19\"");
  const int writes = store_.write_requests();

  const PatientOutcome o = run();
  EXPECT_EQ(o.kind, OutcomeKind::kSkipped) << o.detail;
  EXPECT_EQ(o.skip_reason, SkipReason::kDeceased);
  EXPECT_EQ(o.plan_ref, plan);
  EXPECT_NE(o.detail.find("Withdrew the adapter's draft " + plan), std::string::npos) << o.detail;
  EXPECT_NE(o.detail.find(accepted + " (its lifecycleStatus is 'accepted')"), std::string::npos)
      << o.detail;
  EXPECT_GT(store_.write_requests(), writes);
  const int withdrawn = store_.write_requests();
  EXPECT_NE(store_.get(plan).find("\"status\":\"revoked\""), std::string::npos);
  EXPECT_NE(
      store_.get(plan).find("The patient is recorded as deceased, so the adapter withdrew it"),
      std::string::npos);
  for (const auto& goal : store_.all("Goal")) {
    if (goal == accepted) continue;
    EXPECT_NE(store_.get(goal).find("\"lifecycleStatus\":\"cancelled\""), std::string::npos)
        << store_.get(goal);
  }
  EXPECT_EQ(store_.get(accepted), accepted_before);
  for (const auto& request : store_.all("ServiceRequest")) {
    EXPECT_NE(store_.get(request).find("\"status\":\"revoked\""), std::string::npos);
  }
  bool recorded = false;
  for (const auto& p : store_.all("Provenance")) {
    recorded |= store_.get(p).find("Withdrawn on 2026-11-20") != std::string::npos &&
                store_.get(p).find("\"reference\":\"" + plan + "\"") != std::string::npos;
  }
  EXPECT_TRUE(recorded);

  // Once withdrawn, nothing more is written.
  const PatientOutcome again = run();
  EXPECT_EQ(again.skip_reason, SkipReason::kDeceased);
  EXPECT_EQ(store_.write_requests(), withdrawn);
}

INSTANTIATE_TEST_SUITE_P(EveryCarePlanMode, WriteBackOwnership,
                         ::testing::Values(WriteMode::kTransaction, WriteMode::kBatch,
                                           WriteMode::kIndividual),
                         [](const ::testing::TestParamInfo<WriteMode>& mode) {
                           return std::string(write_mode_name(mode.param));
                         });

}  // namespace
}  // namespace mst::adapter
