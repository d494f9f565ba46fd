#include "mst/adapter/population_feed.h"

#include "mst/adapter/fhir_change_feed.h"
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
    : capabilities_(std::move(capabilities)),
      last_updated_(last_updated),
      repull_(repull),
      log_(log) {}

ChangeScan AutoChangeFeed::changed_since(const std::optional<std::string>& since) {
  if (!chosen_) {
    const bool supported = supports_change_feed(capabilities_());
    chosen_ = supported ? &last_updated_ : &repull_;
    log_.info("sync.changes",
              {{"mode", supported ? "last-updated" : "repull"},
               {"reason", supported ? "the server lists _lastUpdated on every type the sync watches"
                                    : "the server does not list _lastUpdated on every type the "
                                      "sync watches"}});
  }
  return chosen_->changed_since(since);
}

}  // namespace mst::adapter
