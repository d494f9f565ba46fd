#include "staged_write.h"

#include <map>
#include <set>
#include <stdexcept>

#include "mst/fhir/client_errors.h"
#include "mst/fhir/datatypes.h"
#include "mst/fhir/json.h"
#include "mst/fhir/resource.h"

namespace mst::adapter {

namespace {

std::string str(const fhir::JsonValue* v) { return v && v->is_string() ? v->str() : ""; }

std::string resource_type(const fhir::JsonValue& entry) {
  const auto* r = entry.find("resource");
  return r ? str(r->find("resourceType")) : "";
}

// The CarePlan names every member and the Provenance names the CarePlan, so
// they go last whatever the references say.
int rank(const fhir::JsonValue& entry) {
  const std::string type = resource_type(entry);
  return type == "CarePlan" ? 1 : type == "Provenance" ? 2 : 0;
}

void collect_references(const fhir::JsonValue& v, std::set<std::string>& out) {
  if (v.is_array()) {
    for (const auto& i : v.items()) collect_references(i, out);
  } else if (v.is_object()) {
    for (const auto& [key, value] : v.members()) {
      if (key == "reference" && value.is_string()) {
        out.insert(value.str());
      } else {
        collect_references(value, out);
      }
    }
  }
}

void redirect(fhir::JsonValue& v, const std::map<std::string, std::string>& to) {
  if (v.is_array()) {
    for (auto& i : v.items()) redirect(i, to);
  } else if (v.is_object()) {
    for (auto& [key, value] : v.members()) {
      if (key == "reference" && value.is_string()) {
        if (auto it = to.find(value.str()); it != to.end()) value = fhir::JsonValue(it->second);
      } else {
        redirect(value, to);
      }
    }
  }
}

// "identifier=sys|value" (an ifNoneExist as the builder writes it) as
// search parameters.
fhir::SearchParams criteria(const std::string& if_none_exist) {
  fhir::SearchParams out;
  std::size_t start = 0;
  while (start < if_none_exist.size()) {
    const std::size_t amp = std::min(if_none_exist.find('&', start), if_none_exist.size());
    const std::string pair = if_none_exist.substr(start, amp - start);
    const std::size_t eq = pair.find('=');
    if (eq != std::string::npos) out.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
    start = amp + 1;
  }
  return out;
}

// "W/\"3\"" -> "3".
std::string version_of_etag(const std::string& etag) {
  const std::size_t open = etag.find('"');
  const std::size_t close = etag.rfind('"');
  if (open == std::string::npos || close <= open) return etag;
  return etag.substr(open + 1, close - open - 1);
}

std::string location(const std::string& type, const std::string& id, const std::string& version) {
  return type + "/" + id + (version.empty() ? "" : "/_history/" + version);
}

// One entry as its own REST request.
std::string send_one(fhir::Client& client, const fhir::JsonValue& entry,
                     const fhir::JsonValue& resource) {
  const fhir::JsonValue* request = entry.find("request");
  const std::string method = request ? str(request->find("method")) : "";
  const std::string url = request ? str(request->find("url")) : "";
  const std::string type = str(resource.find("resourceType"));
  fhir::FhirResponse resp;
  if (method == "POST") {
    resp = client.create(type, resource.dump(), criteria(str(request->find("ifNoneExist"))));
  } else if (method == "PUT" && url.find('?') == std::string::npos) {
    const std::string id = url.substr(url.find('/') + 1);
    resp = client.update(type, id, resource.dump(), version_of_etag(str(request->find("ifMatch"))));
    if (resp.id.empty()) resp.id = id;
  } else {
    throw fhir::InvalidRequest(method, client.base_url(), 0, "",
                               "the adapter does not send " + method + " " + type + " entries");
  }
  if (resp.id.empty()) {
    throw fhir::InvalidResponse(method, client.base_url() + "/" + type, resp.status, "",
                                "the server did not say where it put the " + type);
  }
  return location(type, resp.id, resp.version_id);
}

// Where a batch put one entry, or the error its failed entry stands for,
// with the issues of the entry's OperationOutcome (R4
// Bundle.entry.response.outcome) in the server's words.
std::string batch_entry_result(const fhir::BundleEntry& answer, fhir::Node answer_node,
                               const fhir::JsonValue& sent, const std::string& base_url) {
  const std::string status(answer.response_status);
  const int code = std::atoi(status.c_str());
  const fhir::JsonValue* request = sent.find("request");
  const std::string method = str(request->find("method"));
  const std::string url = base_url + "/" + str(request->find("url"));
  if (code < 200 || code >= 300) {
    const std::string reason = "batch entry failed with " + (status.empty() ? "no status" : status);
    const std::string outcome =
        fhir::outcome_summary(fhir::read_outcome_issues(answer_node["response"]["outcome"]));
    if (code == 409 || (code == 412 && request->find("ifMatch")))
      throw fhir::VersionConflict(method, url, code, outcome, reason);
    throw fhir::HttpStatusError(method, url, code, outcome, reason);
  }
  const fhir::Reference ref = fhir::Reference::parse(answer.response_location);
  if (ref.id.empty()) {
    throw fhir::InvalidResponse(method, url, code, "",
                                "the batch response did not say where it put the entry");
  }
  std::string version = ref.version;
  if (version.empty()) version = version_of_etag(std::string(answer.response_etag));
  return location(ref.type, ref.id, version);
}

}  // namespace

std::vector<std::vector<std::size_t>> write_stages(const fhir::JsonValue& bundle, WriteMode mode) {
  if (mode != WriteMode::kBatch && mode != WriteMode::kIndividual)
    throw std::invalid_argument("write_stages: only batch and individual requests are staged");
  const auto* entries = bundle.find("entry");
  if (entries == nullptr || !entries->is_array()) return {};
  const auto& items = entries->items();
  std::map<std::string, std::size_t> by_full_url;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string full_url = str(items[i].find("fullUrl"));
    if (!full_url.empty()) by_full_url[full_url] = i;
  }
  std::vector<std::set<std::size_t>> deps(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::set<std::string> refs;
    if (const auto* r = items[i].find("resource")) collect_references(*r, refs);
    for (const auto& ref : refs) {
      auto it = by_full_url.find(ref);
      if (it != by_full_url.end() && it->second != i) deps[i].insert(it->second);
    }
  }
  std::vector<std::vector<std::size_t>> stages;
  std::vector<bool> done(items.size(), false);
  std::size_t left = items.size();
  while (left > 0) {
    int lowest = 3;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!done[i]) lowest = std::min(lowest, rank(items[i]));
    }
    std::vector<std::size_t> stage;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (done[i] || rank(items[i]) != lowest) continue;
      bool ready = true;
      for (std::size_t d : deps[i]) ready = ready && done[d];
      if (!ready) continue;
      stage.push_back(i);
      if (mode == WriteMode::kIndividual) break;
    }
    if (stage.empty())
      throw std::invalid_argument("write_stages: the entries' references form a cycle");
    for (std::size_t i : stage) done[i] = true;
    left -= stage.size();
    stages.push_back(std::move(stage));
  }
  return stages;
}

std::vector<std::string> send_staged(fhir::Client& client, const fhir::JsonValue& bundle,
                                     WriteMode mode, std::vector<std::string>* progress) {
  const auto stages = write_stages(bundle, mode);
  if (stages.empty()) return {};
  const auto& items = bundle.find("entry")->items();
  std::vector<std::string> local;
  std::vector<std::string>& where = progress ? *progress : local;
  where.assign(items.size(), "");
  std::map<std::string, std::string> resolved;  // fullUrl -> Type/id
  auto resolved_resource = [&](std::size_t i) {
    fhir::JsonValue r = *items[i].find("resource");
    redirect(r, resolved);
    return r;
  };
  auto remember = [&](std::size_t i, const std::string& loc) {
    where[i] = loc;
    const fhir::Reference ref = fhir::Reference::parse(loc);
    const std::string full_url = str(items[i].find("fullUrl"));
    if (!full_url.empty()) resolved[full_url] = ref.type + "/" + ref.id;
  };
  for (const auto& stage : stages) {
    if (mode == WriteMode::kIndividual) {
      const std::size_t i = stage.front();
      remember(i, send_one(client, items[i], resolved_resource(i)));
      continue;
    }
    // A batch resolves no references between its entries, so each stage
    // carries only entries whose references are already resolved.
    fhir::JsonValue batch =
        fhir::JsonValue::object({{"resourceType", "Bundle"}, {"type", "batch"}});
    fhir::JsonValue batch_entries = fhir::JsonValue::array();
    for (std::size_t i : stage) {
      fhir::JsonValue e = fhir::JsonValue::object({});
      if (const auto* full_url = items[i].find("fullUrl");
          full_url && full_url->is_string() && full_url->str().rfind("urn:", 0) != 0)
        e.set("fullUrl", full_url->str());
      e.set("resource", resolved_resource(i));
      e.set("request", *items[i].find("request"));
      batch_entries.push(std::move(e));
    }
    batch.set("entry", std::move(batch_entries));
    fhir::FhirResponse resp = client.transaction(batch.dump());
    std::vector<fhir::BundleEntry> answers;
    std::vector<fhir::Node> answer_nodes;
    try {
      answers = fhir::Bundle(resp.resource()).entries();
      for (fhir::Node n : resp.resource().array("entry")) answer_nodes.push_back(n);
    } catch (const fhir::Error& e) {
      throw fhir::InvalidResponse("POST", client.base_url(), resp.status, "",
                                  std::string("unusable batch response: ") + e.what());
    }
    if (answers.size() != stage.size() || answer_nodes.size() != stage.size()) {
      throw fhir::InvalidResponse("POST", client.base_url(), resp.status, "",
                                  "the batch response has " + std::to_string(answers.size()) +
                                      " entries for " + std::to_string(stage.size()) + " sent");
    }
    // The first failed entry stops the write: the CarePlan is never sent
    // after a member failed, and the next run's searches find what this
    // batch did write.
    for (std::size_t k = 0; k < stage.size(); ++k)
      remember(stage[k],
               batch_entry_result(answers[k], answer_nodes[k], items[stage[k]], client.base_url()));
  }
  std::vector<std::string> out;
  for (const auto& w : where) {
    if (!w.empty()) out.push_back(w);
  }
  return out;
}

}  // namespace mst::adapter
