// sync.bulk_data=records: a full Bulk Data export's resources spilled to a
// SQLite file beside the sync state, keyed by patient, so that each
// patient's record comes from the export instead of ~17 searches. Only what
// the pull would read is kept (detail::RelevantResourceFilter); memory holds
// one bounded batch of lines, however large the export.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mst/adapter/pipeline/record_puller.h"
#include "mst/adapter/pipeline/search_terms.h"
#include "mst/fhir/json.h"

namespace Poco::Data {
class Session;
}

namespace mst::adapter {

struct ExportRecordOptions {
  // A patient with more resources than this is pulled instead: the pull's
  // own bound (SearchLimits::max_resources) would have cut the record short.
  std::size_t max_resources_per_patient = 5000;
  // Lines held before they are written out in one transaction.
  std::size_t batch_lines = 1000;
  std::size_t batch_bytes = std::size_t{4} << 20;
};

class ExportRecords {
 public:
  // Creates (or empties) the file at `path`; throws StateStoreError when it
  // cannot be opened. The file is removed when the object goes.
  ExportRecords(std::string path, const detail::RelevantResourceFilter& relevant,
                ExportRecordOptions options);
  ~ExportRecords();
  ExportRecords(const ExportRecords&) = delete;
  ExportRecords& operator=(const ExportRecords&) = delete;

  // Forgets the previous export; records are served again after finish().
  void reset();
  // One NDJSON line of a full export, already parsed as `resource`. Patients
  // are keyed by their id, Medications by theirs, everything else by its
  // subject or patient reference (none: not the pull's either, dropped).
  void add(std::string_view type, fhir::Node resource, std::string_view line);
  // The export is complete: writes the last batch.
  void finish();

  // The patient's record as the pull would build it, or nullopt when the
  // export cannot vouch for it whole (no finished export, no Patient line,
  // more resources than the bound, a medicationReference the export lacks):
  // then the caller pulls. Throws mappings::RecordError as the pull does.
  std::optional<PulledRecord> record(const std::string& patient_id);

  // A full export finished since the last reset(): records may be served.
  bool holds_export() const;
  std::size_t lines() const;
  // The most bytes of lines ever held in memory at once.
  std::size_t peak_buffered_bytes() const;

 private:
  struct Row {
    std::string key;  // patient id, or "Medication/<id>"
    std::string line;
  };
  void open();
  void flush();

  std::string path_;
  const detail::RelevantResourceFilter& relevant_;
  ExportRecordOptions options_;
  mutable std::mutex mu_;
  std::unique_ptr<Poco::Data::Session> session_;
  std::vector<Row> batch_;
  std::size_t batch_bytes_ = 0;
  std::size_t peak_bytes_ = 0;
  std::size_t lines_ = 0;
  bool finished_ = false;
};

}  // namespace mst::adapter
