// Views of a resource's common header and of the two container resources
// the adapter reads: Bundle and OperationOutcome.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/datatypes.h"
#include "mst/fhir/json.h"

namespace mst::fhir {

// A resource's identity and meta. Throws ElementError when `n` is not an
// object with a valid resourceType name, or has an id that is not a FHIR id.
class Resource {
 public:
  explicit Resource(Node n);

  Node node() const { return node_; }
  std::string_view type() const { return type_; }
  std::string_view id() const { return id_; }  // empty when the resource has none
  std::string_view version_id() const;         // ElementError when not a FHIR id
  std::optional<DateTime> last_updated() const;
  std::vector<Coding> tags() const;
  std::vector<std::string_view> profiles() const;
  // "Type/id", or empty when there is no id.
  std::string ref() const;

 private:
  Node node_;
  std::string_view type_;
  std::string_view id_;
};

struct BundleEntry {
  std::string_view full_url;
  Node resource;                 // absent when the entry carries none
  std::string_view search_mode;  // "match", "include", "outcome" or empty
  std::string_view request_method;
  std::string_view request_url;
  std::string_view response_status;  // e.g. "201 Created"
  std::string_view response_location;
  std::string_view response_etag;
};

class Bundle {
 public:
  // Throws ElementError when `n` is not a Bundle.
  explicit Bundle(Node n);

  std::string_view type() const;
  std::optional<std::int64_t> total() const;
  // URL of the link with this relation ("next", "self"), if any.
  std::optional<std::string_view> link(std::string_view relation) const;
  std::vector<BundleEntry> entries() const;

 private:
  Node node_;
};

struct OutcomeIssue {
  std::string severity;  // fatal | error | warning | information
  std::string code;
  std::string diagnostics;
  std::string details;
  std::vector<std::string> expression;
};

// Issues of an OperationOutcome; empty for anything else. Never throws:
// an OperationOutcome arrives on error paths, where a second error helps no one.
std::vector<OutcomeIssue> read_outcome_issues(Node n);
// One line: "error (processing): text; warning (...): text", at most `max_chars`.
std::string summarize_issues(const std::vector<OutcomeIssue>& issues, std::size_t max_chars = 300);
// True when any issue is fatal or error.
bool has_errors(const std::vector<OutcomeIssue>& issues);

}  // namespace mst::fhir
