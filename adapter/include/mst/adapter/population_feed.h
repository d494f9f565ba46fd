// A change feed for servers that cannot say what changed (no `_lastUpdated`):
// every cycle it lists the whole population, each member due for a re-pull.
// The sync's budget and the state store's last-checked times spread the
// pulls round-robin; an unchanged member's re-pull writes nothing, because
// the plan it builds has the fingerprint of the plan already written.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mst/adapter/sync_engine.h"
#include "mst/fhir/clock.h"

namespace mst::adapter {

class PopulationFeed : public ChangeFeed {
 public:
  // `members` reads the population (patient ids); it throws rather than
  // return part of it.
  using MemberReader = std::function<std::vector<std::string>()>;
  PopulationFeed(MemberReader members, std::shared_ptr<fhir::Clock> clock);

  // Ignores `since`: every member is a candidate every cycle.
  ChangeScan changed_since(const std::optional<std::string>& since) override;

 private:
  MemberReader members_;
  std::shared_ptr<fhir::Clock> clock_;
};

}  // namespace mst::adapter
