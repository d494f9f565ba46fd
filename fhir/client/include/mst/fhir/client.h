// The FHIR REST operations the adapter uses, as an interface so pipelines
// and tests can run against a mock. Every call throws a ClientError subclass
// (client_errors.h) on failure; results own their parsed JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/http_transport.h"
#include "mst/fhir/json.h"
#include "mst/fhir/resource.h"
#include "mst/fhir/url.h"

namespace mst::fhir {

using SearchParams = QueryParams;

// One answer from the server. Copies share the parsed body, so resource()
// stays valid as long as any copy lives.
struct FhirResponse {
  int status = 0;
  std::string etag;           // as sent, e.g. W/"3"
  std::string version_id;     // from the ETag, else Location, else meta.versionId
  std::string location;       // Location (or Content-Location) header
  std::string id;             // logical id from Location, else from the resource
  std::string last_modified;  // Last-Modified header
  // Issues when the body is an OperationOutcome (e.g. a 200 with warnings).
  std::vector<OutcomeIssue> issues;
  std::shared_ptr<const JsonDocument> body;  // null when the response had no body

  Node resource() const { return body ? body->root() : Node(); }
};

struct SearchLimits {
  std::size_t max_pages = 50;
  std::size_t max_resources = 5000;  // match entries, over all pages
};

// A search followed through Bundle.link[next]. Nodes point into `pages`.
struct SearchResult {
  std::vector<std::shared_ptr<const JsonDocument>> pages;
  std::vector<Node> resources;  // search.mode "match" (or unset), in server order
  std::vector<Node> included;   // search.mode "include"
  // search.mode "outcome" entries (Epic puts OperationOutcome warnings in
  // search results): reported, never taken as data.
  std::vector<OutcomeIssue> warnings;
  std::optional<std::int64_t> total;  // Bundle.total of the first page, if sent
  // False when paging stopped before the server's last page; the reason says
  // why (a bound was hit, a next link repeated or pointed to another origin).
  bool complete = true;
  std::string incomplete_reason;
  std::string url;  // the first page's URL, redacted

  // Throws SearchIncomplete (with the reason) unless complete.
  void require_complete() const;
};

struct ResourceSupport {
  std::set<std::string, std::less<>> interactions;  // read, vread, update, create, search-type, ...
  std::set<std::string, std::less<>> search_params;  // names
  bool conditional_create = false;
  bool conditional_update = false;
  // The parameter groups a search must carry one of in full, from the
  // capabilitystatement-search-parameter-combination extension (EHRs that
  // refuse a search without the patient); empty: any search is taken.
  std::vector<std::vector<std::string>> required_search_params = {};
  std::set<std::string, std::less<>> operations = {};  // names without `$`, e.g. export
};

// What a server's CapabilityStatement (rest.mode = server) declares.
struct Capabilities {
  std::string fhir_version;
  std::string software;  // "name version"
  std::map<std::string, ResourceSupport, std::less<>> resources;
  std::set<std::string, std::less<>> system_interactions;  // transaction, batch, search-system, ...
  std::set<std::string, std::less<>> system_operations;    // names without `$`, e.g. export

  bool is_r4() const;  // fhirVersion 4.0.x
  bool supports(std::string_view type, std::string_view interaction) const;
  bool supports_search_param(std::string_view type, std::string_view param) const;
  // Whether a search of `type` carrying `params` (names) meets one of its
  // declared required combinations; true when none is declared.
  bool search_allowed(std::string_view type,
                      const std::set<std::string, std::less<>>& params) const;
  bool supports_system(std::string_view interaction) const;
};

// Reads a CapabilityStatement. Throws ElementError when `n` is not one.
Capabilities read_capabilities(Node n);

// One GET of a batch read: a read of type/id when `id` is set, else a search.
struct BatchGet {
  std::string type;
  std::string id;
  SearchParams params;
};

class Client {
 public:
  virtual ~Client() = default;

  // The server's base URL, without a trailing slash.
  virtual const std::string& base_url() const = 0;
  // GET [base]/metadata.
  virtual Capabilities capabilities() = 0;
  // GET [base]/type/id. NotFound on 404/410.
  virtual FhirResponse read(std::string_view type, std::string_view id) = 0;
  // GET [base]/type/id/_history/version.
  virtual FhirResponse vread(std::string_view type, std::string_view id,
                             std::string_view version) = 0;
  // GET [base]/type?params, then every next page within `limits`.
  virtual SearchResult search(std::string_view type, const SearchParams& params,
                              const SearchLimits& limits) = 0;
  // POST [base] with a transaction or batch Bundle; the response resource is
  // the transaction-response Bundle.
  virtual FhirResponse transaction(std::string bundle_json) = 0;
  // POST [base] with one batch Bundle of the GETs (R4 http.html#brules):
  // one request where `gets` would be many. A search's answer is followed
  // through its next links within `limits` as search() does; a read's
  // resource is the one match. A failed entry throws what the same request
  // alone would (NotFound, AuthError, HttpStatusError); one failed with a
  // status worth retrying (5xx, 408, 429) is sent again alone, under the
  // client's retry policy, first.
  std::vector<SearchResult> batch_read(const std::vector<BatchGet>& gets,
                                       const SearchLimits& limits);
  // POST [base]/type; with `if_none_exist`, a conditional create.
  virtual FhirResponse create(std::string_view type, std::string body_json,
                              const SearchParams& if_none_exist) = 0;
  // PUT [base]/type/id; with `if_match_version`, fails with VersionConflict
  // when the server holds another version.
  virtual FhirResponse update(std::string_view type, std::string_view id, std::string body_json,
                              std::string_view if_match_version) = 0;
  // PUT [base]/type?criteria: updates the one match, or creates.
  virtual FhirResponse update_conditional(std::string_view type, const SearchParams& criteria,
                                          std::string body_json) = 0;
  // One request outside the resource model (a Bulk Data kick-off, status
  // poll or file download), with the client's retries, deadline and
  // User-Agent; answers whatever the status. Credentials are added only when
  // `authorize` and the URL has the base URL's origin. Throws
  // ServerUnreachable, DeadlineExceeded, or InvalidRequest (not http(s));
  // clients that cannot do it throw InvalidRequest.
  virtual HttpResponse exchange(HttpRequest request, bool authorize);
  // exchange() of a GET whose body may be large (a Bulk Data file): a 2xx
  // body goes to `sink` as it arrives and the returned body is empty; other
  // answers keep theirs. Repeated only while nothing has reached the sink;
  // a connection lost later throws ServerUnreachable. The default hands
  // exchange()'s whole body over at once.
  virtual HttpResponse exchange_streamed(HttpRequest request, bool authorize, const BodySink& sink);

 protected:
  // Follows `next` (a batch entry's searchset link) from the pages already
  // in `result`. By default asks search() again for `get` from its start;
  // RestClient goes on from the link.
  virtual void follow_next(const BatchGet& get, std::string_view next, const SearchLimits& limits,
                           SearchResult& result);
};

}  // namespace mst::fhir
