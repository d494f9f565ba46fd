#include "mst/adapter/pipeline/plan_writer.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <set>

#include "mst/adapter/careplan/narrative.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/resource.h"
#include "patient_scope.h"
#include "plan_members.h"
#include "plan_provenance.h"
#include "staged_write.h"

namespace mst::adapter {

namespace {

// The id and version of the CarePlan among where the entries went.
std::pair<std::string, std::string> written_care_plan(const std::vector<std::string>& where) {
  for (const auto& location : where) {
    auto ref = fhir::Reference::parse(location);
    if (ref.type == "CarePlan") return {ref.id, ref.version};
  }
  return {};
}

// Where each entry of a transaction-response Bundle went.
std::vector<std::string> response_locations(fhir::Node response) {
  std::vector<std::string> out;
  for (const auto& e : fhir::Bundle(response).entries()) out.emplace_back(e.response_location);
  return out;
}

// The FHIR R4 RESTful API section each mode follows, for Provenance.policy
// ("the policy or plan the activity was defined by"): a standard element,
// so how a plan was written is read without an extension.
struct HowWritten {
  const char* policy;
  const char* sentence;
};
HowWritten how_written(WriteMode mode) {
  switch (mode) {
    case WriteMode::kBatch:
      return {"http://hl7.org/fhir/R4/http.html#brules",
              "Written as batches of conditional requests, the care plan last."};
    case WriteMode::kIndividual:
      return {"http://hl7.org/fhir/R4/http.html#ccreate",
              "Written as individual conditional requests, the care plan last."};
    default:
      return {"http://hl7.org/fhir/R4/http.html#trules", "Written as one transaction."};
  }
}

// Records on the bundle's Provenance how the plan is written: policy and a
// sentence closing its narrative. Outside the fingerprint (plan_fingerprint.h),
// so changing the mode never revises a plan.
void record_how_written(fhir::JsonValue& bundle, WriteMode mode) {
  auto* entries = bundle.find("entry");
  if (entries == nullptr || !entries->is_array()) return;
  const HowWritten how = how_written(mode);
  for (auto& e : entries->items()) {
    auto* prov = e.find("resource");
    const auto* type = prov ? prov->find("resourceType") : nullptr;
    if (!type || !type->is_string() || type->str() != "Provenance") continue;
    prov->set("policy", fhir::JsonValue::array({fhir::JsonValue(std::string(how.policy))}));
    auto* text = prov->find("text");
    auto* div = text ? text->find("div") : nullptr;
    if (div && div->is_string()) {
      std::string xhtml = div->str();
      const std::size_t close = xhtml.rfind("</div>");
      if (close != std::string::npos) {
        xhtml.insert(close, "<p>" + std::string(how.sentence) + "</p>");
        *div = fhir::JsonValue(xhtml);
      }
    }
  }
}

// "system|value" of every business identifier in the bundle's resources.
std::set<std::string> identifiers_in(const fhir::JsonValue& bundle) {
  std::set<std::string> out;
  const auto* entries = bundle.find("entry");
  if (entries == nullptr || !entries->is_array()) return out;
  for (const auto& e : entries->items()) {
    const auto* ids = e.find("resource") ? e.find("resource")->find("identifier") : nullptr;
    if (ids == nullptr || !ids->is_array()) continue;
    for (const auto& id : ids->items()) {
      const auto* system = id.find("system");
      const auto* value = id.find("value");
      if (system && value && system->is_string() && value->is_string()) {
        out.insert(system->str() + "|" + value->str());
      }
    }
  }
  return out;
}

// The value of the resource's identifier in `system`, or "" when it has none.
std::string identifier_value(fhir::Node resource, const std::string& system) {
  for (fhir::Node id : resource.array("identifier")) {
    if (id.string("system") == std::optional<std::string_view>(system)) {
      return std::string(id.string("value").value_or(""));
    }
  }
  return "";
}

// The resource as read, withdrawn: status, narrative and a reason a reader sees.
// `cause` says why, e.g. "The patient is recorded as deceased"; empty: the
// revised plan no longer proposes it.
fhir::JsonValue retired_copy(fhir::Node resource, const MemberKind& r, const std::string& author,
                             const std::string& cause) {
  fhir::JsonValue out = fhir::JsonValue::from(resource);
  std::string label;
  fhir::Node named = resource[r.label_element];
  if (auto text = named.is_object() ? named.string("text") : resource.string(r.label_element)) {
    label = std::string(*text);
  }
  const std::string why =
      (cause.empty() ? "The revised draft care plan no longer proposes this " + std::string(r.noun)
                     : cause) +
      ", so the adapter withdrew it (" + std::string(r.retired) + ").";
  out.set(r.status_element, std::string(r.retired));
  fhir::JsonValue text = fhir::JsonValue::object({{"status", "generated"}});
  text.set("div", paragraph_narrative("Withdrawn proposal" + (label.empty() ? "" : ": " + label) +
                                      ". " + why));
  out.set("text", std::move(text));
  if (r.type == "Goal") {
    out.set("statusReason", why);  // R4 Goal.statusReason; the others have none
  } else {
    fhir::JsonValue notes = out.find("note") && out.find("note")->is_array()
                                ? *out.find("note")
                                : fhir::JsonValue::array();
    notes.push(fhir::JsonValue::object({{"authorString", author}, {"text", why}}));
    out.set("note", std::move(notes));
  }
  return out;
}

}  // namespace

PlanWriter::PlanWriter(fhir::Client& client, FingerprintReader read_fingerprint,
                       WriteOptions options)
    : client_(client), read_fingerprint_(std::move(read_fingerprint)), options_(options) {}

const fhir::Capabilities& PlanWriter::capabilities() {
  std::lock_guard lock(mode_mu_);
  if (!capabilities_) {
    try {
      capabilities_ = client_.capabilities();
    } catch (const fhir::ClientError&) {
      // No statement: nothing is known to be required, and the searches
      // themselves report a server that refuses them.
      capabilities_ = fhir::Capabilities{};
    }
  }
  return *capabilities_;
}

WriteMode PlanWriter::mode() {
  if (options_.mode != WriteMode::kAuto) return options_.mode;
  const fhir::Capabilities& caps = capabilities();
  std::lock_guard lock(mode_mu_);
  if (!resolved_mode_) resolved_mode_ = auto_write_mode(caps);
  return *resolved_mode_;
}

std::vector<std::string> PlanWriter::send(fhir::JsonValue& bundle,
                                          std::vector<std::string>* progress) {
  const WriteMode m = mode();
  record_how_written(bundle, m);
  std::vector<std::string> where;
  if (m == WriteMode::kBatch || m == WriteMode::kIndividual) {
    where = send_staged(client_, bundle, m, progress);
  } else {
    fhir::FhirResponse resp = client_.transaction(bundle.dump());
    where = response_locations(resp.resource());
  }
  note_written_devices(where);
  return where;
}

std::mutex& PlanWriter::patient_lock(const std::string& patient_id) {
  std::lock_guard lock(locks_mu_);
  auto& m = locks_[patient_id];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

namespace {

constexpr fhir::SearchLimits kMemberLimits{5, 500};

// "Device/<id>" of every Device carrying the adapter's identifier system:
// each adapter version has its own Device, and all of them are the adapter.
std::set<std::string> adapter_devices(fhir::Client& client, const PlanIdentity& identity,
                                      const std::string& base_url) {
  std::set<std::string> out;
  if (identity.device_identifier_system.empty()) return out;
  fhir::SearchResult r = client.search(
      "Device", {{"identifier", identity.device_identifier_system + "|"}}, kMemberLimits);
  r.require_complete();
  for (fhir::Node n : r.resources) {
    if (identifier_value(n, identity.device_identifier_system).empty()) continue;
    std::string ref = local_reference(fhir::Resource(n).ref(), base_url);
    if (!ref.empty()) out.insert(std::move(ref));
  }
  return out;
}

struct FoundPlan {
  ExistingPlan plan;
  Verdict verdict;
};

// The CarePlans carrying the plan's identifier, for any subject: a copy
// under another patient is a look-alike the writer must report. A server
// that requires the patient on searches gets it, and a look-alike under
// another patient then goes unseen (docs/careplan-output.md, Ownership).
fhir::SearchResult plans_by_identifier(fhir::Client& client, const fhir::Capabilities& caps,
                                       const PlanIdentity& id, const OwnerMarks& marks) {
  return client.search(
      "CarePlan",
      detail::patient_scoped(caps, "CarePlan",
                             {{"identifier", id.identifier_system + "|" + id.identifier_value}},
                             subject_reference(marks)),
      fhir::SearchLimits{5, 50});
}

std::vector<FoundPlan> find_plans(fhir::Client& client, const fhir::Capabilities& caps,
                                  const PlanIdentity& id, const OwnerMarks& marks,
                                  const FingerprintReader& fingerprint) {
  fhir::SearchResult r = plans_by_identifier(client, caps, id, marks);
  r.require_complete();
  std::vector<FoundPlan> plans;
  for (fhir::Node n : r.resources) {
    fhir::Resource res(n);
    if (res.type() != "CarePlan") continue;
    FoundPlan f;
    f.plan.id = std::string(res.id());
    f.plan.version = std::string(res.version_id());
    f.plan.status = std::string(n.string("status").value_or(""));
    f.plan.fingerprint = fingerprint(n);
    f.plan.members = named_members(n, marks.base_url);
    f.verdict = judge(n, *member_kind("CarePlan"), marks);
    plans.push_back(std::move(f));
  }
  std::sort(plans.begin(), plans.end(),
            [](const FoundPlan& a, const FoundPlan& b) { return a.plan.id < b.plan.id; });
  return plans;
}

// The identifier values the built bundle gives its resources in `system`.
std::vector<std::string> built_values(const fhir::JsonValue& bundle, const std::string& system) {
  std::vector<std::string> out;
  const std::string prefix = system + "|";
  for (const auto& key : identifiers_in(bundle)) {
    if (key.compare(0, prefix.size(), prefix) == 0) out.push_back(key.substr(prefix.size()));
  }
  return out;
}

struct MemberSearch {
  // The pages the members' nodes point into.
  std::vector<std::shared_ptr<const fhir::JsonDocument>> pages;
  std::vector<FoundMember> members;  // one per resource, sorted by ref
  std::vector<std::string> look_alikes;
  std::vector<std::string> duplicates;
};

// What the server holds under the member identifiers the built plan uses
// (for any subject, so a look-alike is seen) and, for a revision, this
// patient's earlier proposals of each kind (which it may have to withdraw).
MemberSearch find_members(fhir::Client& client, const fhir::Capabilities& caps,
                          const PlanIdentity& identity, const fhir::JsonValue& bundle,
                          const OwnerMarks& marks, bool revision, bool batch) {
  MemberSearch out;
  std::map<std::string, FoundMember> by_ref;
  // Every kind's searches first, so they can go as one request.
  struct KindSearches {
    const PlanMemberKind* kind;
    const MemberKind* mk;
    std::vector<std::string> values;
    std::size_t first = 0, count = 0;  // into `gets`
  };
  std::vector<KindSearches> kinds;
  std::vector<fhir::BatchGet> gets;
  for (const auto& kind : identity.members) {
    const MemberKind* mk = member_kind(kind.type);
    if (mk == nullptr) continue;
    KindSearches k{&kind, mk, built_values(bundle, kind.identifier_system), gets.size(), 0};
    if (!k.values.empty()) {
      std::string any_of;
      for (const auto& v : k.values) {
        any_of += (any_of.empty() ? "" : ",") + kind.identifier_system + "|" + v;
      }
      gets.push_back({kind.type, "",
                      detail::patient_scoped(caps, kind.type, {{"identifier", any_of}},
                                             subject_reference(marks))});
    }
    if (revision) {
      // Also finds proposals an earlier version of the adapter made and
      // this revision drops.
      gets.push_back(
          {kind.type,
           "",
           {{"subject", subject_reference(marks)}, {"identifier", kind.identifier_system + "|"}}});
    }
    k.count = gets.size() - k.first;
    kinds.push_back(std::move(k));
  }
  std::vector<fhir::SearchResult> all;
  if (batch && gets.size() > 1) {
    try {
      all = client.batch_read(gets, kMemberLimits);
    } catch (const fhir::ClientError& e) {
      // A batch refused as a whole (a server that takes batches of writes
      // only, or rewrites searches): the same searches one by one.
      if (!batch_refused(e)) throw;
      batch = false;
    }
  }
  if (!batch || gets.size() <= 1) {
    for (const auto& g : gets) all.push_back(client.search(g.type, g.params, kMemberLimits));
  }
  for (const auto& k : kinds) {
    const auto& kind = *k.kind;
    const MemberKind* mk = k.mk;
    const std::set<std::string> wanted(k.values.begin(), k.values.end());
    std::map<std::string, std::vector<std::string>> refs_by_value;
    for (std::size_t i = k.first; i < k.first + k.count; ++i) {
      fhir::SearchResult& r = all[i];
      r.require_complete();
      out.pages.insert(out.pages.end(), r.pages.begin(), r.pages.end());
      for (fhir::Node n : r.resources) {
        fhir::Resource res(n);
        if (res.type() != kind.type || res.id().empty()) continue;
        const std::string value = identifier_value(n, kind.identifier_system);
        if (value.empty()) continue;
        const std::string ref = res.ref();
        if (by_ref.count(ref)) continue;
        FoundMember f{ref, std::string(res.version_id()), value, n, judge(n, *mk, marks)};
        if (f.verdict.standing == Standing::kOtherPatient) {
          // Another patient's resource under one of this plan's identifiers
          // is a look-alike; under another value it is some other patient's
          // proposal, returned by a server that ignored `subject`.
          if (wanted.count(value)) out.look_alikes.push_back(ref + " (" + f.verdict.why + ")");
          continue;
        }
        refs_by_value[value].push_back(ref);
        by_ref.emplace(ref, std::move(f));
      }
    }
    for (const auto& [value, refs] : refs_by_value) {
      if (refs.size() < 2) continue;
      std::string list;
      for (const auto& r : refs) list += (list.empty() ? "" : ", ") + r;
      out.duplicates.push_back(list);
    }
  }
  for (auto& [ref, f] : by_ref) out.members.push_back(std::move(f));
  return out;
}

// Adds to `bundle`, before its Provenance, the withdrawal of the adapter's
// untouched resources in `found` whose identifier is not in `kept`; returns
// how many. `cause` as for retired_copy().
std::size_t retire_dropped(const std::vector<FoundMember>& found, const std::set<std::string>& kept,
                           const std::string& base_url, const std::string& note_author,
                           const std::string& cause, fhir::JsonValue& bundle) {
  std::vector<fhir::JsonValue> retire_entries;
  std::vector<std::string> retired_refs;
  for (const auto& f : found) {
    const std::string type = f.ref.substr(0, f.ref.find('/'));
    const MemberKind* mk = member_kind(type);
    if (mk == nullptr || f.verdict.standing != Standing::kOurs) continue;
    if (kept.count(type + "|" + f.identifier_value)) continue;
    fhir::JsonValue request = fhir::JsonValue::object({{"method", "PUT"}, {"url", f.ref}});
    // A person's edit since our read fails the whole transaction (409), and
    // the write starts over from a fresh read.
    if (!f.version.empty()) request.set("ifMatch", "W/\"" + f.version + "\"");
    fhir::JsonValue entry = fhir::JsonValue::object({{"fullUrl", base_url + "/" + f.ref}});
    entry.set("resource", retired_copy(f.resource, *mk, note_author, cause));
    entry.set("request", std::move(request));
    retire_entries.push_back(std::move(entry));
    retired_refs.push_back(f.ref);
  }
  if (retire_entries.empty()) return 0;
  auto& entries = bundle.find("entry")->items();
  // Before the Provenance, which names them among the written resources.
  auto provenance = std::find_if(entries.begin(), entries.end(), [](const fhir::JsonValue& e) {
    const auto* res = e.find("resource");
    const auto* type = res ? res->find("resourceType") : nullptr;
    return type && type->is_string() && type->str() == "Provenance";
  });
  if (provenance != entries.end()) {
    fhir::JsonValue& prov = *provenance->find("resource");
    fhir::JsonValue targets = prov.find("target") && prov.find("target")->is_array()
                                  ? *prov.find("target")
                                  : fhir::JsonValue::array();
    for (const auto& ref : retired_refs)
      targets.push(fhir::JsonValue::object({{"reference", ref}}));
    prov.set("target", std::move(targets));
  }
  const std::size_t n = retire_entries.size();
  entries.insert(provenance, std::make_move_iterator(retire_entries.begin()),
                 std::make_move_iterator(retire_entries.end()));
  return n;
}

// "Type/id" of the members in `found` that are this run's own proposals
// left by an earlier write that stopped before its CarePlan
// (interrupted_proposal()).
std::set<std::string> interrupted_proposals(const std::vector<FoundMember>& found,
                                            const fhir::JsonValue& bundle,
                                            const PlanIdentity& identity, const OwnerMarks& marks) {
  std::map<std::string, const fhir::JsonValue*> built;  // Type|value -> resource
  const auto* entries = bundle.find("entry");
  if (entries != nullptr && entries->is_array()) {
    for (const auto& e : entries->items()) {
      const auto* r = e.find("resource");
      const auto* type = r ? r->find("resourceType") : nullptr;
      if (type == nullptr || !type->is_string()) continue;
      const auto* ids = r->find("identifier");
      if (ids == nullptr || !ids->is_array()) continue;
      for (const auto& kind : identity.members) {
        if (kind.type != type->str()) continue;
        for (const auto& id : ids->items()) {
          const auto* system = id.find("system");
          const auto* value = id.find("value");
          if (system && value && system->is_string() && value->is_string() &&
              system->str() == kind.identifier_system)
            built[kind.type + "|" + value->str()] = r;
        }
      }
    }
  }
  std::set<std::string> out;
  for (const auto& f : found) {
    auto it = built.find(f.ref.substr(0, f.ref.find('/')) + "|" + f.identifier_value);
    if (it != built.end() && interrupted_proposal(f, *it->second, marks)) out.insert(f.ref);
  }
  return out;
}

PatientOutcome refused(PatientOutcome out, SkipReason reason, const std::string& detail) {
  out.kind = OutcomeKind::kFailed;
  out.error_kind = ErrorKind::kConflict;
  out.retryable = false;
  out.skip_reason = reason;
  out.detail = detail;
  return out;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : "; ") + i;
  return out;
}

// The refusal a set of CarePlans under the plan's identifier calls for:
// one the adapter did not write, or more than one copy.
std::optional<PatientOutcome> refuse_found_plans(const std::vector<FoundPlan>& found,
                                                 const PatientOutcome& out) {
  std::vector<std::string> foreign;
  for (const auto& f : found) {
    if (f.verdict.standing == Standing::kOtherPatient || f.verdict.standing == Standing::kNotOurs)
      foreign.push_back("CarePlan/" + f.plan.id + " (" + f.verdict.why + ")");
  }
  if (!foreign.empty()) {
    return refused(out, SkipReason::kLookAlike,
                   joined(foreign) +
                       " carries the adapter's plan identifier, but the adapter did not write it "
                       "and never modifies it. Find out where it came from, then run again");
  }
  if (found.size() > 1) {
    // Another writer raced us (or a copy was restored). Writing to either
    // could hide the other from the team; a person must choose.
    std::string refs;
    for (const auto& p : found) refs += (refs.empty() ? "" : ", ") + ("CarePlan/" + p.plan.id);
    return refused(out, SkipReason::kDuplicateDrafts,
                   "the adapter's plan exists more than once (" + refs +
                       "); remove the extra copies, then run again");
  }
  return std::nullopt;
}

// The members of the built plan, linked to what the server holds: either a
// refusal (a look-alike or a duplicate proposal), or the bundle rewritten
// (proposals updated by id, what a person changed linked, what the revision
// no longer makes withdrawn) and the run's notes on it.
struct LinkedMembers {
  std::optional<PatientOutcome> refusal;
  std::string notes;
};
LinkedMembers link_members(fhir::Client& client, const fhir::Capabilities& caps,
                           const PlanIdentity& identity, fhir::JsonValue& bundle,
                           const OwnerMarks& marks, bool revision, const std::string& base_url,
                           const PatientOutcome& out, bool batch) {
  LinkedMembers linked;
  MemberSearch members = find_members(client, caps, identity, bundle, marks, revision, batch);
  if (!members.look_alikes.empty()) {
    linked.refusal = refused(out, SkipReason::kLookAlike,
                             joined(members.look_alikes) +
                                 " carries one of this patient's proposal identifiers, but the "
                                 "adapter did not write it and never modifies it. Find out where "
                                 "it came from, then run again");
    return linked;
  }
  if (!members.duplicates.empty()) {
    linked.refusal =
        refused(out, SkipReason::kDuplicateDrafts,
                "one of the adapter's proposals exists more than once (" +
                    joined(members.duplicates) + "); remove the extra copies, then run again");
    return linked;
  }
  std::set<std::string> kept;
  for (const auto& kind : identity.members) {
    for (const auto& v : built_values(bundle, kind.identifier_system))
      kept.insert(kind.type + "|" + v);
  }
  // Before reconcile() drops the entries it links instead.
  const std::set<std::string> interrupted =
      interrupted_proposals(members.members, bundle, identity, marks);
  const Reconciled reconciled = reconcile(bundle, members.members, base_url);
  const std::size_t retired =
      retire_dropped(members.members, kept, base_url, identity.note_author, "", bundle);
  if (retired > 0) {
    linked.notes +=
        "; withdrew " + std::to_string(retired) + " proposal(s) the revision no longer makes";
  }
  std::vector<std::string> ours_taken_in, left;
  for (const auto& l : reconciled.left)
    (interrupted.count(l.substr(0, l.find(' '))) ? ours_taken_in : left).push_back(l);
  if (!ours_taken_in.empty()) {
    linked.notes +=
        "; took into the plan " + std::to_string(ours_taken_in.size()) +
        " proposal(s) an earlier interrupted run of the adapter wrote: " + joined(ours_taken_in);
  }
  if (!left.empty()) {
    linked.notes += "; left " + std::to_string(left.size()) +
                    " resource(s) a person changed or another system wrote, and linked the plan "
                    "to them: " +
                    joined(left);
  }
  return linked;
}

// Adds to `created` the proposals ("Type/id") the entries POSTed before a
// write stopped, as `progress` (staged_write.h) says where each went.
void add_created(const fhir::JsonValue& bundle, const std::vector<std::string>& progress,
                 std::set<std::string>& created) {
  const auto* entries = bundle.find("entry");
  for (std::size_t i = 0;
       entries && entries->is_array() && i < progress.size() && i < entries->items().size(); ++i) {
    const auto* request = entries->items()[i].find("request");
    const auto* method = request ? request->find("method") : nullptr;
    if (progress[i].empty() || !method || !method->is_string() || method->str() != "POST") continue;
    const fhir::Reference ref = fhir::Reference::parse(progress[i]);
    const MemberKind* mk = member_kind(ref.type);
    if (mk && mk->type != "CarePlan") created.insert(ref.type + "/" + ref.id);
  }
}

}  // namespace

bool PlanWriter::batch_reads() {
  if (options_.reads == ReadMode::kAuto) return auto_read_mode(capabilities()) == ReadMode::kBatch;
  return options_.reads == ReadMode::kBatch;
}

std::set<std::string> PlanWriter::devices(const PlanIdentity& identity, const std::string& base_url,
                                          bool refresh) {
  std::lock_guard lock(devices_mu_);
  // Empty is searched again: the first write creates the Device.
  if (refresh || !devices_ || devices_->empty())
    devices_ = adapter_devices(client_, identity, base_url);
  return *devices_;
}

void PlanWriter::note_written_devices(const std::vector<std::string>& where) {
  std::string base_url = client_.base_url();
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  std::lock_guard lock(devices_mu_);
  if (!devices_) return;
  for (const auto& location : where) {
    const fhir::Reference ref = fhir::Reference::parse(location);
    if (ref.type == "Device" && !ref.id.empty()) devices_->insert("Device/" + ref.id);
  }
}

OwnerMarks PlanWriter::marks_for(const PlanIdentity& identity, const std::string& base_url,
                                 bool refresh) {
  OwnerMarks marks;
  marks.base_url = base_url;
  marks.patient_id = identity.patient_id;
  marks.subject_base = identity.subject_base;
  marks.note_author = identity.note_author;
  marks.device_refs = devices(identity, base_url, refresh);
  return marks;
}

PatientOutcome PlanWriter::write(const PlanIdentity& identity, const PlanBuildFn& build) {
  std::lock_guard patient_guard(patient_lock(identity.patient_id));
  if (mode() == WriteMode::kDocument) return write_note(identity, build);
  PatientOutcome out;
  out.patient_id = identity.patient_id;
  std::string base_url = client_.base_url();
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  // What a revision that lost its CarePlan's If-Match had already created,
  // and the bundle it was part of.
  std::set<std::string> created;
  fhir::JsonValue created_by;
  for (int attempt = 0;; ++attempt) {
    OwnerMarks marks = marks_for(identity, base_url, false);
    std::vector<FoundPlan> found =
        find_plans(client_, capabilities(), identity, marks, read_fingerprint_);
    if (std::any_of(found.begin(), found.end(),
                    [](const FoundPlan& f) { return f.verdict.standing == Standing::kNotOurs; })) {
      // Before calling a plan someone else's: another process (a newer
      // adapter) may have written it under a Device this one has not seen.
      marks = marks_for(identity, base_url, true);
      found = find_plans(client_, capabilities(), identity, marks, read_fingerprint_);
    }
    if (auto refusal = refuse_found_plans(found, out)) return *refusal;
    std::optional<ExistingPlan> existing;
    if (!found.empty()) {
      existing = found.front().plan;
      out.plan_ref = "CarePlan/" + existing->id;
      out.plan_version = existing->version;
      if (found.front().verdict.standing == Standing::kChanged) {
        return taken_over(identity, *existing, found.front().verdict.why, created, created_by,
                          marks, out);
      }
    }
    BuiltPlan built = build(existing);
    out.fingerprint = built.fingerprint;
    record_plan_fingerprint(built.bundle, built.fingerprint);
    if (existing && !existing->fingerprint.empty() && existing->fingerprint == built.fingerprint)
      return unchanged(*existing, built, marks, out);
    if (existing) marks.plan_members = existing->members;
    const LinkedMembers linked =
        link_members(client_, capabilities(), identity, built.bundle, marks, existing.has_value(),
                     base_url, out, batch_reads());
    if (linked.refusal) return *linked.refusal;
    if (options_.dry_run) {
      last_bundle_ = built.bundle.dump();
      out.kind = OutcomeKind::kBuilt;
      out.detail =
          (existing ? "dry run: would update the draft" : "dry run: would create the draft") +
          linked.notes;
      return out;
    }
    std::vector<std::string> progress;
    try {
      auto [id, version] = written_care_plan(send(built.bundle, &progress));
      out.kind = OutcomeKind::kWritten;
      if (!id.empty()) {
        out.plan_ref = "CarePlan/" + id;
        out.plan_version = version;
      }
      out.detail = (existing ? "updated the draft" : "created the draft") + linked.notes;
      if (!existing &&
          find_plans(client_, capabilities(), identity, marks, read_fingerprint_).size() > 1) {
        // A concurrent writer created one too, past the conditional create.
        out.detail +=
            "; another writer created a second copy at the same time: the next run "
            "reports both";
        out.skip_reason = SkipReason::kDuplicateDrafts;
      }
      return out;
    } catch (const fhir::VersionConflict&) {
      // Someone changed what we read before we wrote: read again and decide
      // again (they may have taken it over).
      if (attempt >= options_.max_conflict_retries) throw;
      add_created(built.bundle, progress, created);
      if (!created.empty()) created_by = built.bundle;
    }
  }
}

PatientOutcome PlanWriter::taken_over(const PlanIdentity& identity, const ExistingPlan& existing,
                                      const std::string& why, const std::set<std::string>& created,
                                      const fhir::JsonValue& created_by, const OwnerMarks& marks,
                                      PatientOutcome out) {
  out.kind = OutcomeKind::kSkipped;
  out.skip_reason = existing.status != "draft" ? SkipReason::kNotDraft : SkipReason::kEdited;
  out.detail = "CarePlan/" + existing.id + ": " + why +
               ", so a clinician has taken it over and the adapter leaves it untouched";
  out.fingerprint = existing.fingerprint;
  if (!created.empty()) {
    // Taken over between this revision's new proposals and its CarePlan.
    const std::size_t n = withdraw_orphans(identity, created, created_by, existing.members, marks);
    if (n > 0) {
      out.detail += "; withdrew " + std::to_string(n) +
                    " proposal(s) the interrupted revision had written for it";
    }
  }
  return out;
}

PatientOutcome PlanWriter::unchanged(const ExistingPlan& existing, BuiltPlan& built,
                                     const OwnerMarks& marks, PatientOutcome out) {
  out.kind = OutcomeKind::kUnchanged;
  out.detail = "the draft already says this";
  // Only a write without a transaction can stop between the CarePlan and
  // its Provenance.
  const WriteMode m = mode();
  const std::optional<bool> recorded =
      m == WriteMode::kBatch || m == WriteMode::kIndividual
          ? plan_provenance_found(existing, built.fingerprint, marks)
          : std::optional<bool>(true);
  if (!recorded) {
    out.detail +=
        "; could not look for its Provenance (the server refused "
        "Provenance?target=CarePlan/" +
        existing.id + ")";
  } else if (!*recorded) {
    fhir::JsonValue late =
        missing_provenance_bundle(built.bundle, "CarePlan/" + existing.id, existing.version);
    if (options_.dry_run) {
      last_bundle_ = late.dump();
      out.detail += "; dry run: would record the Provenance an interrupted write left out";
    } else {
      send(late);
      out.detail += "; recorded the Provenance an interrupted write left out";
    }
  }
  return out;
}

std::size_t PlanWriter::withdraw_orphans(const PlanIdentity& identity,
                                         const std::set<std::string>& created,
                                         const fhir::JsonValue& built,
                                         const std::set<std::string>& named, OwnerMarks marks) {
  if (options_.dry_run || marks.device_refs.empty()) return 0;
  // Written by this process moments ago: counted as named by our plan, so
  // judge() proves them untouched (subject, status, notes) like any member.
  marks.plan_members.insert(created.begin(), created.end());
  MemberSearch members =
      find_members(client_, capabilities(), identity, built, marks, false, batch_reads());
  std::vector<FoundMember> orphans;
  for (auto& m : members.members) {
    if (created.count(m.ref) && !named.count(m.ref) && m.verdict.standing == Standing::kOurs)
      orphans.push_back(std::move(m));
  }
  if (orphans.empty()) return 0;
  // The day the revision was built for, as its Provenance recorded it.
  std::string day;
  const auto* entries = built.find("entry");
  if (entries && entries->is_array()) {
    for (const auto& e : entries->items()) {
      const auto* r = e.find("resource");
      const auto* recorded = r ? r->find("recorded") : nullptr;
      if (recorded && recorded->is_string()) day = recorded->str().substr(0, 10);
    }
  }
  const std::string cause =
      "A clinician took over the draft care plan before the revision proposing this was written";
  fhir::JsonValue bundle = build_withdrawal(*marks.device_refs.begin(), day, cause);
  const std::size_t n =
      retire_dropped(orphans, {}, marks.base_url, identity.note_author, cause, bundle);
  try {
    send(bundle);
  } catch (const fhir::VersionConflict&) {
    // A person changed one of them since the search: it is theirs now.
    // Whatever the request did withdraw carries its reason; the detail
    // claims none.
    return 0;
  }
  return n;
}

std::optional<bool> PlanWriter::plan_provenance_found(const ExistingPlan& plan,
                                                      const std::string& fingerprint,
                                                      const OwnerMarks& marks) {
  const std::string plan_ref = "CarePlan/" + plan.id;
  fhir::SearchResult r;
  try {
    r = client_.search("Provenance", {{"target", plan_ref}}, kMemberLimits);
  } catch (const fhir::HttpStatusError& e) {
    // A server without this search (check lists it) must not fail every
    // unchanged run: the plan is complete, only its record may be missing.
    // Transient statuses still fail the run, to be retried.
    if (e.status() >= 400 && e.status() < 500 && e.status() != 408 && e.status() != 429)
      return std::nullopt;
    throw;
  }
  r.require_complete();
  return has_plan_provenance(r.resources, plan_ref, marks.device_refs, fingerprint,
                             read_fingerprint_, marks.base_url);
}

PlanWriter::Withdrawal PlanWriter::withdraw(const PlanIdentity& identity, const std::string& cause,
                                            const std::string& as_of_day) {
  std::lock_guard patient_guard(patient_lock(identity.patient_id));
  // A note has no withdrawn status (R4 DocumentReference.status is current,
  // superseded or entered-in-error, none of which says "withdrawn"), and a
  // note target grants no CarePlan or Device access: nothing to do.
  if (mode() == WriteMode::kDocument) return {};
  std::string base_url = client_.base_url();
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  for (int attempt = 0;; ++attempt) {
    Withdrawal w;
    // Rare (a death), and it decides alone what is the adapter's: Devices as of now.
    OwnerMarks marks = marks_for(identity, base_url, true);
    fhir::SearchResult plans = plans_by_identifier(client_, capabilities(), identity, marks);
    plans.require_complete();
    std::vector<FoundMember> found;
    for (fhir::Node n : plans.resources) {
      fhir::Resource res(n);
      if (res.type() != "CarePlan") continue;
      FoundMember f{res.ref(), std::string(res.version_id()), identity.identifier_value, n,
                    judge(n, *member_kind("CarePlan"), marks)};
      if (f.verdict.standing == Standing::kOurs) {
        const auto named = named_members(n, base_url);
        marks.plan_members.insert(named.begin(), named.end());
        found.push_back(std::move(f));
      } else {
        w.left.push_back(f.ref + " (" + f.verdict.why + ")");
      }
    }
    if (found.empty()) return w;
    w.plan_ref = found.front().ref;
    const fhir::JsonValue no_proposals =
        fhir::JsonValue::object({{"resourceType", "Bundle"}, {"type", "transaction"}});
    MemberSearch members =
        find_members(client_, capabilities(), identity, no_proposals, marks, true, batch_reads());
    for (const auto& m : members.members) {
      if (m.verdict.standing == Standing::kChanged)
        w.left.push_back(m.ref + " (" + m.verdict.why + ")");
    }
    found.insert(found.end(), members.members.begin(), members.members.end());
    fhir::JsonValue bundle = build_withdrawal(*marks.device_refs.begin(), as_of_day, cause);
    w.withdrawn = retire_dropped(found, {}, base_url, identity.note_author, cause, bundle);
    if (options_.dry_run) {
      last_bundle_ = bundle.dump();
      return w;
    }
    try {
      send(bundle);
      return w;
    } catch (const fhir::VersionConflict&) {
      // A person changed something after we read it: read again, decide again.
      if (attempt >= options_.max_conflict_retries) throw;
    }
  }
}

}  // namespace mst::adapter
