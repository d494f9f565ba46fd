// The sync's change feed over a FHIR server: the pull's own searches
// (detail::relevant_queries()) by `_lastUpdated` since the checkpoint, and on
// a first run the patients with a spinal or bone metastasis Condition. Reads
// only subjects, not clinical data.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mst/adapter/pipeline/record_puller.h"
#include "mst/adapter/sync/sync_engine.h"
#include "mst/fhir/client.h"
#include "mst/fhir/clock.h"
#include "mst/mappings/code_tables.h"

namespace mst::adapter {

struct ChangeFeedOptions {
  fhir::SearchLimits limits{1000, 1'000'000};
  std::size_t codes_per_search = 40;
  int overlap_s = 120;  // read this far before the checkpoint: clocks drift, commits lag
  std::vector<std::string> observation_categories = default_observation_categories();
  std::string own_identifier_system;  // the adapter's own CarePlans are not changes
};

// True when the CapabilityStatement lists `_lastUpdated` as a search
// parameter of every type the change feed searches with it: only then can
// the feed see every change (a server may ignore a parameter it does not
// support and answer everything, or reject it), and when the server takes
// those searches without a patient.
bool supports_change_feed(const fhir::Capabilities& caps);

// True unless the server declares that Condition searches need more than a
// code (a patient, as Epic and Oracle do): the population search
// (sync.population=search) finds patients by their diagnosis codes alone.
bool supports_population_search(const fhir::Capabilities& caps);

class FhirChangeFeed : public ChangeFeed {
 public:
  FhirChangeFeed(fhir::Client& client, const mappings::CodeTables& tables,
                 ChangeFeedOptions options, std::shared_ptr<fhir::Clock> clock);

  // Throws fhir::ClientError when a search fails, and SearchIncomplete when
  // a bound cut a search short: a partial scan must not move the checkpoint.
  ChangeScan changed_since(const std::optional<std::string>& since) override;

 private:
  fhir::Client& client_;
  const mappings::CodeTables& tables_;
  ChangeFeedOptions options_;
  std::shared_ptr<fhir::Clock> clock_;
};

}  // namespace mst::adapter
