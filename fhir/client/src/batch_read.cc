#include <cstdlib>

#include "mst/fhir/client.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/datatypes.h"
#include "mst/fhir/json_value.h"
#include "search_pages.h"

namespace mst::fhir {

namespace {

std::string entry_url(const BatchGet& get) {
  if (!get.id.empty()) return get.type + "/" + get.id;
  return get.params.empty() ? get.type : get.type + "?" + encode_query(get.params);
}

bool worth_retrying(int status) { return status >= 500 || status == 408 || status == 429; }

// The error the same GET alone would have raised (RestClient::execute).
[[noreturn]] void throw_entry_error(const std::string& url, int status, Node outcome,
                                    std::string_view status_text) {
  const std::string summary = outcome_summary(read_outcome_issues(outcome));
  const std::string reason =
      "batch entry failed with " + (status_text.empty() ? "no status" : std::string(status_text));
  if (status == 401 || status == 403) throw AuthError("GET", url, status, summary, reason);
  if (status == 404 || status == 410) throw NotFound("GET", url, status, summary, reason);
  throw HttpStatusError("GET", url, status, summary, reason);
}

}  // namespace

void Client::follow_next(const BatchGet& get, std::string_view, const SearchLimits& limits,
                         SearchResult& result) {
  result = search(get.type, get.params, limits);
}

std::vector<SearchResult> Client::batch_read(const std::vector<BatchGet>& gets,
                                             const SearchLimits& limits) {
  std::vector<SearchResult> out;
  if (gets.empty()) return out;
  JsonValue entries = JsonValue::array();
  for (const auto& get : gets) {
    if (!is_resource_type_name(get.type))
      throw InvalidRequest("GET", base_url(), 0, "", "invalid resource type");
    entries.push(JsonValue::object(
        {{"request", JsonValue::object({{"method", "GET"}, {"url", entry_url(get)}})}}));
  }
  JsonValue bundle = JsonValue::object({{"resourceType", "Bundle"}, {"type", "batch"}});
  bundle.set("entry", std::move(entries));
  const FhirResponse response = transaction(bundle.dump());
  std::vector<BundleEntry> answers;
  std::vector<Node> answer_nodes;
  try {
    Bundle answer(response.resource());
    answers = answer.entries();
    for (Node n : response.resource().array("entry")) answer_nodes.push_back(n);
  } catch (const Error& e) {
    throw InvalidResponse("POST", base_url(), response.status, "",
                          std::string("not a batch-response Bundle: ") + e.what());
  }
  if (answers.size() != gets.size()) {
    throw InvalidResponse("POST", base_url(), response.status, "",
                          "the batch response has " + std::to_string(answers.size()) +
                              " entries for " + std::to_string(gets.size()) + " requests");
  }
  out.reserve(gets.size());
  for (std::size_t i = 0; i < gets.size(); ++i) {
    const BatchGet& get = gets[i];
    const std::string url = base_url() + "/" + entry_url(get);
    const int status = std::atoi(std::string(answers[i].response_status).c_str());
    SearchResult result;
    result.url = redact_url(url);
    if (status < 200 || status >= 300) {
      if (!worth_retrying(status))
        throw_entry_error(url, status, answer_nodes[i]["response"]["outcome"],
                          answers[i].response_status);
      // Alone, the request gets the client's retries, as it would have
      // outside a batch.
      if (get.id.empty()) {
        out.push_back(search(get.type, get.params, limits));
      } else {
        FhirResponse alone = read(get.type, get.id);
        result.pages.push_back(alone.body);
        result.resources.push_back(alone.resource());
        out.push_back(std::move(result));
      }
      continue;
    }
    const Node resource = answers[i].resource;
    if (!get.id.empty()) {
      if (!resource.is_object() ||
          resource.string("resourceType") != std::optional<std::string_view>(get.type) ||
          resource.string("id") != std::optional<std::string_view>(get.id)) {
        throw InvalidResponse("GET", url, status, "",
                              "the batch entry does not hold the " + get.type + " asked for");
      }
      result.pages.push_back(response.body);
      result.resources.push_back(resource);
      out.push_back(std::move(result));
      continue;
    }
    const std::optional<std::string_view> next =
        detail::absorb_page(result, resource, limits, "GET", url, status);
    result.pages.push_back(response.body);
    if (result.complete && next && !next->empty()) follow_next(get, *next, limits, result);
    out.push_back(std::move(result));
  }
  return out;
}

}  // namespace mst::fhir
