// sync.changes=bulk-export: finds changed patients with a FHIR Bulk Data
// export (Bulk Data Access IG v2) of the types the pull reads, `_since` the
// previous export's transactionTime. Kick-off, status polls within a bounded
// wait, NDJSON downloads read only for the patients they name; the per-
// patient pull and fingerprint do the rest. A failed export throws and the
// checkpoint stays where it was.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mst/adapter/logger.h"
#include "mst/adapter/sync/bulk_manifest.h"
#include "mst/adapter/sync/export_records.h"
#include "mst/adapter/sync/sync_engine.h"
#include "mst/fhir/client.h"
#include "mst/fhir/clock.h"

namespace mst::adapter {

struct BulkExportOptions {
  std::vector<std::string> types = default_types();
  // `_typeFilter` queries (parse_type_filters), one parameter each: the
  // IG's way to repeat it, which STU2 and later servers both read.
  std::vector<std::string> type_filters;
  std::string group_id;  // [base]/Group/id/$export; empty: [base]/Patient/$export
  std::chrono::milliseconds max_wait{std::chrono::hours(1)};  // kick-off to manifest
  std::chrono::milliseconds min_poll{std::chrono::seconds(2)};
  std::chrono::milliseconds max_poll{std::chrono::seconds(60)};
  std::size_t max_line_bytes = 16u << 20;
  std::string own_identifier_system;  // the adapter's own CarePlans are not changes
  // A Group export: reads the Group's current members (throws rather than
  // return part of them). Joiners are pulled whether or not the export
  // names them, leavers are no longer processed (ChangeScan::members).
  std::function<std::vector<std::string>()> members;
  // sync.bulk_data=records: a full export (no `_since`) also fills this with
  // the patients' records, so they need no pull. Emptied by every export.
  ExportRecords* records = nullptr;

  // Patient and every type the pull searches (detail::relevant_types()).
  static std::vector<std::string> default_types();
};

// True when the CapabilityStatement declares `export` where this feed would
// call it: on Group (group export) or at the system or Patient level.
bool supports_bulk_export(const fhir::Capabilities& caps, bool group);

class BulkExportFeed : public ChangeFeed {
 public:
  BulkExportFeed(fhir::Client& client, BulkExportOptions options,
                 std::shared_ptr<fhir::Clock> clock, Logger& log);

  // Without a checkpoint, a full export (no `_since`): every patient with
  // data of the exported types is a candidate once. With one, a resource
  // whose meta.lastUpdated is before `since` is no change: servers add the
  // resources that changed ones reference (HAPI does), and may add a
  // joiner's whole record, which `members` covers. Throws BulkExportError
  // or fhir::ClientError; the status URL is deleted whenever it was reached.
  ChangeScan changed_since(const std::optional<std::string>& since) override;

 private:
  std::string kick_off(const std::optional<std::string>& since);
  BulkManifest await_manifest(const std::string& status_url);
  void read_file(const BulkFile& file, bool authorize, NdjsonPatientReader& reader);
  void check_errors(const BulkManifest& manifest);
  void cancel(const std::string& status_url);

  fhir::Client& client_;
  BulkExportOptions options_;
  std::shared_ptr<fhir::Clock> clock_;
  Logger& log_;
};

}  // namespace mst::adapter
