// An in-memory FHIR R4 server behind fhir::Client, so write-back, sync and
// change-feed tests run in-process against a server's behaviour rather than
// a script of calls. What it does, as HAPI does (the integration tests prove
// the same against HAPI):
//  - versions: every write stores a new version with meta.versionId and
//    meta.lastUpdated from the simulated clock; vread reads any of them;
//  - search by `_id`, `identifier` (sys|value, sys|, |value, any-of with
//    commas), `code` and `category` (the same token forms against the
//    resource's CodeableConcepts of that name), `subject`/`patient`,
//    `target` and `_lastUpdated` (gt, ge, lt, le, eq; repeatable);
//    `_include=Type:element` adds what `element` (or `elementReference`)
//    refers to, in search mode include; other parameters (`_elements`, ...)
//    are ignored, as a server may answer more than asked; the searchset's
//    meta.lastUpdated is the server's time;
//  - transactions all-or-nothing: POST with ifNoneExist, PUT by id with
//    ifMatch (412 on a stale version), conditional PUT (Type?criteria),
//    urn:uuid references resolved; batches entry by entry (GET entries
//    read or search, listed in searches() but not requests()), a failed entry
//    answered in the 200 response with its status and an OperationOutcome
//    (R4 http.html#brules); single creates (If-None-Exist) and updates
//    (If-Match, or conditional).
// Faults: refuse transactions (as many EHRs do), fail the Nth request, fail
// every write after the first k (a crash or an outage part-way), fail chosen
// writes or searches with a chosen status, require the patient on searches
// (Epic), ignore `subject`, and run a person's edit just before a write.
// Thread-safe: the pull searches concurrently.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mst/fhir/client.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/json_value.h"
#include "support/fake_clock.h"
#include "support/mock_client.h"

namespace mst::adapter::testing {

class MemoryFhirServer : public fhir::Client {
 public:
  explicit MemoryFhirServer(std::string base_url = "http://fhir.test/fhir",
                            std::shared_ptr<fhir::testing::FakeClock> clock =
                                std::make_shared<fhir::testing::FakeClock>());

  // --- Loading and inspecting what the server holds (no faults, no log) ---

  // Stores `resource_json` (which must carry resourceType and id) as a new
  // version, as a person editing it in the EHR would. Returns "Type/id".
  std::string put(const std::string& resource_json);
  // Stores every entry's resource of a Bundle (JSON text), as loading it would.
  void put_bundle(const std::string& bundle_json);
  // Deletes "Type/id", as a server's DELETE would: later reads get 404; its
  // history stays readable by vread.
  void remove(const std::string& ref);
  // The current version of "Type/id" as JSON, or "" when absent.
  std::string get(const std::string& ref) const;
  // The refs of every stored resource of `type`.
  std::vector<std::string> all(const std::string& type) const;
  // How many versions "Type/id" has had (0: never stored).
  int versions(const std::string& ref) const;
  // The clock meta.lastUpdated is read from; advance it between writes.
  fhir::testing::FakeClock& clock() { return *clock_; }

  // "GET Type" for every read and search, "transaction" for every
  // transaction, in order: which server a pipeline asked what. A copy.
  std::vector<std::string> requests() const;
  // Every search as asked, type and parameters, in order: for the tests
  // where the request's shape is the point. A copy.
  struct Search {
    std::string type;
    fhir::SearchParams params;
  };
  std::vector<Search> searches() const;
  // Transactions applied (not those refused or failed).
  int transactions() const;
  // Write requests of every kind: transactions, batch entries, creates and
  // updates, counting those that failed.
  int write_requests() const;

  // --- Behaviour and faults, set before the code under test runs ---

  // What capabilities() answers: nothing declared unless a test says so.
  fhir::Capabilities caps;
  // Refuses (400) searches of `type` without `subject` or `patient`, as
  // Epic's endpoints do, and declares it in `caps` when `declared`.
  void require_patient_on(const std::string& type, bool declared = true);
  // Answers 405 to a transaction Bundle (batches still work).
  bool refuse_transactions = false;
  // Answers 400 to a batch Bundle with GET entries, as a server that takes
  // batches of writes only (or would rewrite the searches) does.
  bool refuse_batch_reads = false;
  // When set, every write request after the first `fail_after_writes`
  // fails with 503 (a batch entry in its response, a request by throwing).
  std::optional<int> fail_after_writes;
  // N (1-based, over every request of any kind) -> the status that request
  // is answered with: "the third request times out".
  std::map<int, int> fail_nth_request;
  // Answers searches as a server that ignores `subject` and `patient` would.
  bool ignore_subject = false;
  // "METHOD url" (e.g. "PUT Goal/7", "POST Goal") -> the status the server
  // answers that write with, in a batch entry, a request or a transaction.
  std::map<std::string, int> fail_requests;
  // Type -> the status every search of that type is answered with.
  std::map<std::string, int> fail_searches;
  // "METHOD url" -> what happens on the server just before that write
  // arrives (a person's edit in between), run once.
  std::map<std::string, std::function<void(MemoryFhirServer&)>> before_requests;

  // --- fhir::Client ---
  const std::string& base_url() const override { return base_; }
  fhir::Capabilities capabilities() override;
  fhir::FhirResponse read(std::string_view type, std::string_view id) override;
  fhir::FhirResponse vread(std::string_view type, std::string_view id,
                           std::string_view version) override;
  fhir::SearchResult search(std::string_view type, const fhir::SearchParams& params,
                            const fhir::SearchLimits& limits) override;
  fhir::FhirResponse transaction(std::string bundle_json) override;
  fhir::FhirResponse create(std::string_view type, std::string body,
                            const fhir::SearchParams& if_none_exist) override;
  fhir::FhirResponse update(std::string_view type, std::string_view id, std::string body,
                            std::string_view if_match_version) override;
  fhir::FhirResponse update_conditional(std::string_view type, const fhir::SearchParams& criteria,
                                        std::string body) override;

 private:
  using Store = std::map<std::string, fhir::JsonValue>;  // "Type/id" -> current version

  // One write's request, as a transaction or batch entry says it.
  struct Write {
    std::string method;  // POST or PUT
    std::string url;     // "Type", "Type/id" or "Type?criteria"
    std::string if_none_exist;
    std::string if_match;  // W/"n"
  };
  // Where a write lands: its ref, whether it stores anything (a POST whose
  // ifNoneExist matched does not) and whether that creates the resource.
  // Throws HttpStatusError (412 on a stale ifMatch or an ambiguous
  // condition, 400 on an unsupported request).
  struct Target {
    std::string ref;
    bool store = true;
    bool created = false;
  };
  Target resolve(const Store& in, std::map<std::string, int>& next_ids, const std::string& type,
                 const Write& w) const;

  void count_request(const std::string& method, const std::string& what);
  void log(std::string request);
  void happen_before(const std::string& method, const std::string& url);
  int chosen_failure(const std::string& method, const std::string& url) const;
  bool write_due_to_fail();
  [[noreturn]] void refuse(const std::string& method, const std::string& url, int status) const;
  // Stores `r` as the next version of `ref` in `in`, stamped with the clock.
  void store(Store& in, const std::string& ref, fhir::JsonValue r);
  // One write outside a transaction, applied at once.
  Target write_one(const std::string& type, const Write& w, fhir::JsonValue r);
  fhir::FhirResponse stored_response(const std::string& ref) const;
  fhir::FhirResponse batch(const fhir::JsonDocument& doc);
  // Records the search and returns the status a fault answers it with (0: none).
  int search_refusal(const std::string& type, const fhir::SearchParams& params);
  // The searchset Bundle (JSON) answering the search.
  std::string searchset(const std::string& type, const fhir::SearchParams& params) const;
  std::string batch_get(const std::string& url);
  std::string now() const;

  std::string base_;
  std::shared_ptr<fhir::testing::FakeClock> clock_;
  // Recursive: a before_requests edit calls put() while a write holds it.
  mutable std::recursive_mutex mu_;
  std::vector<std::string> requests_;
  std::vector<Search> searches_;
  Store resources_;
  std::map<std::string, std::vector<std::string>> history_;  // ref -> every version, as JSON
  std::set<std::string> patient_required_;
  std::map<std::string, int> next_id_;
  int transactions_ = 0;
  int write_requests_ = 0;
  int requests_seen_ = 0;
};

}  // namespace mst::adapter::testing
