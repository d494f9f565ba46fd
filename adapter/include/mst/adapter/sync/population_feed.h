// A change feed for servers that cannot say what changed (no `_lastUpdated`):
// every cycle it lists the whole population as candidates for a re-pull.
// The state store's last-checked times, the re-pull interval and the budget
// decide who is pulled, round-robin; an unchanged member's re-pull writes
// nothing, because the plan it builds has the fingerprint of the plan
// already written.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mst/adapter/logger.h"
#include "mst/adapter/sync/sync_engine.h"
#include "mst/fhir/client.h"
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

// sync.changes=auto: the `_lastUpdated` feed when the server's
// CapabilityStatement supports it (supports_change_feed), else a Bulk Data
// export when one is given and the server declares `export` where it would
// be called (supports_bulk_export), else the re-pull. Decided in the first
// cycle that reads the CapabilityStatement, so a server down at start is a
// failed scan like any other; kept for the process's life.
class AutoChangeFeed : public ChangeFeed {
 public:
  AutoChangeFeed(std::function<fhir::Capabilities()> capabilities, ChangeFeed& last_updated,
                 ChangeFeed& repull, Logger& log);
  // Either feed may be null: a Group population has no `_lastUpdated` feed,
  // a List or file population no export. `group_export`: the export is
  // Group/[id]/$export.
  AutoChangeFeed(std::function<fhir::Capabilities()> capabilities, ChangeFeed* last_updated,
                 ChangeFeed* bulk_export, bool group_export, ChangeFeed& repull, Logger& log);

  ChangeScan changed_since(const std::optional<std::string>& since) override;

 private:
  std::function<fhir::Capabilities()> capabilities_;
  ChangeFeed* last_updated_;
  ChangeFeed* bulk_export_;
  bool group_export_;
  ChangeFeed& repull_;
  Logger& log_;
  ChangeFeed* chosen_ = nullptr;
};

}  // namespace mst::adapter
