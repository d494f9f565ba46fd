#include "mst/adapter/sync/population_feed.h"

#include "mst/adapter/sync/bulk_export_feed.h"
#include "mst/adapter/sync/fhir_change_feed.h"
#include "mst/fhir/datetime.h"

namespace mst::adapter {

PopulationFeed::PopulationFeed(MemberReader members, std::shared_ptr<fhir::Clock> clock)
    : members_(std::move(members)), clock_(std::move(clock)) {}

ChangeScan PopulationFeed::changed_since(const std::optional<std::string>&) {
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->now().time_since_epoch())
          .count();
  ChangeScan scan;
  scan.patient_ids = members_();
  scan.scan_time = fhir::DateTime::from_epoch_ms(now_ms, fhir::Precision::kSecond).to_string();
  scan.population = true;
  return scan;
}

AutoChangeFeed::AutoChangeFeed(std::function<fhir::Capabilities()> capabilities,
                               ChangeFeed& last_updated, ChangeFeed& repull, Logger& log)
    : AutoChangeFeed(std::move(capabilities), &last_updated, nullptr, false, repull, log) {}

AutoChangeFeed::AutoChangeFeed(std::function<fhir::Capabilities()> capabilities,
                               ChangeFeed* last_updated, ChangeFeed* bulk_export, bool group_export,
                               ChangeFeed& repull, Logger& log)
    : capabilities_(std::move(capabilities)),
      last_updated_(last_updated),
      bulk_export_(bulk_export),
      group_export_(group_export),
      repull_(repull),
      log_(log) {}

ChangeScan AutoChangeFeed::changed_since(const std::optional<std::string>& since) {
  if (!chosen_) {
    // `_lastUpdated` first: a few searches answered at once, where an export
    // is an asynchronous job that writes files; the export before the
    // re-pull, which reads every member whether it changed or not.
    const fhir::Capabilities caps = capabilities_();
    const char* mode = "repull";
    const char* reason =
        "the server offers neither _lastUpdated on every type the sync watches "
        "nor a Bulk Data export";
    chosen_ = &repull_;
    if (last_updated_ && supports_change_feed(caps)) {
      chosen_ = last_updated_;
      mode = "last-updated";
      reason = "the server lists _lastUpdated on every type the sync watches";
    } else if (bulk_export_ && supports_bulk_export(caps, group_export_)) {
      chosen_ = bulk_export_;
      mode = "bulk-export";
      reason = "the server declares the Bulk Data export operation";
    }
    log_.info("sync.changes", {{"mode", mode}, {"reason", reason}});
  }
  return chosen_->changed_since(since);
}

}  // namespace mst::adapter
