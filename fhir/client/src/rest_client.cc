#include "mst/fhir/rest_client.h"

#include <cctype>
#include <unordered_set>

#include "mst/fhir/client_errors.h"
#include "mst/fhir/datatypes.h"
#include "search_pages.h"

namespace mst::fhir {

namespace {

constexpr std::string_view kFhirJson = "application/fhir+json";
constexpr std::string_view kFhirJsonBody = "application/fhir+json; charset=utf-8";

// W/"3" or "3" -> 3.
std::string version_from_etag(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return is_fhir_id(etag) ? std::string(etag) : std::string();
}

// [base]/Type/id[/_history/vid] -> (id, vid).
std::pair<std::string, std::string> id_from_location(std::string_view location) {
  if (auto q = location.find('?'); q != std::string_view::npos) location = location.substr(0, q);
  std::string version;
  if (auto h = location.rfind("/_history/"); h != std::string_view::npos) {
    version = std::string(location.substr(h + 10));
    location = location.substr(0, h);
  }
  auto slash = location.rfind('/');
  std::string_view id = slash == std::string_view::npos ? location : location.substr(slash + 1);
  if (!is_fhir_id(id)) return {};
  return {std::string(id), is_fhir_id(version) ? version : std::string()};
}

std::vector<OutcomeIssue> outcome_of(const std::string& body) {
  if (body.empty()) return {};
  try {
    auto doc = JsonDocument::parse(body);
    return read_outcome_issues(doc.root());
  } catch (const Error&) {
    return {};  // an HTML error page from a proxy has no outcome to summarize
  }
}

// True when repeating this Bundle cannot create duplicates: every entry is a
// read or a conditional write (or a delete).
bool transaction_is_repeatable(Node bundle) {
  for (Node entry : bundle.array("entry")) {
    if (!entry.is_object()) return false;
    Node request = entry.object("request");
    const std::string_view method = request.string("method").value_or("");
    const std::string_view url = request.string("url").value_or("");
    if (method == "GET" || method == "HEAD" || method == "DELETE") continue;
    if (method == "POST" && !request.string("ifNoneExist").value_or("").empty()) continue;
    if ((method == "PUT" || method == "PATCH") &&
        (!request.string("ifMatch").value_or("").empty() ||
         url.find('?') != std::string_view::npos)) {
      continue;
    }
    return false;
  }
  return true;
}

// A read answers with the resource asked for. Another type or id means a
// broken server or a redirect gone wrong, and a caller using it would take
// one resource for another (a plan built on an Observation as the Patient).
// The body's type and id passed Resource's lexical checks, so naming them is safe.
void require_requested(const std::string& method, const std::string& url,
                       const FhirResponse& response, std::string_view type, std::string_view id) {
  if (!response.body) {
    throw InvalidResponse(method, url, response.status, "", "the answer has no body");
  }
  Resource got(response.resource());
  if (got.type() != type) {
    throw InvalidResponse(method, url, response.status, "",
                          "answered with a resource of type " + std::string(got.type()) + ", not " +
                              std::string(type));
  }
  if (!got.id().empty() && got.id() != id) {
    throw InvalidResponse(method, url, response.status, "",
                          "answered with " + std::string(type) + "/" + std::string(got.id()) +
                              ", not the id asked for");
  }
}

}  // namespace

struct RestClient::Call {
  std::string method;
  std::string url;
  std::string body;
  Headers headers;  // beyond the common ones
  bool idempotent = false;
  bool if_match = false;
};

RestClient::RestClient(RestClientOptions options, std::shared_ptr<RetryingSender> sender,
                       std::shared_ptr<AuthProvider> auth)
    : options_(std::move(options)), sender_(std::move(sender)), auth_(std::move(auth)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/')
    options_.base_url.pop_back();
  if (!is_http_url(options_.base_url) ||
      options_.base_url.find_first_of("?#") != std::string::npos) {
    throw InvalidRequest(
        "", "", 0, "",
        "the FHIR server URL must be an absolute http(s) URL without query, got '" +
            redact_url(options_.base_url) + "'");
  }
  if (!sender_ || !auth_)
    throw InvalidRequest("", "", 0, "", "RestClient needs a sender and an auth provider");
}

// By value: the virtual signature lets RestClient move the request on.
// NOLINTNEXTLINE(performance-unnecessary-value-param)
HttpResponse Client::exchange(HttpRequest request, bool) {
  throw InvalidRequest(request.method, request.url, 0, "",
                       "this client cannot send requests outside the REST resource model");
}

// By value, as exchange().
// NOLINTNEXTLINE(performance-unnecessary-value-param)
HttpResponse Client::exchange_streamed(HttpRequest request, bool authorize, const BodySink& sink) {
  HttpResponse response = exchange(std::move(request), authorize);
  if (response.status >= 200 && response.status < 300) {
    if (!response.body.empty()) sink(response.body);
    response.body.clear();
  }
  return response;
}

HttpResponse RestClient::exchange(HttpRequest request, bool authorize) {
  return send_outside_model(std::move(request), authorize, nullptr);
}

HttpResponse RestClient::exchange_streamed(HttpRequest request, bool authorize,
                                           const BodySink& sink) {
  if (request.method != "GET") {
    throw InvalidRequest(request.method, request.url, 0, "", "only a GET is streamed");
  }
  return send_outside_model(std::move(request), authorize, &sink);
}

HttpResponse RestClient::send_outside_model(HttpRequest request, bool authorize,
                                            const BodySink* sink) {
  if (!is_http_url(request.url)) {
    throw InvalidRequest(request.method, request.url, 0, "", "not an absolute http(s) URL");
  }
  request.headers.emplace_back("User-Agent", options_.user_agent);
  // A Bulk Data output may live on a file server: the EHR's token stays home.
  const bool credentials = authorize && url_origin(request.url) == url_origin(options_.base_url);
  const bool idempotent = request.method == "GET" || request.method == "DELETE";
  const auto deadline = sender_->deadline_from_now();
  bool reauthenticated = false;
  for (;;) {
    HttpRequest attempt = request;
    if (credentials) auth_->authorize(attempt);
    // A 401 has no body for the sink, so asking again hands nothing twice.
    SendResult result = sink != nullptr
                            ? sender_->send_streamed(std::move(attempt), *sink, deadline)
                            : sender_->send(std::move(attempt), idempotent, deadline);
    if (credentials && result.response.status == 401 && !reauthenticated && auth_->invalidate()) {
      reauthenticated = true;
      continue;
    }
    return std::move(result.response);
  }
}

FhirResponse RestClient::execute(const Call& call) {
  HttpRequest request;
  request.method = call.method;
  request.url = call.url;
  request.headers = {{"Accept", std::string(kFhirJson)}, {"User-Agent", options_.user_agent}};
  if (!call.body.empty()) request.headers.emplace_back("Content-Type", std::string(kFhirJsonBody));
  request.headers.insert(request.headers.end(), call.headers.begin(), call.headers.end());
  request.body = call.body;

  const auto deadline = sender_->deadline_from_now();
  SendResult result;
  bool reauthenticated = false;
  std::string credential;  // to strip from server text that echoes it
  while (true) {
    HttpRequest attempt = request;
    auth_->authorize(attempt);
    for (const auto& [name, value] : attempt.headers) {
      if (name == "Authorization")
        credential = value.substr(std::min(value.find(' ') + 1, value.size()));
    }
    result = sender_->send(std::move(attempt), call.idempotent, deadline);
    // A 401 means the server did not act on the request, so even a plain
    // create may be repeated once with fresh credentials.
    if (result.response.status == 401 && !reauthenticated && auth_->invalidate()) {
      reauthenticated = true;
      continue;
    }
    break;
  }

  HttpResponse& response = result.response;
  const int status = response.status;
  if (status < 200 || status >= 300) {
    // Only the fixed-vocabulary summary of the body is kept; the credential
    // is stripped from our own text too, in case a transport message echoes it.
    std::string outcome = outcome_summary(outcome_of(response.body));
    std::string reason = redact_secret(result.gave_up, credential);
    if (status == 401) {
      throw AuthError(call.method, call.url, status, outcome,
                      reauthenticated
                          ? "credentials refused again after re-authentication"
                          : "credentials refused (" + std::string(auth_->scheme()) + " auth)");
    }
    if (status == 403)
      throw AuthError(call.method, call.url, status, outcome,
                      "access denied: check the client's scopes");
    if (status == 404 || status == 410)
      throw NotFound(call.method, call.url, status, outcome, reason);
    if (status == 409 || (status == 412 && call.if_match)) {
      throw VersionConflict(
          call.method, call.url, status, outcome,
          call.if_match ? "the resource changed since the version given in If-Match" : reason);
    }
    if (status == 412) reason = "a condition matched more than one resource";
    throw HttpStatusError(call.method, call.url, status, outcome, reason);
  }

  FhirResponse out;
  out.status = status;
  out.etag = std::string(response.header("etag").value_or(""));
  out.last_modified = std::string(response.header("last-modified").value_or(""));
  out.location = std::string(
      response.header("location").value_or(response.header("content-location").value_or("")));
  out.version_id = version_from_etag(out.etag);
  auto [loc_id, loc_version] = id_from_location(out.location);
  out.id = loc_id;
  if (out.version_id.empty()) out.version_id = loc_version;
  if (!response.body.empty()) {
    try {
      out.body = std::make_shared<const JsonDocument>(JsonDocument::parse(response.body));
      Node root = out.body->root();
      if (!root.is_object()) throw ElementError("the body is not a JSON object");
      Resource resource(root);
      if (resource.type() == "OperationOutcome") out.issues = read_outcome_issues(root);
      if (out.id.empty()) out.id = std::string(resource.id());
      if (out.version_id.empty()) out.version_id = std::string(resource.version_id());
    } catch (const Error& e) {
      throw InvalidResponse(call.method, call.url, status, "",
                            std::string("unusable response body: ") + e.what());
    }
  }
  return out;
}

Capabilities RestClient::capabilities() {
  Call call{"GET", options_.base_url + "/metadata", "", {}, true, false};
  FhirResponse response = execute(call);
  try {
    return read_capabilities(response.resource());
  } catch (const Error& e) {
    throw InvalidResponse(call.method, call.url, response.status, "", e.what());
  }
}

FhirResponse RestClient::read(std::string_view type, std::string_view id) {
  if (!is_resource_type_name(type))
    throw InvalidRequest("GET", options_.base_url, 0, "", "invalid resource type");
  if (!is_fhir_id(id))
    throw InvalidRequest("GET", options_.base_url, 0, "", "invalid " + std::string(type) + " id");
  const Call call{"GET", options_.base_url + "/" + std::string(type) + "/" + std::string(id),
                  "",    {},
                  true,  false};
  FhirResponse response = execute(call);
  require_requested(call.method, call.url, response, type, id);
  return response;
}

FhirResponse RestClient::vread(std::string_view type, std::string_view id,
                               std::string_view version) {
  if (!is_resource_type_name(type))
    throw InvalidRequest("GET", options_.base_url, 0, "", "invalid resource type");
  if (!is_fhir_id(id) || !is_fhir_id(version)) {
    throw InvalidRequest("GET", options_.base_url, 0, "",
                         "invalid " + std::string(type) + " id or version");
  }
  const Call call{"GET",
                  options_.base_url + "/" + std::string(type) + "/" + std::string(id) +
                      "/_history/" + std::string(version),
                  "",
                  {},
                  true,
                  false};
  FhirResponse response = execute(call);
  require_requested(call.method, call.url, response, type, id);
  return response;
}

SearchResult RestClient::search(std::string_view type, const SearchParams& params,
                                const SearchLimits& limits) {
  if (!is_resource_type_name(type))
    throw InvalidRequest("GET", options_.base_url, 0, "", "invalid resource type");
  std::string url = options_.base_url + "/" + std::string(type);
  if (!params.empty()) url += "?" + encode_query(params);
  SearchResult result;
  result.url = redact_url(url);
  page_on(std::move(url), true, limits, result);
  return result;
}

void RestClient::follow_next(const BatchGet&, std::string_view next, const SearchLimits& limits,
                             SearchResult& result) {
  // The batch's first page was asked of [base]; its links are relative to it.
  page_on(options_.base_url + "/", false, limits, result, next);
}

void RestClient::page_on(std::string url, bool fetch_first, const SearchLimits& limits,
                         SearchResult& result, std::optional<std::string_view> next) {
  const std::string origin = url_origin(options_.base_url);
  std::unordered_set<std::string> visited{url};
  if (!fetch_first) {
    // `next` came with the page already in `result`.
    std::optional<std::string> to =
        detail::next_page_url(result, next, url, origin, visited, limits);
    if (!to) return;
    url = std::move(*to);
  }
  while (true) {
    Call call{"GET", url, "", {}, true, false};
    // HAPI answers a repeated search from a cache for 60 s by default; a
    // change feed reading an old answer would move its checkpoint past changes
    // it never saw. Later pages come from the search the first one started.
    if (result.pages.empty()) call.headers.emplace_back("Cache-Control", "no-cache");
    FhirResponse page = execute(call);
    std::optional<std::string_view> page_next =
        detail::absorb_page(result, page.resource(), limits, call.method, call.url, page.status);
    result.pages.push_back(page.body);
    std::optional<std::string> to =
        detail::next_page_url(result, page_next, url, origin, visited, limits);
    if (!to) break;
    url = std::move(*to);
  }
}

FhirResponse RestClient::transaction(std::string bundle_json) {
  bool repeatable = false;
  try {
    auto doc = JsonDocument::parse(bundle_json);
    Bundle bundle(doc.root());
    if (bundle.type() != "transaction" && bundle.type() != "batch") {
      throw ElementError("Bundle.type is '" + std::string(bundle.type()) +
                         "', not transaction or batch");
    }
    repeatable = transaction_is_repeatable(doc.root());
  } catch (const Error& e) {
    throw InvalidRequest("POST", options_.base_url, 0, "",
                         std::string("not a transaction Bundle: ") + e.what());
  }
  return execute({"POST", options_.base_url, std::move(bundle_json), {}, repeatable, false});
}

namespace {

// The body must be a resource of `type` (and, for an update, carry `id`).
void check_body(const std::string& method, const std::string& url, const std::string& body,
                std::string_view type, std::string_view id) {
  try {
    auto doc = JsonDocument::parse(body);
    Resource resource(doc.root());
    if (resource.type() != type) {
      throw ElementError("the body is a " + std::string(resource.type()) + ", not a " +
                         std::string(type));
    }
    if (!id.empty() && resource.id() != id)
      throw ElementError("the body's id does not match the URL");
  } catch (const Error& e) {
    throw InvalidRequest(method, url, 0, "", e.what());
  }
}

}  // namespace

FhirResponse RestClient::create(std::string_view type, std::string body_json,
                                const SearchParams& if_none_exist) {
  if (!is_resource_type_name(type))
    throw InvalidRequest("POST", options_.base_url, 0, "", "invalid resource type");
  Call call{"POST", options_.base_url + "/" + std::string(type),
            "",     {{"Prefer", "return=representation"}},
            false,  false};
  check_body(call.method, call.url, body_json, type, "");
  if (!if_none_exist.empty()) {
    call.headers.emplace_back("If-None-Exist", encode_query(if_none_exist));
    call.idempotent = true;  // the server finds the first attempt's resource
  }
  call.body = std::move(body_json);
  return execute(call);
}

FhirResponse RestClient::update(std::string_view type, std::string_view id, std::string body_json,
                                std::string_view if_match_version) {
  if (!is_resource_type_name(type))
    throw InvalidRequest("PUT", options_.base_url, 0, "", "invalid resource type");
  if (!is_fhir_id(id))
    throw InvalidRequest("PUT", options_.base_url, 0, "", "invalid " + std::string(type) + " id");
  Call call{"PUT", options_.base_url + "/" + std::string(type) + "/" + std::string(id),
            "",    {{"Prefer", "return=representation"}},
            false, false};
  check_body(call.method, call.url, body_json, type, id);
  if (!if_match_version.empty()) {
    if (!is_fhir_id(if_match_version))
      throw InvalidRequest(call.method, call.url, 0, "", "invalid version id");
    call.headers.emplace_back("If-Match", "W/\"" + std::string(if_match_version) + "\"");
    call.idempotent = true;
    call.if_match = true;
  }
  call.body = std::move(body_json);
  return execute(call);
}

FhirResponse RestClient::update_conditional(std::string_view type, const SearchParams& criteria,
                                            std::string body_json) {
  if (!is_resource_type_name(type))
    throw InvalidRequest("PUT", options_.base_url, 0, "", "invalid resource type");
  if (criteria.empty()) {
    throw InvalidRequest("PUT", options_.base_url, 0, "",
                         "a conditional update needs search criteria");
  }
  Call call{"PUT", options_.base_url + "/" + std::string(type) + "?" + encode_query(criteria),
            "",    {{"Prefer", "return=representation"}},
            true,  false};
  check_body(call.method, call.url, body_json, type, "");
  call.body = std::move(body_json);
  return execute(call);
}

}  // namespace mst::fhir
