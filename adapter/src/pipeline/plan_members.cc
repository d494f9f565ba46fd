#include "plan_members.h"

#include <algorithm>
#include <map>

#include "mst/fhir/datatypes.h"

namespace mst::adapter {

namespace {

constexpr MemberKind kKinds[] = {
    {"CarePlan", "status", "draft", "revoked", "care plan", "title", "author"},
    {"Goal", "lifecycleStatus", "proposed", "cancelled", "goal", "description", ""},
    {"ServiceRequest", "status", "draft", "revoked", "referral", "code", "requester"},
    {"CareTeam", "status", "proposed", "inactive", "care team", "name", ""},
};

std::string strip_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// Replaces every {"reference": from} in `v` by {"reference": to}.
void redirect(fhir::JsonValue& v, const std::string& from, const std::string& to) {
  if (v.is_array()) {
    for (auto& item : v.items()) redirect(item, from, to);
  } else if (v.is_object()) {
    for (auto& [key, value] : v.members()) {
      if (key == "reference" && value.is_string() && value.str() == from) {
        value = fhir::JsonValue(to);
      } else {
        redirect(value, from, to);
      }
    }
  }
}

// Drops {"reference": ref} from the Provenance's targets: it records what
// the transaction wrote, and a linked resource is not written.
void drop_target(fhir::JsonValue& provenance, const std::string& ref) {
  auto* targets = provenance.find("target");
  if (targets == nullptr || !targets->is_array()) return;
  auto& items = targets->items();
  items.erase(std::remove_if(items.begin(), items.end(),
                             [&](const fhir::JsonValue& t) {
                               const auto* r = t.find("reference");
                               return r && r->is_string() && r->str() == ref;
                             }),
              items.end());
}

std::string first_identifier_value(const fhir::JsonValue& resource) {
  const auto* ids = resource.find("identifier");
  if (ids == nullptr || !ids->is_array() || ids->items().empty()) return "";
  const auto* value = ids->items().front().find("value");
  return value && value->is_string() ? value->str() : "";
}

// JSON equality with objects compared as maps: a server may write a
// resource's elements in another order than they were sent (HAPI writes
// them in the order of the specification).
bool same_json(const fhir::JsonValue& a, const fhir::JsonValue& b) {
  if (a.is_object() != b.is_object() || a.is_array() != b.is_array()) return false;
  if (a.is_array()) {
    if (a.items().size() != b.items().size()) return false;
    for (std::size_t i = 0; i < a.items().size(); ++i) {
      if (!same_json(a.items()[i], b.items()[i])) return false;
    }
    return true;
  }
  if (!a.is_object()) return a == b;
  if (a.members().size() != b.members().size()) return false;
  for (const auto& [key, value] : a.members()) {
    const auto* other = b.find(key);
    if (other == nullptr || !same_json(value, *other)) return false;
  }
  return true;
}

fhir::JsonValue without_id_and_meta(fhir::JsonValue r) {
  auto& m = r.members();
  m.erase(std::remove_if(m.begin(), m.end(),
                         [](const fhir::JsonValue::Member& e) {
                           return e.first == "id" || e.first == "meta";
                         }),
          m.end());
  return r;
}

}  // namespace

bool interrupted_proposal(const FoundMember& found, const fhir::JsonValue& built,
                          const OwnerMarks& marks) {
  const std::string type = found.ref.substr(0, found.ref.find('/'));
  const MemberKind* kind = member_kind(type);
  if (kind == nullptr || !kind->author_element.empty() || !built.is_object()) return false;
  if (found.verdict.standing != Standing::kNotOurs || marks.plan_members.count(found.ref))
    return false;
  // judge() with the resource counted as named: subject, status, notes.
  OwnerMarks named = marks;
  named.plan_members.insert(found.ref);
  if (judge(found.resource, *kind, named).standing != Standing::kOurs) return false;
  return same_json(without_id_and_meta(fhir::JsonValue::from(found.resource)),
                   without_id_and_meta(built));
}

const MemberKind* member_kind(std::string_view type) {
  for (const auto& k : kKinds) {
    if (k.type == type) return &k;
  }
  return nullptr;
}

std::string local_reference(std::string_view reference, const std::string& base_url) {
  const fhir::Reference r = fhir::Reference::parse(reference);
  if (r.kind == fhir::Reference::Kind::kRelative) return r.relative();
  if (r.kind == fhir::Reference::Kind::kAbsolute && strip_slash(r.base) == strip_slash(base_url)) {
    return r.relative();
  }
  return "";
}

std::set<std::string> named_members(fhir::Node care_plan, const std::string& base_url) {
  std::set<std::string> out;
  auto add = [&](fhir::Node ref) {
    std::string r = local_reference(ref.string("reference").value_or(""), base_url);
    if (!r.empty()) out.insert(std::move(r));
  };
  for (fhir::Node g : care_plan.array("goal")) add(g);
  for (fhir::Node t : care_plan.array("careTeam")) add(t);
  for (fhir::Node a : care_plan.array("activity")) add(a["reference"]);
  return out;
}

std::string subject_reference(const OwnerMarks& marks) {
  const std::string local = "Patient/" + marks.patient_id;
  return marks.subject_base.empty() ? local : strip_slash(marks.subject_base) + "/" + local;
}

Verdict judge(fhir::Node resource, const MemberKind& kind, const OwnerMarks& marks) {
  const std::string_view written = resource["subject"].string("reference").value_or("");
  std::string subject;
  if (marks.subject_base.empty()) {
    subject = local_reference(written, marks.base_url);
  } else if (const fhir::Reference r = fhir::Reference::parse(written);
             r.kind == fhir::Reference::Kind::kAbsolute &&
             strip_slash(r.base) == strip_slash(marks.subject_base)) {
    // A relative subject here would be a patient of the target, not ours.
    subject = r.relative();
  }
  if (subject != "Patient/" + marks.patient_id) {
    if (!marks.subject_base.empty() && !written.empty()) {
      return {Standing::kOtherPatient, "its subject is " + std::string(written)};
    }
    return {Standing::kOtherPatient,
            subject.empty() ? "it has no subject on this server" : "its subject is " + subject};
  }
  const std::string self =
      std::string(kind.type) + "/" + std::string(resource.string("id").value_or(""));
  if (!kind.author_element.empty()) {
    const std::string author = local_reference(
        resource[kind.author_element].string("reference").value_or(""), marks.base_url);
    if (!marks.device_refs.count(author)) {
      return {Standing::kNotOurs,
              "its " + std::string(kind.author_element) + " is " +
                  (author.empty() ? std::string("not a resource on this server") : author) +
                  ", not the adapter"};
    }
  } else if (!marks.plan_members.count(self)) {
    return {Standing::kNotOurs, "the adapter's care plan does not name it"};
  }
  const auto status = resource.string(kind.status_element);
  if (status != std::optional<std::string_view>(kind.proposed)) {
    return {Standing::kChanged,
            "its " + std::string(kind.status_element) + " is " + quoted(status.value_or(""))};
  }
  for (fhir::Node note : resource.array("note")) {
    if (note.string("authorString") != std::optional<std::string_view>(marks.note_author)) {
      return {Standing::kChanged, "it carries a note someone else wrote"};
    }
  }
  return {};
}

Reconciled reconcile(fhir::JsonValue& bundle, const std::vector<FoundMember>& found,
                     const std::string& base_url) {
  Reconciled out;
  auto* entries = bundle.find("entry");
  if (entries == nullptr || !entries->is_array()) return out;
  // type|identifier value -> what the server holds under it.
  std::map<std::string, const FoundMember*> by_value;
  for (const auto& f : found) {
    const std::string type = f.ref.substr(0, f.ref.find('/'));
    by_value[type + "|" + f.identifier_value] = &f;
  }
  std::vector<std::pair<std::string, std::string>> redirects;  // urn -> Type/id
  std::vector<std::string> unwritten;
  auto& items = entries->items();
  for (auto it = items.begin(); it != items.end();) {
    auto* resource = it->find("resource");
    const auto* type = resource ? resource->find("resourceType") : nullptr;
    const auto* full_url = it->find("fullUrl");
    if (!type || !type->is_string() || !full_url || !full_url->is_string() ||
        type->str() == "CarePlan" || member_kind(type->str()) == nullptr) {
      ++it;
      continue;
    }
    auto match = by_value.find(type->str() + "|" + first_identifier_value(*resource));
    if (match == by_value.end()) {
      ++it;
      continue;
    }
    const FoundMember& f = *match->second;
    redirects.emplace_back(full_url->str(), f.ref);
    if (f.verdict.standing == Standing::kOurs) {
      const std::string id = f.ref.substr(f.ref.find('/') + 1);
      resource->set("id", id);
      fhir::JsonValue request = fhir::JsonValue::object({{"method", "PUT"}, {"url", f.ref}});
      if (!f.version.empty()) request.set("ifMatch", "W/\"" + f.version + "\"");
      it->set("fullUrl", strip_slash(base_url) + "/" + f.ref);
      it->set("request", std::move(request));
      ++out.updated;
      ++it;
    } else {
      out.left.push_back(f.ref + " (" + f.verdict.why + ")");
      unwritten.push_back(f.ref);
      it = items.erase(it);
    }
  }
  for (const auto& [from, to] : redirects) redirect(bundle, from, to);
  for (auto& e : items) {
    auto* resource = e.find("resource");
    const auto* type = resource ? resource->find("resourceType") : nullptr;
    if (!type || !type->is_string() || type->str() != "Provenance") continue;
    for (const auto& ref : unwritten) drop_target(*resource, ref);
  }
  return out;
}

}  // namespace mst::adapter
