#include "mst/fhir/resource.h"

#include "mst/fhir/safe_text.h"

namespace mst::fhir {

Resource::Resource(Node n) : node_(n) {
  if (!n.is_object()) throw ElementError("a resource must be a JSON object");
  auto type = n.string("resourceType");
  if (!type || type->empty()) throw ElementError("resource has no resourceType");
  // Neither is quoted: they come from the server and go into logs, refs and
  // URLs, so a broken one must not carry line breaks or path separators along.
  if (!is_resource_type_name(*type)) {
    throw ElementError("resourceType is not a FHIR resource type name");
  }
  type_ = *type;
  id_ = n.string("id").value_or("");
  if (!id_.empty() && !is_fhir_id(id_)) throw ElementError("resource id is not a valid FHIR id");
}

std::string_view Resource::version_id() const {
  const std::string_view v = node_.object("meta").string("versionId").value_or("");
  if (!v.empty() && !is_fhir_id(v)) throw ElementError("meta.versionId is not a valid FHIR id");
  return v;
}

std::optional<DateTime> Resource::last_updated() const {
  return read_datetime(node_.object("meta")["lastUpdated"]);
}

std::vector<Coding> Resource::tags() const {
  std::vector<Coding> out;
  for (Node t : node_.object("meta").array("tag")) {
    if (auto c = read_coding(t)) out.push_back(*c);
  }
  return out;
}

std::vector<std::string_view> Resource::profiles() const {
  std::vector<std::string_view> out;
  for (Node p : node_.object("meta").array("profile")) out.push_back(p.as_string());
  return out;
}

std::string Resource::ref() const {
  if (id_.empty()) return {};
  std::string r(type_);
  r.push_back('/');
  r.append(id_);
  return r;
}

Bundle::Bundle(Node n) : node_(n) {
  if (Resource(n).type() != "Bundle") throw ElementError("expected a Bundle");
}

std::string_view Bundle::type() const { return node_.string("type").value_or(""); }

std::optional<std::int64_t> Bundle::total() const { return node_.integer("total"); }

std::optional<std::string_view> Bundle::link(std::string_view relation) const {
  for (Node l : node_.array("link")) {
    if (l.string("relation") == relation) return l.string("url");
  }
  return std::nullopt;
}

std::vector<BundleEntry> Bundle::entries() const {
  std::vector<BundleEntry> out;
  auto items = node_.array("entry");
  out.reserve(items.size());
  for (Node e : items) {
    if (!e.is_object()) throw ElementError("Bundle.entry must hold objects");
    BundleEntry be;
    be.full_url = e.string("fullUrl").value_or("");
    be.resource = e.object("resource");
    Node search = e.object("search");
    be.search_mode = search.string("mode").value_or("");
    Node req = e.object("request");
    be.request_method = req.string("method").value_or("");
    be.request_url = req.string("url").value_or("");
    Node resp = e.object("response");
    be.response_status = resp.string("status").value_or("");
    be.response_location = resp.string("location").value_or("");
    be.response_etag = resp.string("etag").value_or("");
    out.push_back(be);
  }
  return out;
}

namespace {

std::string safe_string(Node n, std::string_view key) {
  Node v = n[key];
  return v.is_string() ? std::string(v.as_string()) : std::string();
}

}  // namespace

std::vector<OutcomeIssue> read_outcome_issues(Node n) {
  std::vector<OutcomeIssue> out;
  try {
    if (!n.is_object() || n.string("resourceType") != "OperationOutcome") return out;
    Node issues = n["issue"];
    if (!issues.is_array()) return out;
    for (Node i : issues.elements()) {
      if (!i.is_object()) continue;
      OutcomeIssue issue;
      issue.severity = safe_string(i, "severity");
      issue.code = safe_string(i, "code");
      issue.diagnostics = safe_string(i, "diagnostics");
      Node details = i["details"];
      if (details.is_object()) issue.details = safe_string(details, "text");
      Node expr = i["expression"];
      if (expr.is_array()) {
        for (Node e : expr.elements()) {
          if (e.is_string()) issue.expression.emplace_back(e.as_string());
        }
      }
      out.push_back(std::move(issue));
    }
  } catch (const Error&) {
    // A malformed OperationOutcome yields what was read so far.
  }
  return out;
}

std::string summarize_issues(const std::vector<OutcomeIssue>& issues, std::size_t max_chars) {
  std::string s;
  for (const auto& i : issues) {
    if (!s.empty()) s += "; ";
    s += i.severity.empty() ? "issue" : i.severity;
    if (!i.code.empty()) s += " (" + i.code + ")";
    const std::string& text = !i.diagnostics.empty() ? i.diagnostics : i.details;
    if (!text.empty()) s += ": " + text;
    if (s.size() > max_chars) break;
  }
  // One line, valid text wherever it is written.
  return cut_utf8(printable(s), max_chars);
}

bool has_errors(const std::vector<OutcomeIssue>& issues) {
  for (const auto& i : issues) {
    if (i.severity == "error" || i.severity == "fatal") return true;
  }
  return false;
}

}  // namespace mst::fhir
