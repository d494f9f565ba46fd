#include "support/memory_fhir_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "mst/fhir/client_errors.h"
#include "mst/fhir/datetime.h"
#include "mst/fhir/json.h"

namespace mst::adapter::testing {
namespace {

std::string str(const fhir::JsonValue& r, std::string_view key) {
  const auto* v = r.find(key);
  return v && v->is_string() ? v->str() : "";
}

std::string version(const fhir::JsonValue& r) {
  const auto* meta = r.find("meta");
  return meta ? str(*meta, "versionId") : "";
}

bool of_type(const std::string& ref, std::string_view type) {
  return ref.size() > type.size() && ref.compare(0, type.size(), type) == 0 &&
         ref[type.size()] == '/';
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = std::min(s.find(sep, start), s.size());
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// "%7C" as "|": a batch entry's URL is encoded as a request line is.
std::string percent_decoded(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// "a=1&b=2" (a conditional request's criteria) as search parameters.
fhir::SearchParams parse_criteria(const std::string& criteria) {
  fhir::SearchParams out;
  if (criteria.empty()) return out;
  for (const std::string& pair : split(criteria, '&')) {
    const std::size_t eq = pair.find('=');
    out.emplace_back(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
  }
  return out;
}

void redirect(fhir::JsonValue& v, const std::string& from, const std::string& to) {
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

// A token search (`system|value`, `system|`, `|value` or `value`), any of
// a comma-separated list, against Identifier elements.
bool has_identifier(const fhir::JsonValue& r, const std::string& any_of) {
  const auto* ids = r.find("identifier");
  if (ids == nullptr || !ids->is_array()) return false;
  for (const std::string& want : split(any_of, ',')) {
    const std::size_t bar = want.find('|');
    const bool any_system = bar == std::string::npos;
    const std::string system = any_system ? "" : want.substr(0, bar);
    const std::string value = any_system ? want : want.substr(bar + 1);
    for (const auto& id : ids->items()) {
      if ((any_system || str(id, "system") == system) &&
          (value.empty() || str(id, "value") == value))
        return true;
    }
  }
  return false;
}

// A token search against the Coding elements of `r`'s CodeableConcept
// `element` (one, or an array as Observation.category is): any of a
// comma-separated list of `system|code`, `system|`, `|code` (a coding
// without a system) or `code` (any system).
bool has_coding(const fhir::JsonValue& r, std::string_view element, const std::string& any_of) {
  const auto* found = r.find(element);
  if (found == nullptr) return false;
  std::vector<const fhir::JsonValue*> concepts;
  if (found->is_array()) {
    for (const auto& c : found->items()) concepts.push_back(&c);
  } else {
    concepts.push_back(found);
  }
  for (const std::string& want : split(any_of, ',')) {
    const std::size_t bar = want.find('|');
    const bool any_system = bar == std::string::npos;
    const std::string system = any_system ? "" : want.substr(0, bar);
    const std::string code = any_system ? want : want.substr(bar + 1);
    for (const auto* cc : concepts) {
      const auto* codings = cc->find("coding");
      if (codings == nullptr || !codings->is_array()) continue;
      for (const auto& c : codings->items()) {
        if ((any_system || str(c, "system") == system) && (code.empty() || str(c, "code") == code))
          return true;
      }
    }
  }
  return false;
}

// Whether an element of `r` (an array of References) refers to `ref`
// ("Type/id"), any version of it.
bool names(const fhir::JsonValue& r, std::string_view element, const std::string& ref) {
  const auto* refs = r.find(element);
  if (refs == nullptr || !refs->is_array()) return false;
  for (const auto& t : refs->items()) {
    const std::string to = str(t, "reference");
    if (to == ref || to.rfind(ref + "/_history/", 0) == 0) return true;
  }
  return false;
}

// `_lastUpdated=[prefix]instant`, on the instant's own precision as R4
// search says for dates: gt/ge/lt/le/eq (the default).
bool updated_matches(const fhir::JsonValue& r, const std::string& value) {
  std::string prefix = "eq";
  std::string when = value;
  if (value.size() > 2 && std::isalpha(static_cast<unsigned char>(value[0]))) {
    prefix = value.substr(0, 2);
    when = value.substr(2);
  }
  const auto* meta = r.find("meta");
  const auto at = fhir::DateTime::parse(meta ? str(*meta, "lastUpdated") : "");
  const auto bound = fhir::DateTime::parse(when);
  if (!bound) {
    ADD_FAILURE() << "MemoryFhirServer: _lastUpdated '" << value << "' is not a date";
    return false;
  }
  if (!at) return false;
  const std::int64_t t = at->start_ms();
  if (prefix == "gt") return t > bound->end_ms();
  if (prefix == "ge") return t >= bound->start_ms();
  if (prefix == "lt") return t < bound->start_ms();
  if (prefix == "le") return t <= bound->end_ms();
  if (prefix == "eq") return t >= bound->start_ms() && t <= bound->end_ms();
  ADD_FAILURE() << "MemoryFhirServer: _lastUpdated prefix '" << prefix << "' not supported";
  return false;
}

bool subject_matches(const fhir::JsonValue& r, const std::string& value) {
  const auto* subject = r.find("subject") ? r.find("subject") : r.find("patient");
  const std::string want = value.rfind("Patient/", 0) == 0 || value.find("://") != std::string::npos
                               ? value
                               : "Patient/" + value;
  return subject != nullptr && str(*subject, "reference") == want;
}

bool matches(const fhir::JsonValue& r, const fhir::SearchParams& params, bool ignore_subject) {
  for (const auto& [name, value] : params) {
    if (name == "_id") {
      const auto ids = split(value, ',');
      if (std::find(ids.begin(), ids.end(), str(r, "id")) == ids.end()) return false;
    }
    if (name == "identifier" && !has_identifier(r, value)) return false;
    if (name == "target" && !names(r, "target", value)) return false;
    if ((name == "code" || name == "category") && !has_coding(r, name, value)) return false;
    if (name == "_lastUpdated" && !updated_matches(r, value)) return false;
    if ((name == "subject" || name == "patient") && !ignore_subject && !subject_matches(r, value))
      return false;
  }
  return true;
}

// What `_include=Type:element` names in `found`: the reference of
// `element`, or of its choice `elementReference` (MedicationRequest's
// `medication`), once each.
std::vector<std::string> included_refs(const std::vector<const fhir::JsonValue*>& found,
                                       std::string_view type, const fhir::SearchParams& params) {
  std::vector<std::string> out;
  for (const auto& [name, value] : params) {
    const std::size_t colon = value.find(':');
    if (name != "_include" || value.substr(0, colon) != type || colon == std::string::npos)
      continue;
    const std::string element = value.substr(colon + 1);
    for (const auto* r : found) {
      const auto* to = r->find(element) ? r->find(element) : r->find(element + "Reference");
      const std::string ref = to ? str(*to, "reference") : "";
      if (!ref.empty() && std::find(out.begin(), out.end(), ref) == out.end()) out.push_back(ref);
    }
  }
  return out;
}

// The refs of `type` in `in` that `criteria` selects.
std::vector<std::string> select(const std::map<std::string, fhir::JsonValue>& in,
                                const std::string& type, const std::string& criteria) {
  const fhir::SearchParams params = parse_criteria(criteria);
  std::vector<std::string> out;
  for (const auto& [ref, r] : in) {
    if (of_type(ref, type) && matches(r, params, false)) out.push_back(ref);
  }
  return out;
}

const char* issue_code(int status) {
  return status == 409 || status == 412 ? "conflict" : status >= 500 ? "transient" : "processing";
}

std::string status_line(int status) {
  const std::string_view reason = fhir::status_reason(status);
  return std::to_string(status) + " " + (reason.empty() ? "Error" : std::string(reason));
}

// A failed batch entry's response: its status and why, as an
// OperationOutcome (R4 Bundle.entry.response.outcome), and no location.
std::string failed_entry(int status) {
  return std::string(R"({"response":{"status":")") + status_line(status) +
         R"(","outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":")" +
         issue_code(status) + R"(","diagnostics":"HAPI-0000: injected failure"}]}}})";
}

fhir::FhirResponse response(const std::string& body) {
  fhir::FhirResponse out;
  out.status = 200;
  out.body = std::make_shared<const fhir::JsonDocument>(fhir::JsonDocument::parse(body));
  return out;
}

}  // namespace

MemoryFhirServer::MemoryFhirServer(std::string base_url,
                                   std::shared_ptr<fhir::testing::FakeClock> clock)
    : base_(std::move(base_url)), clock_(std::move(clock)) {}

std::string MemoryFhirServer::put(const std::string& resource_json) {
  std::lock_guard lock(mu_);
  fhir::JsonValue r = fhir::JsonValue::from(fhir::JsonDocument::parse(resource_json).root());
  std::string ref = str(r, "resourceType") + "/" + str(r, "id");
  store(resources_, ref, std::move(r));
  return ref;
}

void MemoryFhirServer::put_bundle(const std::string& bundle_json) {
  auto doc = fhir::JsonDocument::parse(bundle_json);
  for (fhir::Node e : doc.root().array("entry")) put(fhir::JsonValue::from(e["resource"]).dump());
}

void MemoryFhirServer::remove(const std::string& ref) {
  std::lock_guard lock(mu_);
  resources_.erase(ref);
}

std::string MemoryFhirServer::get(const std::string& ref) const {
  std::lock_guard lock(mu_);
  auto it = resources_.find(ref);
  return it == resources_.end() ? "" : it->second.dump();
}

std::vector<std::string> MemoryFhirServer::all(const std::string& type) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [ref, r] : resources_) {
    if (of_type(ref, type)) out.push_back(ref);
  }
  return out;
}

int MemoryFhirServer::versions(const std::string& ref) const {
  std::lock_guard lock(mu_);
  auto it = history_.find(ref);
  return it == history_.end() ? 0 : static_cast<int>(it->second.size());
}

std::vector<std::string> MemoryFhirServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::vector<MemoryFhirServer::Search> MemoryFhirServer::searches() const {
  std::lock_guard lock(mu_);
  return searches_;
}

int MemoryFhirServer::transactions() const {
  std::lock_guard lock(mu_);
  return transactions_;
}

int MemoryFhirServer::write_requests() const {
  std::lock_guard lock(mu_);
  return write_requests_;
}

void MemoryFhirServer::require_patient_on(const std::string& type, bool declared) {
  std::lock_guard lock(mu_);
  patient_required_.insert(type);
  if (declared) caps.resources[type].required_search_params = {{"patient"}, {"subject"}};
}

fhir::Capabilities MemoryFhirServer::capabilities() {
  std::lock_guard lock(mu_);
  count_request("GET", "metadata");
  return caps;
}

fhir::FhirResponse MemoryFhirServer::read(std::string_view type, std::string_view id) {
  std::lock_guard lock(mu_);
  const std::string ref = std::string(type) + "/" + std::string(id);
  log("GET " + std::string(type));
  count_request("GET", ref);
  auto it = resources_.find(ref);
  if (it == resources_.end()) throw fhir::NotFound("GET", base_ + "/" + ref, 404, "", "gone");
  return stored_response(ref);
}

fhir::FhirResponse MemoryFhirServer::vread(std::string_view type, std::string_view id,
                                           std::string_view version_id) {
  std::lock_guard lock(mu_);
  const std::string ref = std::string(type) + "/" + std::string(id);
  log("GET " + std::string(type));
  count_request("GET", ref);
  auto it = history_.find(ref);
  int v = 0;
  try {
    v = std::stoi(std::string(version_id));
  } catch (const std::exception&) {
  }
  if (it == history_.end() || v < 1 || v > static_cast<int>(it->second.size())) {
    throw fhir::NotFound("GET", base_ + "/" + ref + "/_history/" + std::string(version_id), 404, "",
                         "no such version");
  }
  fhir::FhirResponse out = response(it->second[v - 1]);
  out.id = std::string(id);
  out.version_id = std::string(version_id);
  return out;
}

fhir::SearchResult MemoryFhirServer::search(std::string_view type, const fhir::SearchParams& params,
                                            const fhir::SearchLimits&) {
  std::lock_guard lock(mu_);
  log("GET " + std::string(type));
  count_request("GET", std::string(type));
  fhir::SearchResult out;
  const int status = search_refusal(std::string(type), params);
  if (status == 400) {
    throw fhir::HttpStatusError("GET", base_ + "/" + std::string(type), 400, "",
                                "a search needs the patient");
  }
  if (status) refuse("GET", std::string(type), status);
  out.pages.push_back(std::make_shared<const fhir::JsonDocument>(
      fhir::JsonDocument::parse(searchset(std::string(type), params))));
  for (const auto& e : fhir::Bundle(out.pages.back()->root()).entries()) {
    (e.search_mode == "include" ? out.included : out.resources).push_back(e.resource);
  }
  return out;
}

int MemoryFhirServer::search_refusal(const std::string& type, const fhir::SearchParams& params) {
  searches_.push_back({type, params});
  if (auto it = fail_searches.find(type); it != fail_searches.end()) return it->second;
  if (patient_required_.count(type)) {
    bool scoped = false;
    for (const auto& [name, value] : params) scoped |= name == "patient" || name == "subject";
    if (!scoped) return 400;
  }
  return 0;
}

std::string MemoryFhirServer::searchset(const std::string& type,
                                        const fhir::SearchParams& params) const {
  std::string entries;
  std::vector<const fhir::JsonValue*> found;
  for (const auto& [ref, r] : resources_) {
    if (!of_type(ref, type) || !matches(r, params, ignore_subject)) continue;
    found.push_back(&r);
    entries += (entries.empty() ? "" : ",") + ("{\"resource\":" + r.dump() + "}");
  }
  std::string included;
  for (const std::string& ref : included_refs(found, type, params)) {
    if (auto it = resources_.find(ref); it != resources_.end())
      included += R"(,{"resource":)" + it->second.dump() + R"(,"search":{"mode":"include"}})";
  }
  // Includes apart from the matches, as the client sorts them.
  return R"({"resourceType":"Bundle","type":"searchset","meta":{"lastUpdated":")" + now() +
         R"("},"entry":[)" + entries +
         (entries.empty() ? included.substr(std::min<std::size_t>(1, included.size())) : included) +
         "]}";
}

// A GET entry of a batch: a read (Type/id) or a search (Type?query), each
// under the faults a request alone would meet.
std::string MemoryFhirServer::batch_get(const std::string& url) {
  const std::size_t q = url.find('?');
  const std::string path = url.substr(0, q);
  const std::size_t slash = path.find('/');
  if (slash != std::string::npos) {
    if (path.find('/', slash + 1) != std::string::npos) return failed_entry(400);
    auto it = resources_.find(path);
    if (it == resources_.end()) return failed_entry(404);
    return R"({"resource":)" + it->second.dump() + R"(,"response":{"status":"200 OK"}})";
  }
  fhir::SearchParams params;
  if (q != std::string::npos) {
    for (auto& [name, value] : parse_criteria(url.substr(q + 1)))
      params.emplace_back(percent_decoded(name), percent_decoded(value));
  }
  if (const int status = search_refusal(path, params)) return failed_entry(status);
  return R"({"resource":)" + searchset(path, params) + R"(,"response":{"status":"200 OK"}})";
}

MemoryFhirServer::Target MemoryFhirServer::resolve(const Store& in,
                                                   std::map<std::string, int>& next_ids,
                                                   const std::string& type, const Write& w) const {
  const std::string at = base_ + "/" + w.url;
  if (w.method == "POST") {
    if (!w.if_none_exist.empty()) {
      const auto found = select(in, type, w.if_none_exist);
      if (found.size() > 1)
        throw fhir::HttpStatusError("POST", at, 412, "", "ifNoneExist matched more than one");
      if (found.size() == 1) return {found.front(), false, false};  // 200: the match, unchanged
    }
    return {type + "/" + std::to_string(++next_ids[type]), true, true};
  }
  if (w.method != "PUT") {
    ADD_FAILURE() << "MemoryFhirServer: unsupported " << w.method << " " << w.url;
    throw fhir::HttpStatusError(w.method, at, 400, "", "unsupported");
  }
  if (const std::size_t q = w.url.find('?'); q != std::string::npos) {
    const auto found = select(in, type, w.url.substr(q + 1));
    if (found.size() > 1)
      throw fhir::HttpStatusError("PUT", at, 412, "", "the condition matched more than one");
    if (found.empty()) return {type + "/" + std::to_string(++next_ids[type]), true, true};
    return {found.front(), true, false};
  }
  if (!w.if_match.empty()) {
    auto it = in.find(w.url);
    const std::string current = it == in.end() ? "" : version(it->second);
    if ("W/\"" + current + "\"" != w.if_match)
      throw fhir::VersionConflict("PUT", at, 412, "", "version conflict");
  }
  return {w.url, true, in.count(w.url) == 0};
}

fhir::FhirResponse MemoryFhirServer::transaction(std::string bundle_json) {
  std::lock_guard lock(mu_);
  log("transaction");
  count_request("POST", "");
  auto doc = fhir::JsonDocument::parse(bundle_json);
  if (doc.root().string("type") == std::optional<std::string_view>("batch")) return batch(doc);
  if (refuse_transactions) {
    throw fhir::HttpStatusError("POST", base_, 405, "", "this server does not take transactions");
  }
  ++write_requests_;
  // A person's edits land before the transaction is processed.
  for (fhir::Node e : doc.root().array("entry")) {
    happen_before(std::string(e["request"].string("method").value_or("")),
                  std::string(e["request"].string("url").value_or("")));
  }
  Store next = resources_;
  std::map<std::string, int> next_ids = next_id_;
  std::map<std::string, std::string> resolved;  // fullUrl -> Type/id
  std::vector<std::pair<std::string, fhir::JsonValue>> writes;
  std::vector<std::pair<std::string, bool>> locations;  // ref, created
  for (fhir::Node e : doc.root().array("entry")) {
    fhir::JsonValue r = fhir::JsonValue::from(e["resource"]);
    const Write w{std::string(e["request"].string("method").value_or("")),
                  std::string(e["request"].string("url").value_or("")),
                  std::string(e["request"].string("ifNoneExist").value_or("")),
                  std::string(e["request"].string("ifMatch").value_or(""))};
    if (const int status = chosen_failure(w.method, w.url)) refuse(w.method, w.url, status);
    const Target target = resolve(next, next_ids, str(r, "resourceType"), w);
    if (const std::string full_url(e.string("fullUrl").value_or("")); !full_url.empty())
      resolved[full_url] = target.ref;
    locations.emplace_back(target.ref, target.created);
    if (target.store) writes.emplace_back(target.ref, std::move(r));
  }
  for (auto& [ref, r] : writes) {
    for (const auto& [from, to] : resolved) redirect(r, from, to);
    store(next, ref, std::move(r));
  }
  resources_ = std::move(next);
  next_id_ = std::move(next_ids);
  ++transactions_;
  // The locations carry the versions actually stored.
  std::string out;
  for (const auto& [ref, created] : locations) {
    out += (out.empty() ? "" : ",") + std::string(R"({"response":{"status":")") +
           (created ? "201 Created" : "200 OK") + R"(","location":")" + ref + "/_history/" +
           version(resources_.at(ref)) + "\"}}";
  }
  return response(R"({"resourceType":"Bundle","type":"transaction-response","entry":[)" + out +
                  "]}");
}

fhir::FhirResponse MemoryFhirServer::create(std::string_view type, std::string body,
                                            const fhir::SearchParams& if_none_exist) {
  std::lock_guard lock(mu_);
  const std::string url(type);
  count_request("POST", url);
  happen_before("POST", url);
  if (write_due_to_fail())
    throw fhir::HttpStatusError("POST", base_ + "/" + url, 503, "", "injected outage");
  if (const int status = chosen_failure("POST", url)) refuse("POST", url, status);
  std::string criteria;
  for (const auto& [k, v] : if_none_exist) criteria += (criteria.empty() ? "" : "&") + k + "=" + v;
  fhir::JsonValue r = fhir::JsonValue::from(fhir::JsonDocument::parse(body).root());
  return stored_response(write_one(url, {"POST", url, criteria, ""}, std::move(r)).ref);
}

fhir::FhirResponse MemoryFhirServer::update(std::string_view type, std::string_view id,
                                            std::string body, std::string_view if_match_version) {
  std::lock_guard lock(mu_);
  const std::string ref = std::string(type) + "/" + std::string(id);
  count_request("PUT", ref);
  happen_before("PUT", ref);
  if (write_due_to_fail())
    throw fhir::HttpStatusError("PUT", base_ + "/" + ref, 503, "", "injected outage");
  if (const int status = chosen_failure("PUT", ref)) refuse("PUT", ref, status);
  fhir::JsonValue r = fhir::JsonValue::from(fhir::JsonDocument::parse(body).root());
  const std::string if_match =
      if_match_version.empty() ? "" : "W/\"" + std::string(if_match_version) + "\"";
  return stored_response(
      write_one(std::string(type), {"PUT", ref, "", if_match}, std::move(r)).ref);
}

fhir::FhirResponse MemoryFhirServer::update_conditional(std::string_view type,
                                                        const fhir::SearchParams& criteria,
                                                        std::string body) {
  std::lock_guard lock(mu_);
  std::string url = std::string(type) + "?";
  for (std::size_t i = 0; i < criteria.size(); ++i)
    url += (i ? "&" : "") + criteria[i].first + "=" + criteria[i].second;
  count_request("PUT", url);
  happen_before("PUT", url);
  if (write_due_to_fail())
    throw fhir::HttpStatusError("PUT", base_ + "/" + url, 503, "", "injected outage");
  if (const int status = chosen_failure("PUT", url)) refuse("PUT", url, status);
  fhir::JsonValue r = fhir::JsonValue::from(fhir::JsonDocument::parse(body).root());
  return stored_response(write_one(std::string(type), {"PUT", url, "", ""}, std::move(r)).ref);
}

void MemoryFhirServer::count_request(const std::string& method, const std::string& what) {
  ++requests_seen_;
  if (auto it = fail_nth_request.find(requests_seen_); it != fail_nth_request.end())
    refuse(method, what, it->second);
}

void MemoryFhirServer::log(std::string request) { requests_.push_back(std::move(request)); }

void MemoryFhirServer::happen_before(const std::string& method, const std::string& url) {
  auto it = before_requests.find(method + " " + url);
  if (it == before_requests.end()) return;
  auto edit = std::move(it->second);
  before_requests.erase(it);
  edit(*this);
}

int MemoryFhirServer::chosen_failure(const std::string& method, const std::string& url) const {
  auto it = fail_requests.find(method + " " + url);
  return it == fail_requests.end() ? 0 : it->second;
}

bool MemoryFhirServer::write_due_to_fail() {
  ++write_requests_;
  return fail_after_writes && write_requests_ > *fail_after_writes;
}

// A chosen failure of a request on its own, as the client reports the
// status and its OperationOutcome.
void MemoryFhirServer::refuse(const std::string& method, const std::string& url, int status) const {
  const std::string at = base_ + "/" + url;
  const std::string outcome = std::string("error (") + issue_code(status) + ")";
  if (status == 404 || status == 410) throw fhir::NotFound(method, at, status, outcome, "injected");
  // As the client reports them (If-Match requests only send 412 here).
  if (status == 409 || status == 412)
    throw fhir::VersionConflict(method, at, status, outcome, "injected conflict");
  throw fhir::HttpStatusError(method, at, status, outcome, "injected failure");
}

void MemoryFhirServer::store(Store& in, const std::string& ref, fhir::JsonValue r) {
  auto it = in.find(ref);
  const int v = it == in.end() ? static_cast<int>(history_[ref].size()) + 1
                               : std::stoi(version(it->second)) + 1;
  r.set("id", ref.substr(ref.find('/') + 1));
  // The server owns versionId and lastUpdated; tags and profiles stay.
  fhir::JsonValue meta =
      r.find("meta") && r.find("meta")->is_object() ? *r.find("meta") : fhir::JsonValue::object();
  meta.set("versionId", std::to_string(v));
  meta.set("lastUpdated", now());
  r.set("meta", std::move(meta));
  auto& versions = history_[ref];
  versions.resize(v - 1);  // a rolled-back transaction's versions are not history
  versions.push_back(r.dump());
  in[ref] = std::move(r);
}

MemoryFhirServer::Target MemoryFhirServer::write_one(const std::string& type, const Write& w,
                                                     fhir::JsonValue r) {
  Target target = resolve(resources_, next_id_, type, w);
  if (target.store) store(resources_, target.ref, std::move(r));
  return target;
}

fhir::FhirResponse MemoryFhirServer::stored_response(const std::string& ref) const {
  fhir::FhirResponse out = response(resources_.at(ref).dump());
  out.id = ref.substr(ref.find('/') + 1);
  out.version_id = version(resources_.at(ref));
  out.etag = "W/\"" + out.version_id + "\"";
  out.location = base_ + "/" + ref + "/_history/" + out.version_id;
  return out;
}

// An R4 batch: each entry on its own, its outcome in the response entry.
fhir::FhirResponse MemoryFhirServer::batch(const fhir::JsonDocument& doc) {
  if (refuse_batch_reads) {
    for (fhir::Node e : doc.root().array("entry")) {
      if (e["request"].string("method") == std::optional<std::string_view>("GET"))
        throw fhir::HttpStatusError("POST", base_, 400, "", "batch GET entries are not taken");
    }
  }
  std::string out;
  for (fhir::Node e : doc.root().array("entry")) {
    const Write w{std::string(e["request"].string("method").value_or("")),
                  std::string(e["request"].string("url").value_or("")),
                  std::string(e["request"].string("ifNoneExist").value_or("")),
                  std::string(e["request"].string("ifMatch").value_or(""))};
    std::string answer;
    if (w.method == "GET") {
      out += (out.empty() ? "" : ",") + batch_get(w.url);
      continue;
    }
    happen_before(w.method, w.url);
    int status = write_due_to_fail() ? 503 : 0;
    if (!status) status = chosen_failure(w.method, w.url);
    if (!status) {
      try {
        fhir::JsonValue r = fhir::JsonValue::from(e["resource"]);
        const std::string type = str(r, "resourceType");
        const Target t = write_one(type, w, std::move(r));
        answer = std::string(R"({"response":{"status":")") +
                 (t.created ? "201 Created" : "200 OK") + R"(","location":")" + t.ref +
                 "/_history/" + version(resources_.at(t.ref)) + "\"}}";
      } catch (const fhir::HttpStatusError& err) {
        status = err.status();
      }
    }
    if (status) answer = failed_entry(status);
    out += (out.empty() ? "" : ",") + answer;
  }
  return response(R"({"resourceType":"Bundle","type":"batch-response","entry":[)" + out + "]}");
}

std::string MemoryFhirServer::now() const {
  return fhir::DateTime::from_epoch_ms(clock_->now_ms(), fhir::Precision::kMillisecond).to_string();
}

}  // namespace mst::adapter::testing
