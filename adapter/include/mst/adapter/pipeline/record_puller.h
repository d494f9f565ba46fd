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

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mst/adapter/pipeline/read_mode.h"
#include "mst/adapter/pipeline/search_terms.h"
#include "mst/fhir/client.h"
#include "mst/fhir/client_errors.h"
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

// server.read_mode against one server, shared by the calls that read it:
// kAuto is batch when the server's CapabilityStatement declares it (asked
// until the server answers, at most once a minute: searches meanwhile), and
// searches for good once the server refuses a batch of reads or has no
// statement. A configured kBatch or kSearches is used as it is, never
// second-guessed.
class ReadModeChoice {
 public:
  using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;
  explicit ReadModeChoice(ReadMode configured, SteadyNow now = &std::chrono::steady_clock::now)
      : configured_(configured), now_(std::move(now)) {}

  // `read(mode)` in the mode for `client`; under auto, a refused batch is
  // read again, once, as searches.
  template <class Read>
  auto run(fhir::Client& client, Read&& read) -> decltype(read(ReadMode::kSearches)) {
    const ReadMode mode = resolve(client);
    if (configured_ != ReadMode::kAuto || mode != ReadMode::kBatch) return read(mode);
    try {
      return read(mode);
    } catch (const fhir::ClientError& e) {
      if (!batch_refused(e)) throw;
    }
    refused();
    return read(ReadMode::kSearches);
  }

  // The mode the next read goes in (asks `client` for its capabilities under
  // auto, the first time).
  ReadMode resolve(fhir::Client& client);

 private:
  void refused();

  const ReadMode configured_;
  const SteadyNow now_;
  std::mutex mu_;
  std::optional<ReadMode> resolved_;
  // After a statement the server could not give: when to ask again.
  std::optional<std::chrono::steady_clock::time_point> ask_again_;
};

// The searches of a patient's pull, in order: detail::relevant_queries()
// narrowed to `patient_id` under `options`, with the pull's _includes.
std::vector<detail::SearchQuery> pull_queries(const mappings::CodeTables& tables,
                                              const std::string& patient_id,
                                              const PullOptions& options);

// What a patient's reads answered: the Patient (when asked for) as its own
// document, and one result per search, in the order asked.
struct PatientReads {
  std::shared_ptr<const fhir::JsonDocument> patient;
  std::vector<fhir::SearchResult> results;
};

// The reads of pull_record(): the Patient when `with_patient`, and
// `queries`, as one batch Bundle (kBatch) or every request at once (else),
// each search asking for pages of 100 unless it names its own _count.
PatientReads read_patient(fhir::Client& client, const std::string& patient_id, bool with_patient,
                          const std::vector<detail::SearchQuery>& queries, ReadMode mode,
                          const fhir::SearchLimits& limits);

// Drops from one search's result what is not input to the plan: the
// adapter's own CarePlans (options.own_identifier_system), a Goal or order
// mappings::is_plan_input() refuses. Warns (into `warnings`) of a CarePlan
// that carries the adapter's identifier but is not the adapter's.
void keep_plan_inputs(const std::string& type, const PullOptions& options,
                      fhir::SearchResult& result, std::vector<std::string>& warnings);

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
