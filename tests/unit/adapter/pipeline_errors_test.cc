// How a server's refusals end one patient's run: as a failed outcome that
// says whether retrying may help. The sync retries the retryable ones with
// backoff and quarantines the rest at once (left out until their data
// changes), so a transient refusal marked final loses the patient.
#include <gtest/gtest.h>

#include "support/fixture_server.h"

namespace mst::adapter {
namespace {

using testing::PipelineFixture;

class PipelineErrors : public PipelineFixture {
 protected:
  PatientOutcome refused_write(int status) {
    server_->answer_writes(status, R"({"resourceType":"OperationOutcome","issue":[)"
                                   R"({"severity":"error","code":"processing"}]})");
    PatientOutcome o = run().outcome;
    EXPECT_EQ(o.kind, OutcomeKind::kFailed) << o.detail;
    EXPECT_EQ(server_->writes().size(), 1u) << "a transaction is not repeated by the client";
    return o;
  }
};

TEST_F(PipelineErrors, ThrottlingIsRetryable) {
  // 429 says "not now": the server did not act on the transaction.
  EXPECT_TRUE(refused_write(429).retryable);
}

TEST_F(PipelineErrors, RequestTimeoutIsRetryable) { EXPECT_TRUE(refused_write(408).retryable); }

TEST_F(PipelineErrors, ServerErrorsAreRetryable) { EXPECT_TRUE(refused_write(503).retryable); }

TEST_F(PipelineErrors, ARejectedTransactionIsFinal) {
  PatientOutcome o = refused_write(422);
  EXPECT_FALSE(o.retryable);
  EXPECT_EQ(o.error_kind, ErrorKind::kRejected);
}

}  // namespace
}  // namespace mst::adapter
