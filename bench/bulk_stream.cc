// One full Bulk Data export read the way `sync --changes bulk-export
// --bulk-data records` reads it: kick-off, polls, every NDJSON file
// streamed through the adapter's HTTP client into the patient reader and
// the records spill. Run under /usr/bin/time -v by run-bulk-stream.sh,
// whose peak RSS must not grow with the export (docs/performance.md §6).
//
//   mst-bench-bulk-stream BASE_URL SCRATCH_FILE
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>

#include "mst/adapter/logger.h"
#include "mst/adapter/pipeline/search_terms.h"
#include "mst/adapter/sync/bulk_export_feed.h"
#include "mst/adapter/sync/export_records.h"
#include "mst/fhir/auth.h"
#include "mst/fhir/rest_client.h"
#include "mst/mappings/code_tables.h"

int main(int argc, char** argv) {
  using namespace mst;
  if (argc != 3) {
    std::cerr << "usage: mst-bench-bulk-stream BASE_URL SCRATCH_FILE\n";
    return 2;
  }
  try {
    const auto tables = mappings::CodeTables::load({MST_TABLES_DIR});
    const adapter::detail::RelevantResourceFilter relevant(tables, {});
    adapter::ExportRecords records(argv[2], relevant, {});
    auto clock = fhir::system_clock();
    fhir::TransportOptions transport_options;
    transport_options.request_timeout = std::chrono::minutes(10);
    fhir::RetryPolicy policy;
    policy.deadline = std::chrono::minutes(10);
    auto sender = std::make_shared<fhir::RetryingSender>(
        fhir::make_poco_transport(transport_options), policy, clock);
    fhir::RestClient client(fhir::RestClientOptions{argv[1]}, sender, fhir::make_no_auth());
    adapter::Logger log(std::cerr, adapter::LogLevel::kInfo, adapter::LogFormat::kText);
    adapter::BulkExportOptions options;
    options.min_poll = std::chrono::milliseconds(200);
    options.records = &records;
    adapter::BulkExportFeed feed(client, options, clock, log);
    const auto started = std::chrono::steady_clock::now();
    const adapter::ChangeScan scan = feed.changed_since(std::nullopt);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    std::printf("patients=%zu lines_kept=%zu peak_buffered_bytes=%zu seconds=%.1f\n",
                scan.patient_ids.size(), records.lines(), records.peak_buffered_bytes(),
                took.count());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mst-bench-bulk-stream: " << e.what() << "\n";
    return 1;
  }
}
