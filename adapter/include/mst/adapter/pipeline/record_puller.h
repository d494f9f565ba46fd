// Pulls one patient's record from a FHIR server: the Patient, their
// Conditions, the Observations the code tables can read (plus whole
// categories whose results often arrive text-coded), their CarePlans, their
// Procedures (recent spinal surgery, chemotherapy, radiotherapy) and their
// medication orders, administrations and statements with the Medications
// they name (current cancer treatment): detail::relevant_queries(), the
// list the change feed watches too.
// Searches run concurrently, or go as one batch (ReadMode), and page within
// bounds; what the bounds cut off is reported, never silently dropped.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/client.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/patient_record.h"

namespace mst::adapter {

// Observation categories read whole, whatever their code: hospitals record
// SINS, Bilsky ESCC, pain and performance status as local flowsheet rows or
// text only (fhir-coding.md §16), which a search by our codes cannot find.
// Laboratory and vital-sign results, the bulk of a chart, are searched by
// code only.
inline const std::vector<std::string>& default_observation_categories() {
  static const std::vector<std::string> kCategories = {"imaging", "exam", "survey", "procedure"};
  return kCategories;
}

// How the pull asks: one request per search, or every search in one batch
// Bundle (one request where there were ~15; R4 http.html#brules). `kAuto`
// is resolved by the caller: batch when the server declares the `batch`
// interaction.
enum class ReadMode { kAuto, kBatch, kSearches };
std::optional<ReadMode> parse_read_mode(std::string_view name);
// kBatch when `caps` declare the system `batch` interaction, else kSearches.
ReadMode auto_read_mode(const fhir::Capabilities& caps);

struct PullOptions {
  // kAuto reads as kSearches here.
  ReadMode read_mode = ReadMode::kSearches;
  fhir::SearchLimits limits;
  // Codes per Observation search: keeps request lines under the 8 KB many
  // servers (Tomcat, nginx) accept.
  std::size_t codes_per_search = 40;
  std::vector<std::string> observation_categories = default_observation_categories();
  // Put as `category` on every Observation search by code when not empty (a
  // comma-separated OR list): some EHRs refuse an Observation search without
  // a category (Epic R4, tests/tools/ehr_proxy/README.md). Categories read
  // whole above need not be listed.
  std::string code_search_category;
  // CarePlans with an identifier in this system are the adapter's own drafts,
  // not clinical input; they are left out of the record.
  std::string own_identifier_system;
};

struct PulledRecord {
  mappings::PatientRecord record;
  // One line each: searches cut short by a bound, outcome warnings the server
  // put in search results.
  std::vector<std::string> warnings;
  int searches = 0;
};

// Throws fhir::NotFound when the Patient does not exist, other
// fhir::ClientError subclasses when the server fails, and
// mappings::RecordError when the answers cannot form one patient's record.
PulledRecord pull_record(fhir::Client& client, const std::string& patient_id,
                         const mappings::CodeTables& tables, const PullOptions& options);

}  // namespace mst::adapter
