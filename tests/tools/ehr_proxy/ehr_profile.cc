#include "ehr_proxy/ehr_profile.h"

#include <rapidjson/document.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "mst/fhir/json.h"

namespace mst::testing {

namespace {

using rapidjson::Value;

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw std::invalid_argument("profile " + where + ": " + what);
}

std::string text(const Value& v, const std::string& where) {
  if (!v.IsString()) bad(where, "must be a string");
  return std::string(v.GetString(), v.GetStringLength());
}

std::set<std::string> text_set(const Value& v, const std::string& where) {
  if (!v.IsArray()) bad(where, "must be an array of strings");
  std::set<std::string> out;
  for (const Value& item : v.GetArray()) out.insert(text(item, where));
  return out;
}

std::size_t count(const Value& v, const std::string& where) {
  if (!v.IsUint64() || v.GetUint64() == 0) bad(where, "must be a whole number above 0");
  return static_cast<std::size_t>(v.GetUint64());
}

template <typename Enum, std::size_t N>
Enum choice(const Value& v, const std::string& where,
            const std::pair<std::string_view, Enum> (&names)[N]) {
  const std::string got = text(v, where);
  std::string known;
  for (const auto& [name, value] : names) {
    if (name == got) return value;
    known += (known.empty() ? "" : ", ") + std::string(name);
  }
  bad(where, "'" + got + "' is not one of " + known);
}

ResourceRules parse_rules(const Value& v, const std::string& where) {
  if (!v.IsObject()) bad(where, "must be an object");
  ResourceRules rules;
  for (const auto& m : v.GetObject()) {
    const std::string key(m.name.GetString(), m.name.GetStringLength());
    const std::string at = where + "." + key;
    if (key == "interactions") {
      rules.interactions = text_set(m.value, at);
    } else if (key == "search_requires") {
      if (!m.value.IsArray()) bad(at, "must be an array of parameter groups");
      for (const Value& group : m.value.GetArray()) {
        if (!group.IsArray() || group.Empty())
          bad(at, "a parameter group must be a non-empty array");
        std::vector<std::string> names;  // in the profile's order, for messages
        for (const Value& name : group.GetArray()) names.push_back(text(name, at));
        rules.search_requires.push_back(std::move(names));
      }
    } else if (key == "unsupported_params") {
      rules.unsupported_params = text_set(m.value, at);
    } else if (key != "source" && key != "note") {
      bad(at, "unknown member");
    }
  }
  return rules;
}

constexpr std::pair<std::string_view, CountOver> kCountOver[] = {{"reduce", CountOver::kReduce},
                                                                 {"reject", CountOver::kReject}};
constexpr std::pair<std::string_view, UnsupportedParam> kUnsupported[] = {
    {"reject", UnsupportedParam::kReject}, {"ignore", UnsupportedParam::kIgnore}};
constexpr std::pair<std::string_view, PagingLinks> kPaging[] = {
    {"upstream", PagingLinks::kUpstream},
    {"absolute", PagingLinks::kAbsolute},
    {"relative", PagingLinks::kRelative},
    {"opaque", PagingLinks::kOpaque}};

}  // namespace

const ResourceRules* EhrProfile::rules_for(std::string_view type) const {
  const auto it = resources.find(type);
  return it == resources.end() ? nullptr : &it->second;
}

const std::set<std::string>& EhrProfile::unsupported_for(std::string_view type) const {
  const ResourceRules* rules = rules_for(type);
  return rules && rules->unsupported_params ? *rules->unsupported_params : unsupported_params;
}

EhrProfile parse_profile(std::string_view json) {
  fhir::JsonDocument doc = [&] {
    try {
      return fhir::JsonDocument::parse(json);
    } catch (const fhir::Error& e) {
      throw std::invalid_argument(std::string("profile is not JSON: ") + e.what());
    }
  }();
  const Value* root = doc.root().raw();
  if (!root || !root->IsObject()) bad("root", "must be a JSON object");
  EhrProfile p;
  for (const auto& m : root->GetObject()) {
    const std::string key(m.name.GetString(), m.name.GetStringLength());
    const Value& v = m.value;
    if (key == "name") {
      p.name = text(v, key);
    } else if (key == "base_path") {
      p.base_path = text(v, key);
      while (!p.base_path.empty() && p.base_path.back() == '/') p.base_path.pop_back();
      if (!p.base_path.empty() && p.base_path.front() != '/') bad(key, "must start with '/'");
    } else if (key == "resources") {
      if (!v.IsObject()) bad(key, "must be an object keyed by resource type");
      for (const auto& r : v.GetObject()) {
        const std::string type(r.name.GetString(), r.name.GetStringLength());
        p.resources[type] = parse_rules(r.value, key + "." + type);
      }
    } else if (key == "system_interactions") {
      p.system_interactions = text_set(v, key);
    } else if (key == "unsupported_params") {
      p.unsupported_params = text_set(v, key);
    } else if (key == "unsupported_param_action") {
      p.unsupported_action = choice(v, key, kUnsupported);
    } else if (key == "count") {
      if (!v.IsObject()) bad(key, "must be an object");
      for (const auto& c : v.GetObject()) {
        const std::string sub(c.name.GetString(), c.name.GetStringLength());
        const std::string at = key + "." + sub;
        if (sub == "max") {
          p.count_max = count(c.value, at);
        } else if (sub == "over_max") {
          p.count_over = choice(c.value, at, kCountOver);
        } else if (sub == "default") {
          p.count_default = count(c.value, at);
        } else if (sub != "source" && sub != "note") {
          bad(at, "unknown member");
        }
      }
    } else if (key == "searchset_warning") {
      p.searchset_warning = text(v, key);
    } else if (key == "paging_links") {
      p.paging = choice(v, key, kPaging);
    } else if (key != "source" && key != "sources" && key != "note" && key != "description") {
      bad(key, "unknown member");
    }
  }
  if (p.count_max && p.count_default && *p.count_default > *p.count_max) {
    bad("count.default", "is above count.max");
  }
  return p;
}

EhrProfile load_profile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read profile " + path);
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return parse_profile(text.str());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

}  // namespace mst::testing
