#include "mst/adapter/careplan/careplan_builder.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "codes.h"
#include "ignored_summary.h"
#include "mst/adapter/careplan/narrative.h"
#include "mst/adapter/careplan/plan_fingerprint.h"
#include "mst/adapter/goals/assessment.h"
#include "mst/fhir/datatypes.h"
#include "name_uuid.h"

namespace mst::adapter {

using fhir::JsonValue;
using mappings::Considerations;

namespace {

// The identities of everything one build writes.
struct Names {
  Names(std::string canonical_base, std::string patient_ref, std::string note_author = "")
      : base(std::move(canonical_base)),
        patient(std::move(patient_ref)),
        author(std::move(note_author)),
        uuids(base) {}
  std::string base;  // canonical base, no trailing slash
  std::string patient;
  std::string author;  // authorString of the notes
  detail::NameUuids uuids;
  std::string uuid(const std::string& role) const { return uuids(patient + "|" + role); }
  std::string urn(const std::string& role) const { return "urn:uuid:" + uuid(role); }
  std::string naming_system(std::string_view what) const {
    return base + "/NamingSystem/" + std::string(what);
  }
  PlanIdentifier careplan() const { return {naming_system("mst-careplan"), uuid("CarePlan")}; }
};

bool valid_fhir_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.';
  });
}

// set() rather than an initializer list, which would copy the string twice.
JsonValue reference_to(const std::string& reference) {
  JsonValue out = JsonValue::object();
  out.set("reference", reference);
  return out;
}

JsonValue refs(const std::vector<std::string>& references) {
  JsonValue out = JsonValue::array();
  for (const auto& r : references) out.push(reference_to(r));
  return out;
}

JsonValue coding(std::string_view system, std::string_view code, std::string_view display) {
  return JsonValue::object({{"system", system}, {"code", code}, {"display", display}});
}

JsonValue text_concept(const std::string& text) { return JsonValue::object({{"text", text}}); }

// Every note names the adapter as its author: a note without that name is a
// person's, and marks the resource as changed by someone (plan_members.h).
JsonValue notes(const std::vector<std::string>& texts, const std::string& author) {
  JsonValue out = JsonValue::array();
  for (const auto& t : texts) {
    out.push(JsonValue::object({{"authorString", author}, {"text", t}}));
  }
  return out;
}

JsonValue identifier(const std::string& system, const std::string& value) {
  return JsonValue::array({JsonValue::object({{"system", system}, {"value", value}})});
}

JsonValue narrative(std::string div) {
  JsonValue out = JsonValue::object({{"status", "generated"}});
  out.set("div", std::move(div));
  return out;
}

JsonValue number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return JsonValue(static_cast<std::int64_t>(v));
  }
  return JsonValue::decimal(detail::number_text(v));
}

std::string conditional(const std::string& system, const std::string& value) {
  return "identifier=" + system + "|" + value;
}

// Built with set(), which moves: an initializer list would copy the resource.
JsonValue entry(const std::string& full_url, JsonValue resource, JsonValue request) {
  JsonValue e = JsonValue::object({{"fullUrl", full_url}});
  e.set("resource", std::move(resource));
  e.set("request", std::move(request));
  return e;
}

// Created only when absent. The write-back turns it into an update by id
// when the adapter's own untouched copy exists (plan_members.h).
JsonValue create_if_absent(std::string_view type, const std::string& system,
                           const std::string& value) {
  return JsonValue::object({{"method", "POST"},
                            {"url", std::string(type)},
                            {"ifNoneExist", conditional(system, value)}});
}

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

JsonValue goal_target(const Target& t, const std::string& base) {
  JsonValue measure = JsonValue::object(
      {{"coding",
        JsonValue::array({coding(t.local_code ? base + "/CodeSystem/mst-measure" : t.system, t.code,
                                 t.display)})},
       {"text", t.display}});
  JsonValue out = JsonValue::object({{"measure", std::move(measure)}});
  if (t.has_range) {
    auto bound = [](double v) {
      return JsonValue::object({{"value", number(v)},
                                {"unit", "score"},
                                {"system", detail::kUcum},
                                {"code", "{score}"}});
    };
    out.set("detailRange", JsonValue::object({{"low", bound(t.low)}, {"high", bound(t.high)}}));
  } else {
    out.set("detailString", t.detail_text);
  }
  return out;
}

JsonValue role_concept(const detail::Role& r) {
  JsonValue codings = JsonValue::array();
  if (!r.primary.code.empty())
    codings.push(coding(r.primary.system, r.primary.code, r.primary.display));
  if (!r.secondary.code.empty()) {
    codings.push(coding(r.secondary.system, r.secondary.code, r.secondary.display));
  }
  JsonValue out = JsonValue::object();
  if (!codings.items().empty()) out.set("coding", std::move(codings));
  out.set("text", std::string(r.text));
  return out;
}

// ServiceRequest.performerType holds one concept; spine surgery (two
// specialties) is named in text only.
JsonValue performer_type(Discipline d) {
  const auto roles = detail::roles_of(d);
  if (roles.size() == 1) return role_concept(roles[0]);
  return text_concept("Spine surgeon (orthopaedic or neurosurgical)");
}

struct Built {
  std::string full_url;
  JsonValue resource;
  JsonValue request;
};

Built build_goal(const ProposedGoal& g, const Names& n,
                 const std::vector<std::string>& conditions) {
  const std::string system = n.naming_system("mst-goal");
  const std::string value = n.uuid("Goal|" + std::string(code_of(g.code)));
  const std::string rationale = g.rationale();
  const std::string status_line =
      "Priority: " + priority_word(g.priority) + ". Urgency: " + std::string(code_of(g.urgency)) +
      ". Certainty: " +
      (g.certainty == Certainty::kConfirmed ? "inputs complete."
                                            : "some inputs missing (named in the rationale).");
  JsonValue goal = JsonValue::object({{"resourceType", "Goal"}});
  goal.set("text",
           narrative(paragraph_narrative("Proposed goal: " + std::string(display_of(g.code)) +
                                         ". " + status_line + " " + rationale)));
  goal.set("identifier", identifier(system, value));
  goal.set("lifecycleStatus", "proposed");
  goal.set("priority",
           JsonValue::object(
               {{"coding", JsonValue::array({coding(detail::kGoalPriority, code_of(g.priority),
                                                    display_of(g.priority))})},
                {"text", priority_word(g.priority)}}));
  goal.set("description",
           JsonValue::object(
               {{"coding", JsonValue::array({coding(n.base + "/CodeSystem/mst-goal",
                                                    code_of(g.code), display_of(g.code))})},
                {"text", std::string(display_of(g.code))}}));
  goal.set("subject", reference_to(n.patient));
  if (!g.targets.empty()) {
    JsonValue targets = JsonValue::array();
    for (const auto& t : g.targets) targets.push(goal_target(t, n.base));
    goal.set("target", std::move(targets));
  }
  if (!conditions.empty()) goal.set("addresses", refs(conditions));
  goal.set("note", notes({status_line, rationale}, n.author));
  return {"urn:uuid:" + value, std::move(goal), create_if_absent("Goal", system, value)};
}

Built build_care_team(const GoalPlan& plan, const Names& n,
                      const std::vector<std::string>& conditions) {
  const std::string system = n.naming_system("mst-careteam");
  const std::string value = n.uuid("CareTeam");
  JsonValue participants = JsonValue::array();
  std::vector<std::string> why;
  std::vector<std::string> names;
  for (const auto& need : plan.team) {
    JsonValue roles = JsonValue::array();
    for (const auto& r : detail::roles_of(need.discipline)) roles.push(role_concept(r));
    participants.push(JsonValue::object({{"role", std::move(roles)}}));
    why.push_back(std::string(display_of(need.discipline)) + ": " +
                  detail::join(need.reasons, "; "));
    names.push_back(std::string(display_of(need.discipline)));
  }
  JsonValue team = JsonValue::object({{"resourceType", "CareTeam"}});
  team.set("text", narrative(paragraph_narrative(
                       "Proposed multidisciplinary team: " + detail::join(names, ", ") + ".")));
  team.set("identifier", identifier(system, value));
  team.set("status", "proposed");
  team.set("name", "Proposed spine-oncology multidisciplinary team");
  team.set("subject", reference_to(n.patient));
  team.set("participant", std::move(participants));
  if (!conditions.empty()) team.set("reasonReference", refs(conditions));
  team.set("note", notes(why, n.author));
  return {"urn:uuid:" + value, std::move(team), create_if_absent("CareTeam", system, value)};
}

Built build_service_request(const Referral& r, const Names& n, const std::string& device_urn,
                            const std::string& as_of_day,
                            const std::vector<std::string>& conditions) {
  const std::string system = n.naming_system("mst-servicerequest");
  // One ServiceRequest per discipline and urgency: a re-run addresses the
  // same resources, and a request that changes urgency is a new proposal.
  const std::string value = n.uuid("ServiceRequest|" + std::string(code_of(r.to)) + "|" +
                                   std::string(code_of(r.priority)));
  const std::string what =
      "Referral to " + std::string(display_of(r.to)) + ": " + detail::join(r.requests, "; ");
  std::vector<std::string> goals;
  for (GoalCode g : r.serves) goals.push_back(std::string(display_of(g)));
  JsonValue sr = JsonValue::object({{"resourceType", "ServiceRequest"}});
  sr.set("text",
         narrative(paragraph_narrative(what + " (priority " + std::string(code_of(r.priority)) +
                                       "). Why: " + detail::join(r.reasons, "; ") + ".")));
  sr.set("identifier", identifier(system, value));
  sr.set("status", "draft");
  sr.set("intent", "proposal");
  sr.set("priority", std::string(code_of(r.priority)));
  JsonValue code = JsonValue::object();
  if (!r.snomed_code.empty()) {
    code.set("coding",
             JsonValue::array({coding(detail::kSnomed, r.snomed_code, r.snomed_display)}));
  }
  code.set("text", what);
  sr.set("code", std::move(code));
  sr.set("subject", reference_to(n.patient));
  sr.set("authoredOn", as_of_day);
  sr.set("requester", reference_to(device_urn));
  sr.set("performerType", performer_type(r.to));
  if (!conditions.empty()) {
    sr.set("reasonReference", refs(conditions));
  } else {
    sr.set("reasonCode", JsonValue::array({text_concept("Spinal metastasis")}));
  }
  if (!r.evidence.empty()) sr.set("supportingInfo", refs(r.evidence));
  std::vector<std::string> sr_notes = {"Why: " + detail::join(r.reasons, "; ") + "."};
  if (!goals.empty())
    sr_notes.push_back("Serves the proposed goals: " + detail::join(goals, "; ") + ".");
  sr.set("note", notes(sr_notes, n.author));
  return {"urn:uuid:" + value, std::move(sr), create_if_absent("ServiceRequest", system, value)};
}

Built build_device(const BuildOptions& o, const Names& n) {
  const std::string system = device_identifier_system(o);
  const std::string value = o.device_identifier + "-" + o.device_version;
  JsonValue device = JsonValue::object({{"resourceType", "Device"}});
  device.set("text", narrative(paragraph_narrative(o.device_name + " " + o.device_version +
                                                   ": software that drafts care-plan proposals.")));
  device.set("identifier", identifier(system, value));
  device.set("status", "active");
  device.set("deviceName", JsonValue::array({JsonValue::object(
                               {{"name", o.device_name}, {"type", "user-friendly-name"}})}));
  device.set("type", text_concept("Clinical decision support software"));
  device.set("version", JsonValue::array({JsonValue::object({{"value", o.device_version}})}));
  // The fullUrl names the adapter, not its version, so plan content (which
  // refers to it) does not change with an upgrade.
  return {
      "urn:uuid:" + n.uuids("Device|" + o.device_identifier), std::move(device),
      JsonValue::object(
          {{"method", "POST"}, {"url", "Device"}, {"ifNoneExist", conditional(system, value)}})};
}

// The Provenance of one write: what it wrote, when, by the adapter's Device.
JsonValue provenance(const std::string& summary, const std::vector<std::string>& targets,
                     const std::string& as_of_day, bool update, const std::string& device_ref) {
  JsonValue prov = JsonValue::object({{"resourceType", "Provenance"}});
  prov.set("text", narrative(paragraph_narrative(summary)));
  prov.set("target", refs(targets));
  prov.set("recorded", as_of_day + "T00:00:00Z");
  prov.set(
      "activity",
      JsonValue::object(
          {{"coding", JsonValue::array({coding(detail::kDataOperation, update ? "UPDATE" : "CREATE",
                                               update ? "revise" : "create")})}}));
  prov.set("agent",
           JsonValue::array({JsonValue::object(
               {{"type", JsonValue::object(
                             {{"coding", JsonValue::array({coding(detail::kProvenanceParticipant,
                                                                  "author", "Author")})}})},
                {"who", reference_to(device_ref)}})}));
  return prov;
}

std::vector<std::string> careplan_notes(const Considerations& c, const GoalPlan& plan,
                                        const std::vector<detail::IgnoredGroup>& ignored) {
  std::vector<std::string> out;
  for (const auto& a : c.alerts) out.push_back("ALERT: " + alert_line(a));
  if (const std::string line = read_from_text_line(c); !line.empty()) out.push_back(line);
  out.push_back(plan.data_gaps.empty()
                    ? "Data gaps: none found."
                    : "Data gaps (missing inputs lower certainty and are never read as "
                      "favourable): " +
                          detail::join(plan.data_gaps, " | "));
  if (!ignored.empty()) {
    std::vector<std::string> lines;
    for (const auto& g : ignored) lines.push_back(detail::ignored_line(g));
    out.push_back(
        "Resources not used (" + std::to_string(detail::ignored_total(ignored)) +
        ", by reason, with the first references as examples): " + detail::join(lines, " | "));
  }
  for (const auto& note : plan.notes) out.push_back(note);
  out.push_back(
      "Disclaimer: this is a draft proposal generated by software for review by the "
      "multidisciplinary spine-oncology team. It is not a treatment decision; every goal and "
      "referral needs a clinician's review and the patient's agreement.");
  return out;
}

std::string plan_description(const GoalPlan& plan) {
  std::vector<std::string> goals;
  for (const auto& g : plan.goals) {
    goals.push_back(std::string(display_of(g.code)) + " (" + priority_word(g.priority) + ", " +
                    std::string(code_of(g.urgency)) + ")");
  }
  return "Proposed goals: " +
         (goals.empty() ? std::string("none yet") : detail::join(goals, "; ")) +
         ". Overall urgency: " + std::string(code_of(plan.urgency)) +
         (plan.emergency ? " (emergency pathway)." : ".");
}

void validate(const Considerations& c, const GoalPlan& plan, const BuildOptions& o) {
  if (!plan.applicable) {
    throw BuildError("no care plan to build: " + (plan.not_applicable_reason.empty()
                                                      ? std::string("the plan is not applicable")
                                                      : plan.not_applicable_reason));
  }
  const std::string prefix = "Patient/";
  if (c.patient_ref.compare(0, prefix.size(), prefix) != 0 ||
      !valid_fhir_id(c.patient_ref.substr(prefix.size()))) {
    throw BuildError("patient reference \"" + c.patient_ref + "\" is not Patient/<id>");
  }
  const auto& b = o.canonical_base;
  if (b.compare(0, 7, "http://") != 0 && b.compare(0, 8, "https://") != 0) {
    throw BuildError("canonical base \"" + b + "\" is not an http(s) URL");
  }
  if (b.find_first_of(" |?#") != std::string::npos) {
    throw BuildError("canonical base \"" + b + "\" contains a space, '|', '?' or '#'");
  }
  const auto& s = o.source_base;
  if (!s.empty() && ((s.compare(0, 7, "http://") != 0 && s.compare(0, 8, "https://") != 0) ||
                     s.find_first_of(" |?#") != std::string::npos)) {
    throw BuildError("source base \"" + s + "\" is not an http(s) base URL");
  }
  if (o.device_name.empty() || o.device_identifier.empty() || o.device_version.empty()) {
    throw BuildError("device name, identifier and version must not be empty");
  }
  if (o.device_identifier.find_first_of(" |") != std::string::npos ||
      o.device_version.find_first_of(" |") != std::string::npos) {
    throw BuildError("device identifier and version must not contain spaces or '|'");
  }
  if (o.existing) {
    if (!valid_fhir_id(o.existing->id)) {
      throw BuildError("existing CarePlan id \"" + o.existing->id + "\" is not a FHIR id");
    }
    if (!o.existing->version_id.empty() && !valid_fhir_id(o.existing->version_id)) {
      throw BuildError("existing CarePlan version \"" + o.existing->version_id +
                       "\" is not a FHIR id");
    }
  }
}

std::string strip_trailing_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// The patient as the written plan refers to it, and the name its
// identifiers derive from.
std::string patient_key(const std::string& patient_ref, const std::string& source_base) {
  return source_base.empty() ? patient_ref : strip_trailing_slash(source_base) + "/" + patient_ref;
}

// Every relative reference in a built bundle names a resource of the record
// (the resources written meanwhile are urn:uuid); on another server they
// are only valid as absolute URLs on the source.
void point_at_source(JsonValue& v, const std::string& source_base) {
  if (v.is_array()) {
    for (auto& item : v.items()) point_at_source(item, source_base);
  } else if (v.is_object()) {
    for (auto& [key, value] : v.members()) {
      if (key == "reference" && value.is_string() &&
          fhir::Reference::parse(value.str()).kind == fhir::Reference::Kind::kRelative) {
        value = JsonValue(source_base + "/" + value.str());
      } else {
        point_at_source(value, source_base);
      }
    }
  }
}

}  // namespace

PlanIdentifier careplan_identifier(const std::string& patient_ref, const BuildOptions& options) {
  return Names(strip_trailing_slash(options.canonical_base),
               patient_key(patient_ref, options.source_base))
      .careplan();
}

fhir::JsonValue build_withdrawal(const std::string& device_ref, const std::string& as_of_day,
                                 const std::string& cause) {
  JsonValue bundle = JsonValue::object({{"resourceType", "Bundle"}, {"type", "transaction"}});
  JsonValue request = JsonValue::object({{"method", "POST"}, {"url", "Provenance"}});
  bundle.set("entry",
             JsonValue::array({entry("urn:uuid:" + detail::NameUuids(device_ref)(
                                                       "withdrawal|" + as_of_day + "|" + cause),
                                     provenance("Withdrawn on " + as_of_day + ": " + cause + ".",
                                                {}, as_of_day, true, device_ref),
                                     std::move(request))}));
  return bundle;
}

std::string device_identifier_system(const BuildOptions& options) {
  return strip_trailing_slash(options.canonical_base) + "/NamingSystem/mst-device";
}

std::vector<PlanMemberKind> plan_member_kinds(const BuildOptions& options) {
  const std::string base = strip_trailing_slash(options.canonical_base) + "/NamingSystem/";
  return {{"Goal", base + "mst-goal"},
          {"ServiceRequest", base + "mst-servicerequest"},
          {"CareTeam", base + "mst-careteam"}};
}

namespace {

// The resources written beside the CarePlan, in the order the bundle lists them.
struct PlanMembers {
  Built device;
  std::vector<Built> goals = {};
  std::optional<Built> team = {};
  std::vector<Built> requests = {};
};

PlanMembers build_members(const GoalPlan& plan, const BuildOptions& opts, const Names& n,
                          const std::string& as_of_day,
                          const std::vector<std::string>& conditions) {
  PlanMembers m{.device = build_device(opts, n)};
  for (const auto& g : plan.goals) m.goals.push_back(build_goal(g, n, conditions));
  for (const auto& r : plan.referrals) {
    m.requests.push_back(build_service_request(r, n, m.device.full_url, as_of_day, conditions));
  }
  if (!plan.team.empty()) m.team = build_care_team(plan, n, conditions);
  return m;
}

JsonValue careplan_category() {
  return JsonValue::array(
      {JsonValue::object(
           {{"coding", JsonValue::array({coding(detail::kUsCoreCarePlanCategory, "assess-plan",
                                                "Assessment and Plan of Treatment")})}}),
       JsonValue::object(
           {{"coding", JsonValue::array({coding(detail::kSnomed, "736252007",
                                                "Cancer care plan (record artifact)")})}})});
}

// The referrals, then the suggested actions as activity details.
JsonValue careplan_activity(const std::vector<Built>& requests,
                            const std::vector<SuggestedAction>& actions) {
  JsonValue activity = JsonValue::array();
  for (const auto& r : requests)
    activity.push(JsonValue::object({{"reference", reference_to(r.full_url)}}));
  for (const auto& a : actions) {
    const std::string label =
        a.row > 0 ? "Suggested action (rule table row " + std::to_string(a.row) + ")"
                  : "Suggested action";
    activity.push(JsonValue::object(
        {{"detail",
          JsonValue::object({{"code", text_concept(label)},
                             {"status", "not-started"},
                             {"description", std::string(code_of(a.urgency)) + ": " + a.text +
                                                 " Source: " + a.source + "."}})}}));
  }
  return activity;
}

// What the plan rests on: the conditions it addresses and the resources used.
struct PlanBasis {
  std::vector<std::string> conditions;
  std::vector<std::string> used;
  std::string as_of_day;
};

JsonValue build_careplan(const Considerations& c, const GoalPlan& plan, const BuildOptions& opts,
                         const Names& n, const PlanMembers& m, const PlanBasis& b) {
  const PlanIdentifier id = n.careplan();
  JsonValue cp = JsonValue::object({{"resourceType", "CarePlan"}});
  if (opts.existing) cp.set("id", opts.existing->id);
  cp.set("text", narrative(careplan_narrative(
                     c, plan, {b.as_of_day, opts.device_name + " " + opts.device_version})));
  cp.set("identifier", identifier(id.system, id.value));
  cp.set("status", "draft");
  cp.set("intent", "proposal");
  cp.set("category", careplan_category());
  cp.set("title", "Draft spine care plan (proposal for the multidisciplinary team)");
  cp.set("description", plan_description(plan));
  cp.set("subject", reference_to(n.patient));
  cp.set("created", b.as_of_day);
  cp.set("author", reference_to(m.device.full_url));
  if (m.team) cp.set("careTeam", JsonValue::array({reference_to(m.team->full_url)}));
  if (!b.conditions.empty()) cp.set("addresses", refs(b.conditions));
  if (!b.used.empty()) cp.set("supportingInfo", refs(b.used));
  if (!m.goals.empty()) {
    JsonValue goal_refs = JsonValue::array();
    for (const auto& g : m.goals) goal_refs.push(reference_to(g.full_url));
    cp.set("goal", std::move(goal_refs));
  }
  JsonValue activity = careplan_activity(m.requests, plan.actions);
  if (!activity.items().empty()) cp.set("activity", std::move(activity));
  cp.set("note", notes(careplan_notes(c, plan, detail::group_ignored(c.ignored)), n.author));
  return cp;
}

// A new plan is created once (ifNoneExist on its identifier); a revision
// replaces the version it was built from (ifMatch).
JsonValue careplan_request(const BuildOptions& opts, const PlanIdentifier& id) {
  JsonValue request =
      opts.existing
          ? JsonValue::object({{"method", "PUT"}, {"url", "CarePlan/" + opts.existing->id}})
          : JsonValue::object({{"method", "POST"},
                               {"url", "CarePlan"},
                               {"ifNoneExist", conditional(id.system, id.value)}});
  if (opts.existing && !opts.existing->version_id.empty()) {
    request.set("ifMatch", "W/\"" + opts.existing->version_id + "\"");
  }
  return request;
}

// Provenance: what was written, by whom, from what.
JsonValue build_provenance(const BuildOptions& opts, const PlanMembers& m,
                           const std::string& careplan_urn, const PlanBasis& b) {
  std::vector<std::string> targets;
  for (const auto& g : m.goals) targets.push_back(g.full_url);
  if (m.team) targets.push_back(m.team->full_url);
  for (const auto& r : m.requests) targets.push_back(r.full_url);
  targets.push_back(careplan_urn);
  const bool update = opts.existing.has_value();
  JsonValue prov = provenance(std::string(update ? "Revised" : "Created") + " on " + b.as_of_day +
                                  " by " + opts.device_name + " " + opts.device_version + " from " +
                                  std::to_string(b.used.size()) + " source resources.",
                              targets, b.as_of_day, update, m.device.full_url);
  if (!b.used.empty()) {
    JsonValue entities = JsonValue::array();
    for (const auto& u : b.used) {
      entities.push(JsonValue::object({{"role", "source"}, {"what", reference_to(u)}}));
    }
    prov.set("entity", std::move(entities));
  }
  return prov;
}

// The fingerprint covers everything in the bundle except its volatile parts
// (and itself); it goes right after the CarePlan's narrative, where FHIR JSON
// puts extensions.
void add_fingerprint(JsonValue& bundle, std::size_t careplan_at, const std::string& base) {
  const std::string fingerprint = content_fingerprint(bundle);
  auto& members = bundle.find("entry")->items()[careplan_at].find("resource")->members();
  auto after_text = std::find_if(members.begin(), members.end(),
                                 [](const JsonValue::Member& m) { return m.first == "text"; });
  members.emplace(after_text == members.end() ? after_text : after_text + 1, "extension",
                  JsonValue::array({JsonValue::object(
                      {{"url", fingerprint_extension_url(base)}, {"valueString", fingerprint}})}));
}

}  // namespace

JsonValue build_transaction(const Considerations& c, const GoalPlan& plan, const BuildOptions& o) {
  BuildOptions opts = o;
  opts.canonical_base = strip_trailing_slash(opts.canonical_base);
  validate(c, plan, opts);
  const Names n(opts.canonical_base, patient_key(c.patient_ref, opts.source_base),
                opts.device_name);
  std::vector<std::string> conditions = c.metastasis_conditions;
  conditions.insert(conditions.end(), c.primary_conditions.begin(), c.primary_conditions.end());
  const PlanBasis b{.conditions = sorted_unique(conditions),
                    .used = sorted_unique(c.used),
                    .as_of_day = opts.as_of.value_or(c.as_of).date_string()};

  PlanMembers m = build_members(plan, opts, n, b.as_of_day, b.conditions);
  const std::string careplan_urn = "urn:uuid:" + n.careplan().value;
  JsonValue cp = build_careplan(c, plan, opts, n, m, b);
  JsonValue prov = build_provenance(opts, m, careplan_urn, b);

  JsonValue entries = JsonValue::array();
  entries.push(entry(m.device.full_url, m.device.resource, m.device.request));
  for (auto& g : m.goals)
    entries.push(entry(g.full_url, std::move(g.resource), std::move(g.request)));
  if (m.team)
    entries.push(entry(m.team->full_url, std::move(m.team->resource), std::move(m.team->request)));
  for (auto& r : m.requests) {
    entries.push(entry(r.full_url, std::move(r.resource), std::move(r.request)));
  }
  entries.push(entry(careplan_urn, std::move(cp), careplan_request(opts, n.careplan())));
  const std::size_t careplan_at = entries.items().size() - 1;
  entries.push(entry("urn:uuid:" + n.uuid("Provenance"), std::move(prov),
                     JsonValue::object({{"method", "POST"}, {"url", "Provenance"}})));
  JsonValue bundle = JsonValue::object({{"resourceType", "Bundle"}, {"type", "transaction"}});
  bundle.set("entry", std::move(entries));
  if (!opts.source_base.empty()) point_at_source(bundle, strip_trailing_slash(opts.source_base));
  add_fingerprint(bundle, careplan_at, n.base);
  return bundle;
}

}  // namespace mst::adapter
