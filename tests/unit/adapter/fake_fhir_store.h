// An in-memory FHIR server behind fhir::Client, enough for write-back
// scenarios without HAPI: resources with versions; searches filtered by
// `identifier` (sys|value, sys|, comma-separated any-of), `target` and
// `subject`/`patient`, other parameters ignored (one patient's data per
// test); transactions applied all-or-nothing with POST + ifNoneExist, PUT by
// id with If-Match (409 on a stale version) and urn:uuid references
// resolved; batches entry by entry (a failed entry answered in the 200
// response, as R4 batches are); single creates (If-None-Exist) and updates
// (If-Match). It can refuse transactions, as many EHRs do, fail every
// write request after the first k, as a crash or an outage part-way would,
// and fail chosen requests with a chosen status. A failed batch entry is
// answered as R4 http.html#brules says: its own status and an
// OperationOutcome, no location. The integration tests prove the same
// against HAPI.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mock_client.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"

namespace mst::adapter::testing {

class FakeFhirStore : public fhir::Client {
 public:
  explicit FakeFhirStore(std::string base_url = "http://fhir.test/fhir")
      : base_(std::move(base_url)) {}
  const std::string& base_url() const override { return base_; }
  // "GET Type" for every read and search, "transaction" for every
  // transaction, in order: which server a pipeline asked what.
  // The pull reads concurrently: a copy, taken under the lock.
  std::vector<std::string> requests() const {
    std::lock_guard lock(requests_mu_);
    return requests_;
  }
  fhir::Capabilities capabilities() override { return caps; }
  // What capabilities() answers: nothing declared unless a test says so.
  fhir::Capabilities caps;
  // Refuses (400) searches of `type` without `subject` or `patient`, as
  // Epic's endpoints do, and declares it in `caps` when `declared`.
  void require_patient_on(const std::string& type, bool declared = true) {
    patient_required_.insert(type);
    if (declared) caps.resources[type].required_search_params = {{"patient"}, {"subject"}};
  }

  // Stores `resource_json` (which must carry resourceType and id) as a new
  // version, as a person editing it in the EHR would. Returns "Type/id".
  std::string put(const std::string& resource_json) {
    fhir::JsonValue r = fhir::JsonValue::from(fhir::JsonDocument::parse(resource_json).root());
    const std::string ref = str(r, "resourceType") + "/" + str(r, "id");
    store(ref, std::move(r));
    return ref;
  }
  // Stores every entry's resource of a Bundle (JSON text), as loading it would.
  void put_bundle(const std::string& bundle_json) {
    auto doc = fhir::JsonDocument::parse(bundle_json);
    for (fhir::Node e : doc.root().array("entry")) put(fhir::JsonValue::from(e["resource"]).dump());
  }
  // Deletes "Type/id", as a server's DELETE would: later reads get 404.
  void remove(const std::string& ref) { resources_.erase(ref); }
  // The current version of "Type/id" as JSON, or "" when absent.
  std::string get(const std::string& ref) const {
    auto it = resources_.find(ref);
    return it == resources_.end() ? "" : it->second.dump();
  }
  // The refs of every stored resource of `type`.
  std::vector<std::string> all(const std::string& type) const {
    std::vector<std::string> out;
    for (const auto& [ref, r] : resources_) {
      if (ref.compare(0, type.size() + 1, type + "/") == 0) out.push_back(ref);
    }
    return out;
  }
  int transactions() const { return transactions_; }
  // Write requests of every kind: transactions, batch entries, creates and
  // updates, counting those that failed.
  int write_requests() const { return write_requests_; }
  // Answers 405 to a transaction Bundle (batches still work).
  bool refuse_transactions = false;
  // When set, every write request after the first `fail_after_writes`
  // fails with 503 (a batch entry in its response, a request by throwing).
  std::optional<int> fail_after_writes;
  // Answers searches as a server that ignores `subject` and `patient` would.
  bool ignore_subject = false;
  // "METHOD url" (e.g. "PUT Goal/7", "POST Goal") -> the status the server
  // answers that write with, in a batch entry, a request or a transaction.
  std::map<std::string, int> fail_requests;
  // Type -> the status every search of that type is answered with.
  std::map<std::string, int> fail_searches;
  // "METHOD url" -> what happens on the server just before that write
  // arrives (a person's edit in between), run once.
  std::map<std::string, std::function<void(FakeFhirStore&)>> before_requests;

  fhir::FhirResponse read(std::string_view type, std::string_view id) override {
    const std::string ref = std::string(type) + "/" + std::string(id);
    log("GET " + std::string(type));
    auto it = resources_.find(ref);
    if (it == resources_.end()) throw fhir::NotFound("GET", base_ + "/" + ref, 404, "", "gone");
    return response(it->second.dump());
  }
  fhir::FhirResponse vread(std::string_view type, std::string_view id, std::string_view) override {
    return read(type, id);
  }

  fhir::SearchResult search(std::string_view type, const fhir::SearchParams& params,
                            const fhir::SearchLimits&) override {
    log("GET " + std::string(type));
    if (auto it = fail_searches.find(std::string(type)); it != fail_searches.end())
      refuse("GET", std::string(type), it->second);
    if (patient_required_.count(std::string(type))) {
      bool scoped = false;
      for (const auto& [name, value] : params) scoped |= name == "patient" || name == "subject";
      if (!scoped) {
        throw fhir::HttpStatusError("GET", base_ + "/" + std::string(type), 400, "",
                                    "a search needs the patient");
      }
    }
    std::string entries;
    for (const auto& [ref, r] : resources_) {
      if (ref.compare(0, type.size() + 1, std::string(type) + "/") != 0) continue;
      if (!matches(r, params, ignore_subject)) continue;
      entries += (entries.empty() ? "" : ",") + ("{\"resource\":" + r.dump() + "}");
    }
    return search_result(R"({"resourceType":"Bundle","type":"searchset","entry":[)" + entries +
                         "]}");
  }

  fhir::FhirResponse transaction(std::string bundle_json) override {
    log("transaction");
    auto doc = fhir::JsonDocument::parse(bundle_json);
    if (doc.root().string("type") == std::optional<std::string_view>("batch")) return batch(doc);
    if (refuse_transactions) {
      throw fhir::HttpStatusError("POST", base_, 405, "", "this server does not take transactions");
    }
    ++write_requests_;
    std::map<std::string, fhir::JsonValue> next = resources_;
    std::map<std::string, int> next_ids = next_id_;
    std::map<std::string, std::string> resolved;  // fullUrl -> Type/id
    std::vector<std::pair<std::string, fhir::JsonValue>> writes;
    std::vector<std::string> locations;
    for (fhir::Node e : doc.root().array("entry")) {
      fhir::JsonValue r = fhir::JsonValue::from(e["resource"]);
      const std::string type = str(r, "resourceType");
      const std::string method(e["request"].string("method").value_or(""));
      const std::string url(e["request"].string("url").value_or(""));
      const std::string full_url(e.string("fullUrl").value_or(""));
      if (const int status = chosen_failure(method, url)) refuse(method, url, status);
      std::string ref;
      bool write = true;
      if (method == "POST") {
        if (auto criteria = e["request"].string("ifNoneExist")) {
          ref = first_match(next, type, std::string(*criteria));
          write = ref.empty();
        }
        if (ref.empty()) ref = type + "/" + std::to_string(++next_ids[type]);
      } else if (method == "PUT" && url.find('?') == std::string::npos) {
        ref = url;
        if (auto if_match = e["request"].string("ifMatch")) {
          auto it = next.find(ref);
          const std::string current = it == next.end() ? "" : version(it->second);
          if ("W/\"" + current + "\"" != *if_match) {
            throw fhir::VersionConflict("PUT", base_ + "/" + ref, 409, "", "version conflict");
          }
        }
      } else {
        ADD_FAILURE() << "FakeFhirStore: unsupported " << method << " " << url;
        throw fhir::HttpStatusError(method, base_ + "/" + url, 400, "", "unsupported");
      }
      if (!full_url.empty()) resolved[full_url] = ref;
      if (write) writes.emplace_back(ref, std::move(r));
      locations.push_back(ref);
    }
    for (auto& [ref, r] : writes) {
      for (const auto& [from, to] : resolved) redirect(r, from, to);
      r.set("id", ref.substr(ref.find('/') + 1));
      auto it = next.find(ref);
      const int v = it == next.end() ? 1 : std::stoi(version(it->second)) + 1;
      r.set("meta", fhir::JsonValue::object({{"versionId", std::to_string(v)}}));
      next[ref] = std::move(r);
    }
    resources_ = std::move(next);
    next_id_ = std::move(next_ids);
    ++transactions_;
    // The locations carry the versions actually stored.
    std::string out;
    for (const auto& ref : locations) {
      out += (out.empty() ? "" : ",") +
             std::string(R"({"response":{"status":"200 OK","location":")") + ref + "/_history/" +
             version(resources_.at(ref)) + "\"}}";
    }
    return response(R"({"resourceType":"Bundle","type":"transaction-response","entry":[)" + out +
                    "]}");
  }

  fhir::FhirResponse create(std::string_view type, std::string body,
                            const fhir::SearchParams& if_none_exist) override {
    happen_before("POST", std::string(type));
    fail_if_due("POST", std::string(type));
    if (const int status = chosen_failure("POST", std::string(type)))
      refuse("POST", std::string(type), status);
    std::string criteria;
    for (const auto& [k, v] : if_none_exist)
      criteria += (criteria.empty() ? "" : "&") + k + "=" + v;
    fhir::JsonValue r = fhir::JsonValue::from(fhir::JsonDocument::parse(body).root());
    const std::string ref =
        write_one(std::string(type), "POST", std::string(type), criteria, "", r);
    return stored_response(ref);
  }
  fhir::FhirResponse update(std::string_view type, std::string_view id, std::string body,
                            std::string_view if_match_version) override {
    const std::string ref = std::string(type) + "/" + std::string(id);
    happen_before("PUT", ref);
    fail_if_due("PUT", ref);
    if (const int status = chosen_failure("PUT", ref)) refuse("PUT", ref, status);
    fhir::JsonValue r = fhir::JsonValue::from(fhir::JsonDocument::parse(body).root());
    const std::string if_match =
        if_match_version.empty() ? "" : "W/\"" + std::string(if_match_version) + "\"";
    return stored_response(write_one(std::string(type), "PUT", ref, "", if_match, r));
  }
  fhir::FhirResponse update_conditional(std::string_view, const fhir::SearchParams&,
                                        std::string) override {
    throw fhir::HttpStatusError("PUT", base_, 405, "", "the adapter never updates conditionally");
  }

 private:
  static std::string str(const fhir::JsonValue& r, std::string_view key) {
    const auto* v = r.find(key);
    return v && v->is_string() ? v->str() : "";
  }
  static std::string version(const fhir::JsonValue& r) {
    const auto* meta = r.find("meta");
    return meta ? str(*meta, "versionId") : "";
  }
  static void redirect(fhir::JsonValue& v, const std::string& from, const std::string& to) {
    if (v.is_array()) {
      for (auto& i : v.items()) redirect(i, from, to);
    } else if (v.is_object()) {
      for (auto& [k, m] : v.members()) {
        if (k == "reference" && m.is_string() && m.str() == from) {
          m = fhir::JsonValue(to);
        } else {
          redirect(m, from, to);
        }
      }
    }
  }
  static bool has_identifier(const fhir::JsonValue& r, const std::string& any_of) {
    const auto* ids = r.find("identifier");
    if (ids == nullptr || !ids->is_array()) return false;
    std::size_t start = 0;
    while (start <= any_of.size()) {
      const std::size_t comma = std::min(any_of.find(',', start), any_of.size());
      const std::string want = any_of.substr(start, comma - start);
      const std::size_t bar = want.find('|');
      for (const auto& id : ids->items()) {
        if (str(id, "system") == want.substr(0, bar) &&
            (bar + 1 == want.size() || str(id, "value") == want.substr(bar + 1)))
          return true;
      }
      start = comma + 1;
    }
    return false;
  }
  // Whether an element of `r` (an array of References) refers to `ref`
  // ("Type/id"), any version of it.
  static bool names(const fhir::JsonValue& r, std::string_view element, const std::string& ref) {
    const auto* refs = r.find(element);
    if (refs == nullptr || !refs->is_array()) return false;
    for (const auto& t : refs->items()) {
      const std::string to = str(t, "reference");
      if (to == ref || to.rfind(ref + "/_history/", 0) == 0) return true;
    }
    return false;
  }
  static bool matches(const fhir::JsonValue& r, const fhir::SearchParams& params,
                      bool ignore_subject) {
    for (const auto& [name, value] : params) {
      if (name == "identifier" && !has_identifier(r, value)) return false;
      if (name == "target" && !names(r, "target", value)) return false;
      if ((name == "subject" || name == "patient") && !ignore_subject) {
        const auto* subject = r.find("subject") ? r.find("subject") : r.find("patient");
        const std::string want =
            value.rfind("Patient/", 0) == 0 || value.find("://") != std::string::npos
                ? value
                : "Patient/" + value;
        if (subject == nullptr || str(*subject, "reference") != want) return false;
      }
    }
    return true;
  }
  static std::string first_match(const std::map<std::string, fhir::JsonValue>& in,
                                 const std::string& type, const std::string& criteria) {
    const std::string value = criteria.substr(criteria.find('=') + 1);
    for (const auto& [ref, r] : in) {
      if (ref.compare(0, type.size() + 1, type + "/") == 0 && has_identifier(r, value)) return ref;
    }
    return "";
  }
  void happen_before(const std::string& method, const std::string& url) {
    auto it = before_requests.find(method + " " + url);
    if (it == before_requests.end()) return;
    auto edit = std::move(it->second);
    before_requests.erase(it);
    edit(*this);
  }
  int chosen_failure(const std::string& method, const std::string& url) const {
    auto it = fail_requests.find(method + " " + url);
    return it == fail_requests.end() ? 0 : it->second;
  }
  static const char* issue_code(int status) {
    return status == 409 || status == 412 ? "conflict" : status >= 500 ? "transient" : "processing";
  }
  // A chosen failure of a request on its own, as the client reports the
  // status and its OperationOutcome.
  [[noreturn]] void refuse(const std::string& method, const std::string& url, int status) const {
    throw fhir::HttpStatusError(method, base_ + "/" + url, status,
                                std::string("error (") + issue_code(status) + ")",
                                "injected failure");
  }
  static std::string status_line(int status) {
    const std::string_view reason = fhir::status_reason(status);
    return std::to_string(status) + " " + (reason.empty() ? "Error" : std::string(reason));
  }
  // A failed batch entry's response: its status and why, as an
  // OperationOutcome (R4 Bundle.entry.response.outcome), and no location.
  static std::string failed_entry(int status) {
    const char* code = issue_code(status);
    return std::string(R"({"response":{"status":")") + status_line(status) +
           R"(","outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":")" +
           code + R"(","diagnostics":"HAPI-0000: injected failure"}]}}})";
  }
  void fail_if_due(const std::string& method, const std::string& what) {
    ++write_requests_;
    if (fail_after_writes && write_requests_ > *fail_after_writes)
      throw fhir::HttpStatusError(method, base_ + "/" + what, 503, "", "injected outage");
  }
  // One write outside a transaction, applied at once; returns "Type/id".
  // Throws VersionConflict on a stale If-Match.
  std::string write_one(const std::string& type, const std::string& method, const std::string& url,
                        const std::string& if_none_exist, const std::string& if_match,
                        fhir::JsonValue r) {
    std::string ref;
    if (method == "POST") {
      if (!if_none_exist.empty()) {
        ref = first_match(resources_, type, if_none_exist);
        if (!ref.empty()) return ref;  // 200: the match, unchanged
      }
      ref = type + "/" + std::to_string(++next_id_[type]);
    } else if (method == "PUT" && url.find('?') == std::string::npos) {
      ref = url;
      if (!if_match.empty()) {
        auto it = resources_.find(ref);
        const std::string current = it == resources_.end() ? "" : version(it->second);
        if ("W/\"" + current + "\"" != if_match)
          throw fhir::VersionConflict("PUT", base_ + "/" + ref, 409, "", "version conflict");
      }
    } else {
      ADD_FAILURE() << "FakeFhirStore: unsupported " << method << " " << url;
      throw fhir::HttpStatusError(method, base_ + "/" + url, 400, "", "unsupported");
    }
    r.set("id", ref.substr(ref.find('/') + 1));
    store(ref, std::move(r));
    return ref;
  }
  fhir::FhirResponse stored_response(const std::string& ref) {
    fhir::FhirResponse out = response(resources_.at(ref).dump());
    out.id = ref.substr(ref.find('/') + 1);
    out.version_id = version(resources_.at(ref));
    return out;
  }
  // An R4 batch: each entry on its own, its outcome in the response entry.
  fhir::FhirResponse batch(const fhir::JsonDocument& doc) {
    std::string out;
    for (fhir::Node e : doc.root().array("entry")) {
      const std::string method(e["request"].string("method").value_or(""));
      const std::string url(e["request"].string("url").value_or(""));
      std::string answer;
      happen_before(method, url);
      ++write_requests_;
      int status = fail_after_writes && write_requests_ > *fail_after_writes ? 503 : 0;
      if (!status) status = chosen_failure(method, url);
      if (!status) {
        try {
          fhir::JsonValue r = fhir::JsonValue::from(e["resource"]);
          const std::string type = str(r, "resourceType");
          const std::string ref = write_one(
              type, method, url, std::string(e["request"].string("ifNoneExist").value_or("")),
              std::string(e["request"].string("ifMatch").value_or("")), std::move(r));
          answer = R"({"response":{"status":"200 OK","location":")" + ref + "/_history/" +
                   version(resources_.at(ref)) + "\"}}";
        } catch (const fhir::HttpStatusError& err) {
          status = err.status();
        }
      }
      if (status) answer = failed_entry(status);
      out += (out.empty() ? "" : ",") + answer;
    }
    return response(R"({"resourceType":"Bundle","type":"batch-response","entry":[)" + out + "]}");
  }
  void store(const std::string& ref, fhir::JsonValue r) {
    auto it = resources_.find(ref);
    const int v = it == resources_.end() ? 1 : std::stoi(version(it->second)) + 1;
    r.set("meta", fhir::JsonValue::object({{"versionId", std::to_string(v)}}));
    resources_[ref] = std::move(r);
  }
  fhir::FhirResponse response(const std::string& body) {
    fhir::FhirResponse out;
    out.status = 200;
    out.body = std::make_shared<const fhir::JsonDocument>(fhir::JsonDocument::parse(body));
    return out;
  }

  std::string base_;
  void log(std::string request) {
    std::lock_guard lock(requests_mu_);
    requests_.push_back(std::move(request));
  }
  mutable std::mutex requests_mu_;
  std::vector<std::string> requests_;
  std::map<std::string, fhir::JsonValue> resources_;
  std::set<std::string> patient_required_;
  std::map<std::string, int> next_id_;
  int transactions_ = 0;
  int write_requests_ = 0;
};

}  // namespace mst::adapter::testing
