// The CarePlan builder: output contract, determinism, fingerprint, errors.
#include "mst/adapter/careplan/careplan_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "considerations_fixture.h"
#include "mst/adapter/careplan/plan_fingerprint.h"
#include "mst/adapter/goals/goal_engine.h"
#include "mst/fhir/json.h"

namespace mst::adapter {
namespace {

using namespace testing;
using fhir::JsonValue;

// A patient on the emergency pathway with a bit of everything.
Considerations emergency_patient() {
  auto c = stable_patient();
  set_escc(c, EsccGrade::k3);
  set_sins(c, 10);
  set_pain(c, 8);
  set_lesions(c, {"T11", "T12"});
  c.quality_of_life.mechanical_pain = true;
  add_new_deficit(c, "Lower limb weakness", day(2024, 3, 4));
  add_treatment(c, TreatmentKind::kChemotherapy, "Carboplatin", "MedicationRequest/carbo");
  c.data_gaps.push_back({"life expectancy", "no revised Tokuhashi score (3 of 6 inputs missing)"});
  c.ignored.push_back({"Observation/bad-bp", "valueQuantity has no value"});
  c.used.push_back("Condition/deficit");
  c.used.push_back("MedicationRequest/carbo");
  return c;
}

JsonValue build(const Considerations& c, const BuildOptions& o = {}) {
  return build_transaction(c, propose(c), o);
}

// The resources of a built bundle, parsed back, by type.
struct Parsed {
  explicit Parsed(const JsonValue& bundle)
      : text(bundle.dump()), doc(fhir::JsonDocument::parse(text)) {}
  fhir::Node root() const { return doc.root(); }
  std::vector<fhir::Node> of(std::string_view type) const {
    std::vector<fhir::Node> out;
    for (fhir::Node e : root().array("entry")) {
      if (e["resource"].string("resourceType") == std::optional<std::string_view>(type)) {
        out.push_back(e["resource"]);
      }
    }
    return out;
  }
  std::vector<fhir::Node> entries_of(std::string_view type) const {
    std::vector<fhir::Node> out;
    for (fhir::Node e : root().array("entry")) {
      if (e["resource"].string("resourceType") == std::optional<std::string_view>(type)) {
        out.push_back(e);
      }
    }
    return out;
  }
  std::string text;
  fhir::JsonDocument doc;
};

std::string str(fhir::Node n, std::string_view key) {
  return std::string(n.string(key).value_or(""));
}

TEST(CarePlanBuilder, TransactionHoldsTheContractResourcesInOrder) {
  Parsed p(build(emergency_patient()));
  EXPECT_EQ(str(p.root(), "resourceType"), "Bundle");
  EXPECT_EQ(str(p.root(), "type"), "transaction");
  std::vector<std::string> types;
  for (fhir::Node e : p.root().array("entry")) types.push_back(str(e["resource"], "resourceType"));
  EXPECT_EQ(types.front(), "Device");
  EXPECT_EQ(types.back(), "Provenance");
  EXPECT_EQ(types[types.size() - 2], "CarePlan");
  EXPECT_EQ(p.of("CareTeam").size(), 1u);
  EXPECT_EQ(p.of("Goal").size(), propose(emergency_patient()).goals.size());
  EXPECT_EQ(p.of("ServiceRequest").size(), propose(emergency_patient()).referrals.size());
}

TEST(CarePlanBuilder, CarePlanIsADraftProposalWithEveryContractElement) {
  const auto c = emergency_patient();
  Parsed p(build(c));
  fhir::Node cp = p.of("CarePlan").at(0);
  EXPECT_EQ(str(cp, "status"), "draft");
  EXPECT_EQ(str(cp, "intent"), "proposal");
  EXPECT_EQ(str(cp, "created"), "2024-03-05");
  EXPECT_EQ(str(cp["subject"], "reference"), "Patient/p1");
  EXPECT_EQ(str(cp["author"], "reference"), str(p.entries_of("Device").at(0), "fullUrl"));
  auto cat = cp.array("category");
  ASSERT_EQ(cat.size(), 2u);
  EXPECT_EQ(str(cat[0].array("coding")[0], "code"), "assess-plan");
  EXPECT_EQ(str(cat[0].array("coding")[0], "system"),
            "http://hl7.org/fhir/us/core/CodeSystem/careplan-category");
  EXPECT_EQ(str(cat[1].array("coding")[0], "code"), "736252007");
  std::vector<std::string> addresses;
  for (fhir::Node r : cp.array("addresses")) addresses.push_back(str(r, "reference"));
  EXPECT_EQ(addresses, (std::vector<std::string>{"Condition/met-spine", "Condition/primary"}));
  std::vector<std::string> supporting;
  for (fhir::Node r : cp.array("supportingInfo")) supporting.push_back(str(r, "reference"));
  auto used = c.used;
  std::sort(used.begin(), used.end());
  EXPECT_EQ(supporting, used);
  EXPECT_EQ(cp.array("goal").size(), p.of("Goal").size());
  EXPECT_EQ(cp.array("careTeam").size(), 1u);
  const auto id = careplan_identifier("Patient/p1", {});
  EXPECT_EQ(id.system, "http://mst-adapter.example.org/fhir/NamingSystem/mst-careplan");
  EXPECT_EQ(str(cp.array("identifier")[0], "system"), id.system);
  EXPECT_EQ(str(cp.array("identifier")[0], "value"), id.value);
  // Activities: one per referral (by reference), one per suggested action (detail).
  std::size_t by_reference = 0, by_detail = 0;
  for (fhir::Node a : cp.array("activity")) {
    if (a["reference"].present()) ++by_reference;
    if (a["detail"].present()) {
      ++by_detail;
      EXPECT_EQ(str(a["detail"], "status"), "not-started");
    }
  }
  EXPECT_EQ(by_reference, p.of("ServiceRequest").size());
  EXPECT_GT(by_detail, 0u);
  std::string all_notes;
  for (fhir::Node n : cp.array("note")) all_notes += str(n, "text") + "\n";
  EXPECT_NE(all_notes.find("Disclaimer: this is a draft proposal"), std::string::npos);
  EXPECT_NE(all_notes.find("life expectancy: no revised Tokuhashi score"), std::string::npos);
  EXPECT_NE(all_notes.find("Resources not used (1, by reason, with the first references as "
                           "examples): valueQuantity has no value (1: Observation/bad-bp)"),
            std::string::npos);
  EXPECT_EQ(str(cp["text"], "status"), "generated");
  EXPECT_EQ(str(cp["text"], "div").rfind("<div xmlns=\"http://www.w3.org/1999/xhtml\">", 0), 0u);
}

TEST(CarePlanBuilder, DataGapsAreTheEnginesListPrintedAsIs) {
  auto c = emergency_patient();
  c.data_gaps.push_back({"ambulation", "not recorded"});
  GoalPlan plan = propose(c);
  // The record's gaps sorted, then the inputs the rules missed.
  ASSERT_GE(plan.data_gaps.size(), 2u);
  EXPECT_EQ(plan.data_gaps[0], "ambulation: not recorded");
  EXPECT_EQ(plan.data_gaps[1],
            "life expectancy: no revised Tokuhashi score (3 of 6 inputs missing)");
  EXPECT_EQ(plan.data_gaps.size(), 2 + plan.missing.size());
  // The note prints the engine's list; it does not rebuild one from `c`.
  plan.data_gaps = {"marker: only in the plan"};
  Parsed p(build_transaction(c, plan, {}));
  std::string all_notes;
  for (fhir::Node n : p.of("CarePlan").at(0).array("note")) all_notes += str(n, "text") + "\n";
  EXPECT_NE(all_notes.find("favourable): marker: only in the plan\n"), std::string::npos)
      << all_notes;
  EXPECT_EQ(all_notes.find("ambulation: not recorded"), std::string::npos) << all_notes;
}

TEST(CarePlanBuilder, AlertsOpenTheNotesAndTextFactsAreNamed) {
  auto c = emergency_patient();
  c.read_from_text = {"Condition/deficit"};
  c.alerts.push_back({"DiagnosticReport/mri", "cord compression; weakness",
                      "DiagnosticReport resources are not read by the extractor"});
  Parsed p(build(c));
  const fhir::Node cp = p.of("CarePlan").at(0);
  ASSERT_GE(cp.array("note").size(), 2u);
  EXPECT_EQ(str(cp.array("note")[0], "text"),
            "ALERT: DiagnosticReport/mri mentions cord compression; weakness; not used: "
            "DiagnosticReport resources are not read by the extractor. Review it: it may change "
            "the urgency.");
  EXPECT_EQ(str(cp.array("note")[1], "text"),
            "Read from text, confirm against the record: the facts resting on Condition/deficit "
            "were read from free text or a value written in words, not from a code.");
  EXPECT_EQ(build(c).dump(), build(c).dump());
}

TEST(CarePlanBuilder, ResourcesNotUsedAreCountedByReasonWithAFewExamples) {
  auto c = emergency_patient();
  const std::string unread = "Observation code is not in the code tables";
  const std::string status = "status 'preliminary': only final, amended or corrected results";
  for (int k = 0; k < 3000; ++k) c.ignored.push_back({"Observation/u" + std::to_string(k), unread});
  for (int k = 0; k < 40; ++k) c.ignored.push_back({"Observation/s" + std::to_string(k), status});
  c.ignored.push_back({"Observation/u7", unread});  // the same resource twice counts once
  auto shuffled = c;
  std::reverse(shuffled.ignored.begin(), shuffled.ignored.end());
  const JsonValue bundle = build(c);
  EXPECT_EQ(bundle.dump(), build(shuffled).dump());
  // Thousands more resources not used add well under a kilobyte.
  EXPECT_LT(bundle.dump().size(), build(emergency_patient()).dump().size() + 1000);

  Parsed p(bundle);
  const fhir::Node cp = p.of("CarePlan").at(0);
  std::string all_notes;
  for (fhir::Node n : cp.array("note")) all_notes += str(n, "text") + "\n";
  // Most frequent reason first; examples are the first references in string order.
  EXPECT_NE(all_notes.find("Resources not used (3041, by reason, with the first references as "
                           "examples): " +
                           unread +
                           " (3000: Observation/u0, Observation/u1, Observation/u10 and 2997 "
                           "more) | " +
                           status +
                           " (40: Observation/s0, Observation/s1, Observation/s10 and 37 more) | "
                           "valueQuantity has no value (1: Observation/bad-bp)\n"),
            std::string::npos)
      << all_notes;
  const std::string div = str(cp["text"], "div");
  EXPECT_NE(div.find("<p>3041 resources were not used."), std::string::npos);
  EXPECT_NE(div.find("<li>" + unread +
                     " (3000: Observation/u0, Observation/u1, Observation/u10 and 2997 more)</li>"),
            std::string::npos);
  EXPECT_EQ(div.find("Observation/u2999"), std::string::npos);
  EXPECT_EQ(all_notes.find("Observation/u2999"), std::string::npos);

  // A count a clinician sees is content: one more resource changes the fingerprint
  // even when the examples stay the same.
  auto one_more = c;
  one_more.ignored.push_back({"Observation/u3000", unread});
  EXPECT_NE(content_fingerprint(build(one_more)), content_fingerprint(bundle));
}

TEST(CarePlanBuilder, GoalsCarryCodePriorityTargetsAndRationale) {
  Parsed p(build(emergency_patient()));
  bool saw_pain = false;
  for (fhir::Node g : p.of("Goal")) {
    EXPECT_EQ(str(g, "lifecycleStatus"), "proposed");
    EXPECT_EQ(str(g["subject"], "reference"), "Patient/p1");
    fhir::Node code = g["description"].array("coding")[0];
    EXPECT_EQ(str(code, "system"), "http://mst-adapter.example.org/fhir/CodeSystem/mst-goal");
    fhir::Node prio = g["priority"].array("coding")[0];
    EXPECT_EQ(str(prio, "system"), "http://terminology.hl7.org/CodeSystem/goal-priority");
    EXPECT_EQ(g.array("note").size(), 2u);
    EXPECT_FALSE(g.array("addresses").empty());
    if (str(code, "code") == "pain-relief") {
      saw_pain = true;
      fhir::Node t = g.array("target")[0];
      EXPECT_EQ(str(t["measure"].array("coding")[0], "code"), "72514-3");
      EXPECT_EQ(t["detailRange"]["high"].integer("value"), 3);
      EXPECT_EQ(str(t["detailRange"]["high"], "code"), "{score}");
    }
  }
  EXPECT_TRUE(saw_pain);
}

TEST(CarePlanBuilder, CareTeamAndServiceRequestsAreProposals) {
  Parsed p(build(emergency_patient()));
  fhir::Node team = p.of("CareTeam").at(0);
  EXPECT_EQ(str(team, "status"), "proposed");
  std::set<std::string> role_codes;
  for (fhir::Node part : team.array("participant")) {
    for (fhir::Node role : part.array("role")) {
      for (fhir::Node cd : role.array("coding")) role_codes.insert(str(cd, "code"));
    }
  }
  EXPECT_TRUE(role_codes.count("22731001"));   // orthopaedic surgeon
  EXPECT_TRUE(role_codes.count("45544007"));   // neurosurgeon
  EXPECT_TRUE(role_codes.count("763292005"));  // radiation oncologist
  EXPECT_TRUE(role_codes.count("310512001"));  // medical oncologist
  std::set<std::string> priorities;
  for (fhir::Node sr : p.of("ServiceRequest")) {
    EXPECT_EQ(str(sr, "status"), "draft");
    EXPECT_EQ(str(sr, "intent"), "proposal");
    priorities.insert(str(sr, "priority"));
    EXPECT_FALSE(str(sr["code"], "text").empty());
    EXPECT_FALSE(sr.array("reasonReference").empty());
    EXPECT_TRUE(sr["performerType"].present());
    EXPECT_EQ(str(sr["requester"], "reference"), str(p.entries_of("Device").at(0), "fullUrl"));
  }
  EXPECT_TRUE(priorities.count("stat"));
}

// The key of a ServiceRequest as the write-back matches it: identifier value.
std::map<std::string, std::string> request_ids_by_what(const Parsed& p) {
  std::map<std::string, std::string> out;
  for (fhir::Node sr : p.of("ServiceRequest")) {
    const std::string what = str(sr["code"], "text").substr(0, 30) + "|" + str(sr, "priority");
    EXPECT_TRUE(out.emplace(what, str(sr.array("identifier")[0], "value")).second) << what;
  }
  return out;
}

TEST(CarePlanBuilder, OneServiceRequestPerDisciplineAndUrgencyWithItsOwnIdentifier) {
  const auto c = emergency_patient();
  Parsed p(build(c));
  std::set<std::string> ids;
  int spine = 0;
  for (fhir::Node sr : p.of("ServiceRequest")) {
    EXPECT_TRUE(ids.insert(str(sr.array("identifier")[0], "value")).second);
    if (str(sr["code"], "text").rfind("Referral to Spine surgery", 0) == 0) ++spine;
  }
  EXPECT_GE(spine, 2);  // the stat MSCC assessment and the asap separation surgery
  // Dropping the urgent stability consult (SINS 4) leaves the other
  // requests' identifiers unchanged, so a revision withdraws only that one.
  auto calmer = c;
  set_sins(calmer, 4);
  const auto before = request_ids_by_what(p);
  const auto after = request_ids_by_what(Parsed(build(calmer)));
  EXPECT_LT(after.size(), before.size());
  for (const auto& [what, id] : after) {
    ASSERT_TRUE(before.count(what)) << what;
    EXPECT_EQ(before.at(what), id) << what;
  }
}

TEST(CarePlanBuilder, ProvenanceNamesTargetsAgentAndEverySource) {
  const auto c = emergency_patient();
  Parsed p(build(c));
  fhir::Node prov = p.of("Provenance").at(0);
  EXPECT_EQ(str(prov, "recorded"), "2024-03-05T00:00:00Z");
  EXPECT_EQ(str(prov["activity"].array("coding")[0], "code"), "CREATE");
  EXPECT_EQ(str(prov.array("agent")[0]["who"], "reference"),
            str(p.entries_of("Device").at(0), "fullUrl"));
  std::set<std::string> targets;
  for (fhir::Node t : prov.array("target")) targets.insert(str(t, "reference"));
  for (const char* type : {"Goal", "CareTeam", "ServiceRequest", "CarePlan"}) {
    for (fhir::Node e : p.entries_of(type)) EXPECT_TRUE(targets.count(str(e, "fullUrl"))) << type;
  }
  std::set<std::string> sources;
  for (fhir::Node e : prov.array("entity")) {
    EXPECT_EQ(str(e, "role"), "source");
    sources.insert(str(e["what"], "reference"));
  }
  EXPECT_EQ(sources, std::set<std::string>(c.used.begin(), c.used.end()));
}

TEST(CarePlanBuilder, EntriesAreConditionalCreatesOnTheAdaptersIdentifiers) {
  // Never a conditional update: that would overwrite whatever carries the
  // identifier. The write-back turns a create into an update by id only for
  // the adapter's own untouched resources (plan_members.h).
  Parsed p(build(emergency_patient()));
  for (fhir::Node e : p.root().array("entry")) {
    const std::string type = str(e["resource"], "resourceType");
    fhir::Node req = e["request"];
    EXPECT_EQ(str(req, "method"), "POST") << type;
    EXPECT_EQ(str(req, "url"), type);
    if (type == "Provenance") continue;
    fhir::Node ident = e["resource"].array("identifier")[0];
    EXPECT_EQ(str(req, "ifNoneExist"),
              "identifier=" + str(ident, "system") + "|" + str(ident, "value"));
  }
}

TEST(CarePlanBuilder, EveryNoteNamesTheAdapterAsItsAuthor) {
  Parsed p(build(emergency_patient()));
  std::size_t notes = 0;
  for (fhir::Node e : p.root().array("entry")) {
    for (fhir::Node n : e["resource"].array("note")) {
      EXPECT_EQ(str(n, "authorString"), "MST Care-Plan Adapter");
      ++notes;
    }
  }
  EXPECT_GT(notes, 3u);
}

TEST(CarePlanBuilder, EveryBundleReferenceResolves) {
  Parsed p(build(emergency_patient()));
  std::set<std::string> full_urls;
  for (fhir::Node e : p.root().array("entry")) full_urls.insert(str(e, "fullUrl"));
  // Every "urn:uuid:" string in the output is the fullUrl of an entry.
  std::size_t pos = 0, checked = 0;
  const std::string marker = "\"reference\":\"urn:uuid:";
  while ((pos = p.text.find(marker, pos)) != std::string::npos) {
    const auto start = pos + 13;
    const auto end = p.text.find('"', start);
    EXPECT_TRUE(full_urls.count(p.text.substr(start, end - start)));
    pos = end;
    ++checked;
  }
  EXPECT_GT(checked, 10u);
}

TEST(CarePlanBuilder, ExistingDraftIsUpdatedInPlaceWithOptimisticLocking) {
  BuildOptions o;
  o.existing = ExistingDraft{"cp-42", "7"};
  Parsed p(build(emergency_patient(), o));
  fhir::Node e = p.entries_of("CarePlan").at(0);
  EXPECT_EQ(str(e["request"], "method"), "PUT");
  EXPECT_EQ(str(e["request"], "url"), "CarePlan/cp-42");
  EXPECT_EQ(str(e["request"], "ifMatch"), "W/\"7\"");
  EXPECT_EQ(str(e["resource"], "id"), "cp-42");
  EXPECT_EQ(str(p.of("Provenance").at(0)["activity"].array("coding")[0], "code"), "UPDATE");
}

TEST(Determinism, BuildingTwiceGivesIdenticalBytes) {
  const auto c = emergency_patient();
  EXPECT_EQ(build(c).dump(true), build(c).dump(true));
}

TEST(Determinism, PermutedInputOrderGivesIdenticalBytes) {
  const auto c = emergency_patient();
  auto p = c;
  add_new_deficit(p, "Saddle numbness", day(2024, 3, 3));
  auto q = c;
  add_new_deficit(q, "Saddle numbness", day(2024, 3, 3));
  std::reverse(q.neurology.deficits.begin(), q.neurology.deficits.end());
  std::reverse(q.treatments.begin(), q.treatments.end());
  std::reverse(q.preferences.begin(), q.preferences.end());
  std::reverse(q.spine.lesions.begin(), q.spine.lesions.end());
  std::reverse(q.used.begin(), q.used.end());
  std::reverse(q.metastasis_conditions.begin(), q.metastasis_conditions.end());
  q.data_gaps.insert(q.data_gaps.begin(), {"ambulation", "not recorded"});
  p.data_gaps.push_back({"ambulation", "not recorded"});
  q.ignored.insert(q.ignored.begin(), {"Observation/x", "unknown code"});
  p.ignored.push_back({"Observation/x", "unknown code"});
  EXPECT_EQ(build(p).dump(), build(q).dump());
}

TEST(Determinism, IdentitiesDependOnPatientAndRoleOnly) {
  auto a = stable_patient();
  auto b = stable_patient();
  b.patient_ref = "Patient/p2";
  const auto ia = careplan_identifier(a.patient_ref, {});
  EXPECT_EQ(ia.value, careplan_identifier("Patient/p1", {}).value);
  EXPECT_NE(ia.value, careplan_identifier(b.patient_ref, {}).value);
  EXPECT_EQ(ia.value.size(), 36u);
  EXPECT_EQ(ia.value[14], '5');  // RFC 4122 version 5
}

TEST(Fingerprint, IgnoresTheAsOfDayAndExistingIdButNotTheContent) {
  const auto c = emergency_patient();
  const auto fp = content_fingerprint(build(c));
  EXPECT_EQ(fp.rfind("sha256:", 0), 0u);
  EXPECT_EQ(fp.size(), 7u + 64u);
  BuildOptions later;
  later.as_of = day(2024, 3, 6);
  later.existing = ExistingDraft{"cp-1", "3"};
  later.device_version = "9.9.9";
  EXPECT_EQ(content_fingerprint(build(c, later)), fp);
  auto changed = c;
  set_pain(changed, 9);
  EXPECT_NE(content_fingerprint(build(changed)), fp);
  BuildOptions other_base;
  other_base.canonical_base = "https://fhir.example.com/mst";
  EXPECT_NE(content_fingerprint(build(c, other_base)), fp);
}

TEST(Fingerprint, IsStoredOnTheCarePlanAndReadBack) {
  const auto bundle = build(emergency_patient());
  Parsed p(bundle);
  const auto stored =
      read_fingerprint(p.of("CarePlan").at(0), "http://mst-adapter.example.org/fhir");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, content_fingerprint(bundle));
  EXPECT_FALSE(read_fingerprint(p.of("Goal").at(0), "http://mst-adapter.example.org/fhir"));
  auto doc = fhir::JsonDocument::parse(R"({"resourceType":"CarePlan","extension":"oops"})");
  EXPECT_FALSE(read_fingerprint(doc.root(), "http://mst-adapter.example.org/fhir"));
}

// A one-entry transaction holding `resource`.
JsonValue one_entry(JsonValue resource) {
  JsonValue e = JsonValue::object({{"fullUrl", "urn:uuid:1"}});
  e.set("resource", std::move(resource));
  JsonValue bundle = JsonValue::object({{"resourceType", "Bundle"}});
  bundle.set("entry", JsonValue::array({std::move(e)}));
  return bundle;
}

TEST(Fingerprint, EveryContentChangeChangesItAndOnlyVolatileMembersDoNot) {
  auto goal = [](JsonValue a, JsonValue b) {
    return content_fingerprint(
        one_entry(JsonValue::object({{"resourceType", "Goal"}, {"a", a}, {"b", b}})));
  };
  const std::string base = goal("xy", "z");
  EXPECT_EQ(goal("xy", "z"), base);
  // The encoding is prefix-free: moving text across a boundary is a change.
  EXPECT_NE(goal("x", "yz"), base);
  EXPECT_NE(goal(JsonValue::array({"x", "y"}), "z"), goal(JsonValue::array({"xy"}), "z"));
  EXPECT_NE(goal(JsonValue::array({JsonValue::array()}), "z"),
            goal(JsonValue::array({JsonValue::object()}), "z"));
  EXPECT_NE(goal(1, "z"), goal("1", "z"));
  EXPECT_NE(goal(JsonValue::decimal("1.0"), "z"), goal(1, "z"));
  EXPECT_NE(goal(true, "z"), goal(JsonValue(), "z"));

  // Volatile members and the "Prepared on" line are left out; the rest of
  // the narrative and any other extension are not.
  auto careplan = [](std::string div, JsonValue extra) {
    JsonValue cp = JsonValue::object({{"resourceType", "CarePlan"}});
    cp.set("text", JsonValue::object({{"status", "generated"}, {"div", std::move(div)}}));
    cp.set("status", "draft");
    for (const auto& [k, v] : extra.members()) cp.set(k, v);
    return content_fingerprint(one_entry(std::move(cp)));
  };
  const std::string fp_ext = "http://b/StructureDefinition/mst-content-fingerprint";
  const std::string plan =
      careplan("<div><p>A</p><p>Prepared on 2024-03-05 by X.</p></div>", JsonValue::object());
  EXPECT_EQ(careplan("<div><p>A</p><p>Prepared on 2025-01-01 by Y 2.0.</p></div>",
                     JsonValue::object(
                         {{"id", "cp-9"},
                          {"meta", JsonValue::object({{"versionId", "4"}})},
                          {"created", "2025-01-01"},
                          {"extension", JsonValue::array({JsonValue::object(
                                            {{"url", fp_ext}, {"valueString", "sha256:x"}})})}})),
            plan);
  EXPECT_NE(careplan("<div><p>B</p><p>Prepared on 2024-03-05 by X.</p></div>", JsonValue::object()),
            plan);
  EXPECT_NE(careplan("<div><p>A</p><p>Prepared on 2024-03-05 by X.</p></div>",
                     JsonValue::object({{"extension", JsonValue::array({JsonValue::object(
                                                          {{"url", "http://other"}})})}})),
            plan);
}

TEST(Fingerprint, TheBuilderStoresTheOneContentFingerprintComputes) {
  BuildOptions update;
  update.existing = ExistingDraft{"cp-1", "3"};
  for (const auto& bundle :
       {build(emergency_patient()), build(emergency_patient(), update), build(stable_patient())}) {
    EXPECT_EQ(built_fingerprint(bundle), content_fingerprint(bundle));
  }
  EXPECT_EQ(built_fingerprint(JsonValue::object({{"resourceType", "Bundle"}})), "");
}

TEST(Fingerprint, ReadBackWhenTheBaseHasATrailingSlash) {
  BuildOptions slash;
  slash.canonical_base = "https://fhir.example.com/mst/";
  const auto bundle = build(emergency_patient(), slash);
  Parsed p(bundle);
  const auto stored = read_fingerprint(p.of("CarePlan").at(0), slash.canonical_base);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, content_fingerprint(bundle));
}

TEST(CarePlanBuilder, MemberKindsNameTheIdentifierSystemsItWrites) {
  BuildOptions slash;
  slash.canonical_base = "https://fhir.example.com/mst/";
  Parsed p(build(emergency_patient(), slash));
  const auto kinds = plan_member_kinds(slash);
  ASSERT_EQ(kinds.size(), 3u);
  for (const auto& kind : kinds) {
    ASSERT_FALSE(p.of(kind.type).empty()) << kind.type;
    for (fhir::Node r : p.of(kind.type)) {
      EXPECT_EQ(str(r.array("identifier")[0], "system"), kind.identifier_system) << kind.type;
    }
  }
}

TEST(CarePlanBuilder, RejectsWhatCannotBeBuilt) {
  auto none = stable_patient();
  none.spine.present = false;
  EXPECT_THROW(build(none), BuildError);
  try {
    build(none);
  } catch (const BuildError& e) {
    EXPECT_NE(std::string(e.what()).find("No spinal metastasis"), std::string::npos);
  }
  auto bad_patient = stable_patient();
  bad_patient.patient_ref = "p1";
  EXPECT_THROW(build(bad_patient), BuildError);
  BuildOptions o;
  o.canonical_base = "ftp://x";
  EXPECT_THROW(build(stable_patient(), o), BuildError);
  o = {};
  o.existing = ExistingDraft{"bad id/../x", ""};
  EXPECT_THROW(build(stable_patient(), o), BuildError);
  o = {};
  o.device_version = "";
  EXPECT_THROW(build(stable_patient(), o), BuildError);
}

TEST(CarePlanBuilder, TrailingSlashOnTheCanonicalBaseIsIgnored) {
  BuildOptions slash;
  slash.canonical_base = "http://mst-adapter.example.org/fhir/";
  EXPECT_EQ(build(stable_patient(), slash).dump(), build(stable_patient()).dump());
}

}  // namespace
}  // namespace mst::adapter
