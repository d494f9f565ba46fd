#include "ehr_proxy/request_rules.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>
#include <vector>

#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"

namespace mst::testing {

namespace {

struct Param {
  std::string raw;   // "name=value" as sent, so a forwarded query keeps its encoding
  std::string name;  // decoded, without a :modifier
  std::string value;
};

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::vector<Param> parse_query(std::string_view query) {
  std::vector<Param> out;
  while (!query.empty()) {
    const std::size_t amp = std::min(query.find('&'), query.size());
    const std::string_view pair = query.substr(0, amp);
    query.remove_prefix(std::min(amp + 1, query.size()));
    if (pair.empty()) continue;
    const std::size_t eq = std::min(pair.find('='), pair.size());
    std::string name = decode(pair.substr(0, eq));
    name = name.substr(0, name.find(':'));
    out.push_back({std::string(pair), std::move(name),
                   eq < pair.size() ? decode(pair.substr(eq + 1)) : std::string()});
  }
  return out;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    const std::size_t slash = std::min(path.find('/'), path.size());
    if (slash > 0) out.push_back(path.substr(0, slash));
    path.remove_prefix(std::min(slash + 1, path.size()));
  }
  return out;
}

bool is_type(std::string_view s) { return !s.empty() && s[0] >= 'A' && s[0] <= 'Z'; }

Verdict refuse(int status, std::string code, std::string diagnostics) {
  return {false, "", status, std::move(code), std::move(diagnostics)};
}

// The interaction code (CapabilityStatement vocabulary) of a request on a
// resource type, or "" for operations and what the rules do not govern.
std::string interaction_of(std::string_view method, const std::vector<std::string_view>& segs) {
  if (segs.size() >= 2 && segs[1].starts_with('$')) return "";
  if (segs.size() == 1) {
    if (method == "GET" || method == "HEAD") return "search-type";
    if (method == "POST") return "create";
    if (method == "PUT") return "update";  // conditional update
    if (method == "PATCH") return "patch";
    if (method == "DELETE") return "delete";
    return "";
  }
  if (segs.size() == 2 && segs[1] == "_search" && method == "POST") return "search-type";
  if (segs.size() == 2) {
    if (method == "GET" || method == "HEAD") return "read";
    if (method == "PUT") return "update";
    if (method == "PATCH") return "patch";
    if (method == "DELETE") return "delete";
    return "";
  }
  if (segs.size() >= 3 && segs[2] == "_history") {
    return segs.size() == 4 ? "vread" : "history-instance";
  }
  return "";
}

std::optional<Verdict> check_interaction(const EhrProfile& profile, std::string_view type,
                                         const std::string& interaction) {
  const ResourceRules* rules = profile.rules_for(type);
  if (interaction.empty() || !rules || !rules->interactions ||
      rules->interactions->contains(interaction)) {
    return std::nullopt;
  }
  return refuse(405, "not-supported",
                std::string(type) + " " + interaction + " is not supported by this server (" +
                    profile.name + ")");
}

std::optional<Verdict> check_search(const EhrProfile& profile, std::string_view type,
                                    std::vector<Param>& params);

// A transaction or batch: the kind must be offered, and each entry must be
// an interaction its type allows (a server refuses the whole transaction).
// A search entry meets the profile's search rules too: one the server would
// refuse, or answer as another search (a parameter dropped, _count capped),
// refuses the Bundle, so a batch cannot bypass what the search alone meets.
std::optional<Verdict> check_bundle(const EhrProfile& profile, std::string_view body) {
  std::string kind;
  std::vector<std::pair<std::string, std::string>> entries;  // method, url
  try {
    auto doc = fhir::JsonDocument::parse(body);
    fhir::Node root = doc.root();
    kind = std::string(root.string("type").value_or(""));
    for (fhir::Node entry : root.array("entry")) {
      fhir::Node request = entry.object("request");
      entries.emplace_back(request.string("method").value_or(""),
                           request.string("url").value_or(""));
    }
  } catch (const fhir::Error& e) {
    return refuse(400, "invalid", std::string("the body is not a FHIR Bundle: ") + e.what());
  }
  if (kind != "transaction" && kind != "batch") return std::nullopt;
  if (profile.system_interactions && !profile.system_interactions->contains(kind)) {
    return refuse(405, "not-supported",
                  "'" + kind + "' Bundles are not supported by this server (" + profile.name + ")");
  }
  for (const auto& [method, url] : entries) {
    const std::string_view path = std::string_view(url).substr(0, url.find('?'));
    const auto segs = split_path(path);
    if (segs.empty() || !is_type(segs[0])) continue;
    const std::string interaction = interaction_of(method, segs);
    if (auto refused = check_interaction(profile, segs[0], interaction)) {
      refused->status = 400;
      refused->diagnostics = "a " + kind + " entry asks for " + refused->diagnostics;
      return refused;
    }
    if (interaction != "search-type" || segs.size() != 1) continue;
    const std::size_t q = url.find('?');
    std::vector<Param> params = parse_query(
        q == std::string::npos ? std::string_view() : std::string_view(url).substr(q + 1));
    const std::vector<Param> asked = params;
    if (auto refused = check_search(profile, segs[0], params)) {
      refused->status = 400;
      refused->diagnostics = "a " + kind + " entry: " + refused->diagnostics;
      return refused;
    }
    const bool same = params.size() == asked.size() &&
                      std::equal(params.begin(), params.end(), asked.begin(),
                                 [](const Param& a, const Param& b) { return a.raw == b.raw; });
    if (!same) {
      return refuse(400, "not-supported",
                    "a " + kind + " entry searches " + std::string(segs[0]) +
                        " as this server would answer only alone (" + profile.name + ")");
    }
  }
  return std::nullopt;
}

std::optional<std::size_t> whole_number(std::string_view s) {
  std::size_t n = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return n;
}

// Unsupported parameters, required groups and the _count cap; rewrites
// `params` for an ignored parameter or a reduced or added _count.
std::optional<Verdict> check_search(const EhrProfile& profile, std::string_view type,
                                    std::vector<Param>& params) {
  const auto& unsupported = profile.unsupported_for(type);
  for (auto it = params.begin(); it != params.end();) {
    if (!unsupported.contains(it->name)) {
      ++it;
      continue;
    }
    if (profile.unsupported_action == UnsupportedParam::kReject) {
      return refuse(400, "not-supported",
                    "the search parameter " + it->name + " is not supported for " +
                        std::string(type) + " (" + profile.name + ")");
    }
    it = params.erase(it);
  }
  if (const ResourceRules* rules = profile.rules_for(type);
      rules && !rules->search_requires.empty()) {
    const auto has = [&](const std::string& name) {
      return std::any_of(params.begin(), params.end(),
                         [&](const Param& p) { return p.name == name && !p.value.empty(); });
    };
    const bool met = std::any_of(
        rules->search_requires.begin(), rules->search_requires.end(),
        [&](const auto& group) { return std::all_of(group.begin(), group.end(), has); });
    if (!met) {
      std::string groups;
      for (const auto& group : rules->search_requires) {
        std::string g;
        for (const auto& name : group) g += (g.empty() ? "" : "+") + name;
        groups += (groups.empty() ? "" : " or ") + g;
      }
      return refuse(400, "required",
                    std::string(type) + " search requires " + groups + " (" + profile.name + ")");
    }
  }
  auto count =
      std::find_if(params.begin(), params.end(), [](const Param& p) { return p.name == "_count"; });
  if (count == params.end()) {
    if (profile.count_default) {
      params.push_back({"_count=" + std::to_string(*profile.count_default), "_count",
                        std::to_string(*profile.count_default)});
    }
    return std::nullopt;
  }
  const auto n = whole_number(count->value);
  if (!n) return refuse(400, "invalid", "_count must be a whole number");
  if (profile.count_max && *n > *profile.count_max) {
    if (profile.count_over == CountOver::kReject) {
      return refuse(
          400, "too-costly",
          "_count above " + std::to_string(*profile.count_max) + " (" + profile.name + ")");
    }
    count->value = std::to_string(*profile.count_max);
    count->raw = "_count=" + count->value;
  }
  return std::nullopt;
}

}  // namespace

std::string outcome_json(std::string_view severity, std::string_view code,
                         std::string_view diagnostics) {
  using fhir::JsonValue;
  return JsonValue::object(
             {{"resourceType", "OperationOutcome"},
              {"issue",
               JsonValue::array({JsonValue::object(
                   {{"severity", severity}, {"code", code}, {"diagnostics", diagnostics}})})}})
      .dump();
}

Verdict judge_request(const EhrProfile& profile, std::string_view method, std::string_view target,
                      std::string_view body) {
  Verdict pass{true, std::string(target), 0, "", ""};
  const std::size_t q = std::min(target.find('?'), target.size());
  std::string_view path = target.substr(0, q);
  const std::string_view query = q < target.size() ? target.substr(q + 1) : std::string_view();
  if (!path.starts_with(profile.base_path)) return pass;
  path.remove_prefix(profile.base_path.size());
  if (!path.empty() && path.front() != '/') return pass;  // "/fhirx" is not below "/fhir"
  const auto segs = split_path(path);

  if (segs.empty()) {
    if (method == "POST") {
      if (auto refused = check_bundle(profile, body)) return *refused;
    }
    return pass;  // paging (?_getpages=) and system searches
  }
  if (!is_type(segs[0])) return pass;  // metadata, $operations, _history
  const std::string_view type = segs[0];
  const std::string interaction = interaction_of(method, segs);
  if (auto refused = check_interaction(profile, type, interaction)) return *refused;
  if (interaction != "search-type" || segs.size() != 1) return pass;

  std::vector<Param> params = parse_query(query);
  if (auto refused = check_search(profile, type, params)) return *refused;
  std::string rebuilt(target.substr(0, q));
  for (std::size_t i = 0; i < params.size(); ++i) rebuilt += (i == 0 ? "?" : "&") + params[i].raw;
  pass.target = std::move(rebuilt);
  return pass;
}

}  // namespace mst::testing
