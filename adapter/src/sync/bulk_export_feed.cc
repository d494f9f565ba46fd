#include "mst/adapter/sync/bulk_export_feed.h"

#include <algorithm>

#include "mst/adapter/pipeline/search_terms.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/resource.h"
#include "mst/fhir/retry_policy.h"
#include "mst/fhir/safe_text.h"
#include "mst/fhir/url.h"
#include "mst/mappings/extract.h"

namespace mst::adapter {

namespace {

using std::chrono::milliseconds;

// What an error answer says, in the fixed vocabulary of an OperationOutcome.
std::string outcome_of(const fhir::HttpResponse& r) {
  try {
    auto doc = fhir::JsonDocument::parse(r.body);
    return fhir::summarize_issues(fhir::read_outcome_issues(doc.root()));
  } catch (const fhir::Error&) {
    return {};
  }
}

[[noreturn]] void fail(const std::string& step, const fhir::HttpResponse& r) {
  std::string outcome = outcome_of(r);
  throw BulkExportError("bulk export " + step + " failed: HTTP " + std::to_string(r.status) +
                        (outcome.empty() ? "" : " (" + outcome + ")") +
                        "; the sync checkpoint stays where it was");
}

// meta.lastUpdated strictly before `since`; a resource without one counts
// as changed.
bool modified_before(fhir::Node resource, const fhir::DateTime& since) {
  const auto updated = fhir::read_datetime(resource.object("meta")["lastUpdated"]);
  return updated && updated->end_ms() <= since.start_ms();
}

}  // namespace

std::vector<std::string> BulkExportOptions::default_types() {
  std::vector<std::string> types{"Patient"};
  for (auto& type : detail::relevant_types()) types.push_back(std::move(type));
  return types;
}

bool supports_bulk_export(const fhir::Capabilities& caps, bool group) {
  auto declared_on = [&](std::string_view type) {
    auto it = caps.resources.find(type);
    return it != caps.resources.end() && it->second.operations.contains("export");
  };
  if (group) return declared_on("Group");
  return declared_on("Patient") || caps.system_operations.contains("export");
}

BulkExportFeed::BulkExportFeed(fhir::Client& client, BulkExportOptions options,
                               std::shared_ptr<fhir::Clock> clock, Logger& log)
    : client_(client), options_(std::move(options)), clock_(std::move(clock)), log_(log) {}

ChangeScan BulkExportFeed::changed_since(const std::optional<std::string>& since) {
  ChangeScan scan;
  // Membership before the export: a member who joins between the two is
  // pulled next cycle, not lost.
  if (options_.members) scan.members = options_.members();
  const std::optional<fhir::DateTime> since_time =
      since ? fhir::DateTime::parse(*since) : std::nullopt;
  const std::string status_url = kick_off(since);
  std::size_t unchanged = 0;
  // Only a full export holds whole records; a `_since` export holds the
  // changes, and its patients are pulled.
  ExportRecords* records = since ? nullptr : options_.records;
  if (options_.records) options_.records->reset();
  try {
    const BulkManifest manifest = await_manifest(status_url);
    check_errors(manifest);
    std::set<std::string> ids;
    std::size_t lines = 0;
    for (const BulkFile& file : manifest.output) {
      NdjsonPatientReader reader(
          file.type + " file " + fhir::redact_url(file.url),
          [&](std::string_view type, fhir::Node n) {
            if (type == "CarePlan" && detail::is_adapter_plan(n, options_.own_identifier_system))
              return false;
            if (since_time && modified_before(n, *since_time)) {
              ++unchanged;
              return false;
            }
            // The adapter's own Goals and ServiceRequests are not input.
            return mappings::is_plan_input(type, n);
          },
          options_.max_line_bytes);
      if (records) {
        reader.set_sink([records](std::string_view type, fhir::Node n, std::string_view line) {
          records->add(type, n, line);
        });
      }
      read_file(file, manifest.requires_access_token, reader);
      ids.insert(reader.patient_ids().begin(), reader.patient_ids().end());
      lines += reader.lines();
    }
    scan.patient_ids.assign(ids.begin(), ids.end());
    if (records) records->finish();
    // The IG's rule: the next export asks for changes since this one's
    // transactionTime, the server's own clock, not ours.
    scan.scan_time = manifest.transaction_time;
    log_.info("sync.bulk_export", {{"since", since.value_or("(full export)")},
                                   {"files", std::to_string(manifest.output.size())},
                                   {"resources", std::to_string(lines)},
                                   {"not_changed_since", std::to_string(unchanged)},
                                   {"patients", std::to_string(scan.patient_ids.size())},
                                   {"records_kept", std::to_string(records ? records->lines() : 0)},
                                   {"transaction_time", manifest.transaction_time}});
  } catch (...) {
    cancel(status_url);
    throw;
  }
  cancel(status_url);
  return scan;
}

std::string BulkExportFeed::kick_off(const std::optional<std::string>& since) {
  std::string types;
  for (const auto& t : options_.types) types += (types.empty() ? "" : ",") + t;
  fhir::QueryParams params{{"_type", types}};
  for (const auto& filter : options_.type_filters) params.emplace_back("_typeFilter", filter);
  if (since) params.emplace_back("_since", *since);
  const std::string path =
      options_.group_id.empty() ? "/Patient/$export" : "/Group/" + options_.group_id + "/$export";
  fhir::HttpRequest request{"GET",
                            client_.base_url() + path + "?" + fhir::encode_query(params),
                            {{"Accept", "application/fhir+json"}, {"Prefer", "respond-async"}},
                            "",
                            {}};
  const fhir::HttpResponse r = client_.exchange(request, true);
  if (r.status != 202) fail("kick-off (" + path + ")", r);
  const std::string_view location = r.header("content-location").value_or("");
  std::string url = fhir::resolve_url(client_.base_url(), location);
  if (location.empty() || !fhir::is_http_url(url)) {
    throw BulkExportError(
        "bulk export kick-off was accepted without a Content-Location status URL");
  }
  return url;
}

BulkManifest BulkExportFeed::await_manifest(const std::string& status_url) {
  const auto started = clock_->steady_now();
  milliseconds backoff = options_.min_poll;
  for (;;) {
    const fhir::HttpResponse r =
        client_.exchange({"GET", status_url, {{"Accept", "application/json"}}, "", {}}, true);
    if (r.status == 200) {
      try {
        auto doc = fhir::JsonDocument::parse(r.body);
        return parse_manifest(doc.root());
      } catch (const fhir::Error& e) {
        throw BulkExportError(std::string("bulk export manifest is not JSON: ") + e.what());
      }
    }
    if (r.status != 202) fail("status poll", r);
    // In progress: wait as the server asks, within our own bounds.
    milliseconds wait = backoff;
    if (auto after = r.header("retry-after")) {
      if (auto ms = fhir::parse_retry_after(*after, clock_->now())) wait = *ms;
    }
    wait = std::clamp(wait, options_.min_poll, options_.max_poll);
    backoff = std::min(backoff * 2, options_.max_poll);
    const auto waited = std::chrono::duration_cast<milliseconds>(clock_->steady_now() - started);
    if (waited + wait > options_.max_wait) {
      throw BulkExportError("bulk export not complete after " + fhir::format_duration(waited) +
                            " (sync.bulk_max_wait_s); cancelled, the sync checkpoint stays");
    }
    clock_->sleep_for(wait);
  }
}

void BulkExportFeed::read_file(const BulkFile& file, bool authorize, NdjsonPatientReader& reader) {
  // Streamed: the reader holds one line, whatever the file's size. A
  // connection lost part-way is not resumed, since the reader and the records
  // have taken whole lines already: ServerUnreachable fails the scan, and
  // with it the round, so the checkpoint stays, the records are not served
  // (never finished) and the next round exports again.
  const fhir::HttpResponse r = client_.exchange_streamed(
      {"GET", file.url, {{"Accept", "application/fhir+ndjson"}}, "", {}}, authorize,
      [&reader](std::string_view piece) { reader.feed(piece); });
  if (r.status != 200) fail("download of a " + file.type + " file", r);
  reader.finish();
}

void BulkExportFeed::check_errors(const BulkManifest& manifest) {
  // Error files hold OperationOutcomes; warnings and information are
  // reported, an error means resources are missing from the export and a
  // change could go unseen.
  std::vector<fhir::OutcomeIssue> issues;
  for (const BulkFile& file : manifest.error) {
    NdjsonPatientReader reader(
        "error file " + fhir::redact_url(file.url),
        [&](std::string_view type, fhir::Node n) {
          if (type == "OperationOutcome") {
            for (auto& issue : fhir::read_outcome_issues(n)) issues.push_back(std::move(issue));
          }
          return false;
        },
        options_.max_line_bytes);
    read_file(file, manifest.requires_access_token, reader);
  }
  if (fhir::has_errors(issues)) {
    throw BulkExportError("bulk export reported errors (" + fhir::summarize_issues(issues) +
                          "); the sync checkpoint stays where it was");
  }
  if (!issues.empty()) {
    log_.warn("sync.bulk_export_warnings", {{"issues", fhir::summarize_issues(issues)}});
  }
}

void BulkExportFeed::cancel(const std::string& status_url) {
  // Polite cleanup (the IG's DELETE on the status URL): the server may free
  // the files now. A refusal costs nothing but the server's disk; HAPI
  // answers 404 for an export already complete, which is no refusal.
  try {
    const fhir::HttpResponse r = client_.exchange({"DELETE", status_url, {}, "", {}}, true);
    if (r.status >= 300 && r.status != 404 && r.status != 410) {
      log_.warn("sync.bulk_export_cleanup",
                {{"status", std::to_string(r.status)}, {"url", fhir::redact_url(status_url)}});
    }
  } catch (const fhir::ClientError& e) {
    log_.warn("sync.bulk_export_cleanup", {{"error", fhir::safe_text(e.what())}});
  }
}

}  // namespace mst::adapter
