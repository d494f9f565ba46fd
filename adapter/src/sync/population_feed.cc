#include "mst/adapter/population_feed.h"

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

}  // namespace mst::adapter
