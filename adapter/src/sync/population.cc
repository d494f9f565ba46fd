#include "mst/adapter/sync/population.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "mst/fhir/datatypes.h"
#include "mst/fhir/errors.h"
#include "mst/fhir/resource.h"

namespace mst::adapter {

namespace {

std::string_view trim(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view without_slashes(std::string_view base) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return base;
}

void sort_unique(std::vector<std::string>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

// The patient id a member reference names. `where` says which member, for
// the error: an unreadable member is not silently dropped (it would count
// as having left).
std::string patient_of(fhir::Node ref_node, std::string_view server_base,
                       const std::string& where) {
  std::optional<fhir::Reference> ref;
  try {
    ref = fhir::read_reference(ref_node);
  } catch (const fhir::ElementError& e) {
    throw PopulationError(where + ": " + e.what());
  }
  if (!ref) throw PopulationError(where + " has no reference");
  using Kind = fhir::Reference::Kind;
  if (ref->kind != Kind::kRelative && ref->kind != Kind::kAbsolute) {
    throw PopulationError(where + " is not a literal Patient/<id> reference");
  }
  if (ref->type != "Patient") {
    throw PopulationError(where + " refers to a " + ref->type + ", not a Patient");
  }
  if (ref->kind == Kind::kAbsolute && without_slashes(ref->base) != without_slashes(server_base)) {
    throw PopulationError(where + " refers to a Patient on another server (" + ref->base + ")");
  }
  return ref->id;
}

void require_type(fhir::Node resource, std::string_view type, const std::string& what) {
  if (!resource.is_object()) throw PopulationError(what + " is not a JSON object");
  const auto actual = resource.string("resourceType").value_or("");
  if (actual != type) {
    throw PopulationError(what + " is a " +
                          (actual.empty() ? "resource without resourceType" : std::string(actual)) +
                          ", not a " + std::string(type));
  }
}

}  // namespace

PopulationSource PopulationSource::parse(std::string_view text) {
  const auto after = [&](std::string_view prefix) -> std::optional<std::string> {
    if (text.substr(0, prefix.size()) != prefix) return std::nullopt;
    return std::string(text.substr(prefix.size()));
  };
  if (text == "search") return {};
  for (auto [prefix, kind] : {std::pair{"group:", Kind::kGroup}, std::pair{"list:", Kind::kList},
                              std::pair{"file:", Kind::kFile}}) {
    if (auto rest = after(prefix)) {
      if (kind != Kind::kFile && !fhir::is_fhir_id(*rest)) {
        throw PopulationError("'" + std::string(text) + "': '" + *rest + "' is not a FHIR id");
      }
      if (rest->empty()) throw PopulationError("'" + std::string(text) + "' names no file");
      return {kind, *rest};
    }
  }
  throw PopulationError("'" + std::string(text) +
                        "' is not search, group:<id>, list:<id> or file:<path>");
}

std::string PopulationSource::describe() const {
  switch (kind) {
    case Kind::kSearch:
      return "search";
    case Kind::kGroup:
      return "Group/" + target;
    case Kind::kList:
      return "List/" + target;
    case Kind::kFile:
      return "file " + target;
  }
  return "search";
}

std::vector<std::string> group_members(fhir::Node group, std::string_view server_base,
                                       std::int64_t now_ms) {
  require_type(group, "Group", "the population Group");
  const std::string name = "Group/" + std::string(group.string("id").value_or("?"));
  std::vector<std::string> ids;
  try {
    // A definitional Group describes who would qualify; it lists nobody.
    if (group.boolean("actual") == false) {
      throw PopulationError(name + " is not an actual group (actual=false): it lists no members");
    }
    std::size_t listed = 0;
    for (fhir::Node m : group.array("member")) {
      const std::string where = name + " member " + std::to_string(listed++);
      if (!m.is_object()) throw PopulationError(where + " is not an object");
      const std::string id = patient_of(m["entity"], server_base, where);
      if (m.boolean("inactive").value_or(false)) continue;
      if (auto period = fhir::read_period(m["period"])) {
        if (period->start && period->start->start_ms() > now_ms) continue;
        if (period->end && period->end->end_ms() < now_ms) continue;
      }
      ids.push_back(id);
    }
    // Group paging is not standard: a server that cut the list short must
    // not make the rest look as if they left.
    if (auto quantity = group.integer("quantity");
        quantity && *quantity > 0 && static_cast<std::size_t>(*quantity) > listed) {
      throw PopulationError(name + " says it has " + std::to_string(*quantity) +
                            " members but lists " + std::to_string(listed) +
                            ": the server sent part of it");
    }
  } catch (const fhir::ElementError& e) {
    throw PopulationError(name + ": " + e.what());
  }
  sort_unique(ids);
  return ids;
}

std::vector<std::string> list_members(fhir::Node list, std::string_view server_base) {
  require_type(list, "List", "the population List");
  const std::string name = "List/" + std::string(list.string("id").value_or("?"));
  std::vector<std::string> ids;
  try {
    const auto status = list.string("status").value_or("");
    if (status == "entered-in-error") throw PopulationError(name + " is entered-in-error");
    // A `changes` list holds what changed, not who is in the population.
    if (list.string("mode") == "changes") {
      throw PopulationError(name +
                            " has mode 'changes': a population is a snapshot or working "
                            "list");
    }
    std::size_t n = 0;
    for (fhir::Node e : list.array("entry")) {
      const std::string where = name + " entry " + std::to_string(n++);
      if (!e.is_object()) throw PopulationError(where + " is not an object");
      const std::string id = patient_of(e["item"], server_base, where);
      if (e.boolean("deleted").value_or(false)) continue;
      ids.push_back(id);
    }
  } catch (const fhir::ElementError& e) {
    throw PopulationError(name + ": " + e.what());
  }
  sort_unique(ids);
  return ids;
}

std::vector<std::string> file_members(std::string_view text, const std::string& name) {
  std::vector<std::string> ids;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (const auto hash = line.find('#'); hash != std::string_view::npos)
      line.remove_suffix(line.size() - hash);
    line = trim(line);
    if (line.empty()) continue;
    if (line.substr(0, 8) == "Patient/") line.remove_prefix(8);
    if (!fhir::is_fhir_id(line)) {
      throw PopulationError(name + " line " + std::to_string(line_no) +
                            ": not a patient id (letters, digits, '-' and '.', at most 64)");
    }
    ids.emplace_back(line);
  }
  sort_unique(ids);
  return ids;
}

std::vector<std::string> read_population(const PopulationSource& source, fhir::Client& client,
                                         std::int64_t now_ms) {
  using Kind = PopulationSource::Kind;
  switch (source.kind) {
    case Kind::kGroup:
    case Kind::kList: {
      const bool group = source.kind == Kind::kGroup;
      fhir::FhirResponse r = client.read(group ? "Group" : "List", source.target);
      if (!r.body) throw PopulationError(source.describe() + ": the server sent no body");
      return group ? group_members(r.body->root(), client.base_url(), now_ms)
                   : list_members(r.body->root(), client.base_url());
    }
    case Kind::kFile: {
      std::ifstream in(source.target, std::ios::binary);
      if (!in) throw PopulationError("cannot read the population file " + source.target);
      std::ostringstream text;
      text << in.rdbuf();
      if (in.bad()) throw PopulationError("cannot read the population file " + source.target);
      return file_members(text.str(), source.target);
    }
    case Kind::kSearch:
      break;
  }
  throw std::logic_error("read_population: the search population is the change feed's");
}

}  // namespace mst::adapter
