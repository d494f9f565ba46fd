// What load_pipeline_setup() makes of server.read_mode for the write-back's
// ownership searches.
#include "pipeline_setup.h"

#include <gtest/gtest.h>

#include <sstream>

#include "mst/adapter/config.h"

namespace mst::adapter {
namespace {

ReadMode writer_reads(const std::string& read_mode, const std::string& target) {
  std::ostringstream out, err;
  cli::Context context{out, err, {}, nullptr};
  AdapterConfig config;
  config.as_of = "2026-11-20";
  config.server.base_url = "http://ehr.test/fhir";
  config.server.read_mode = read_mode;
  config.target.base_url = target;
  return cli::load_pipeline_setup(config, context).settings.write.reads;
}

// One server: the writer reads as the pull does. A forced `batch` speaks for
// the source only: a separate target is batched when it declares batch.
TEST(PipelineSetup, TheWriterReadsAsThePullExceptABatchForcedOnTheSource) {
  EXPECT_EQ(writer_reads("batch", ""), ReadMode::kBatch);
  EXPECT_EQ(writer_reads("auto", ""), ReadMode::kAuto);
  EXPECT_EQ(writer_reads("searches", ""), ReadMode::kSearches);
  EXPECT_EQ(writer_reads("batch", "http://repository.test/fhir"), ReadMode::kAuto);
  EXPECT_EQ(writer_reads("searches", "http://repository.test/fhir"), ReadMode::kSearches);
  EXPECT_EQ(writer_reads("batch", "http://ehr.test/fhir"), ReadMode::kBatch);
}

}  // namespace
}  // namespace mst::adapter
