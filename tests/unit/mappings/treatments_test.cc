// Current cancer treatment from medications and Procedures: the
// cancer-medications table (ATC hierarchy, RxNorm ingredients and clinical
// drugs, text), the readers' "ongoing" rule, and how derive_treatments
// combines them with CarePlans. Codes: fhir-coding.md §16.7; windows:
// thresholds.json recency.cancer-treatment (42 d) and
// recency.bone-targeted-agent (98 d).
#include <gtest/gtest.h>

#include "mst/mappings/extract.h"
#include "record_fixture.h"

namespace mst::mappings {
namespace {

using namespace testing;

const std::string kAtcUri = "http://www.whocc.no/atc";
const std::string kRx = "http://www.nlm.nih.gov/research/umls/rxnorm";

std::optional<TreatmentKind> kind_of(const fhir::CodeableConcept& c) {
  auto m = shipped_tables().cancer_medication(c);
  if (!m.entry) return std::nullopt;
  return m.entry->treatment;
}

// fhir-coding.md §16.7 "Classing immunotherapy": never L01 alone.
TEST(CancerMedicationTable, AtcPrefixHierarchyLongestPrefixWins) {
  EXPECT_EQ(kind_of(cc(kAtcUri, "L01BA04")), TreatmentKind::kChemotherapy);   // pemetrexed
  EXPECT_EQ(kind_of(cc(kAtcUri, "L01XA01")), TreatmentKind::kChemotherapy);   // under L01
  EXPECT_EQ(kind_of(cc(kAtcUri, "L01FF02")), TreatmentKind::kImmunotherapy);  // pembrolizumab
  EXPECT_EQ(kind_of(cc(kAtcUri, "L01FX04")), TreatmentKind::kImmunotherapy);  // ipilimumab
  EXPECT_EQ(kind_of(cc(kAtcUri, "L01FC01")), TreatmentKind::kTargeted);       // daratumumab
  EXPECT_EQ(kind_of(cc(kAtcUri, "L01EK01")), TreatmentKind::kTargeted);       // axitinib
  EXPECT_EQ(kind_of(cc(kAtcUri, "L02BG03")), TreatmentKind::kEndocrine);      // anastrozole
  EXPECT_EQ(kind_of(cc(kAtcUri, "L04AX04")), TreatmentKind::kOtherCancerTreatment);  // IMiD
  EXPECT_EQ(kind_of(cc(kAtcUri, "M05BX04")), TreatmentKind::kBoneTargeted);          // denosumab
  EXPECT_EQ(kind_of(cc(kAtcUri, "M05BA08")), TreatmentKind::kBoneTargeted);  // zoledronic acid
  EXPECT_EQ(kind_of(cc(kAtcUri, "V10XX03")), TreatmentKind::kRadiotherapy);  // radium-223
  // Pre-2022 codes still in older data.
  EXPECT_EQ(kind_of(cc(kAtcUri, "L01XC18")), TreatmentKind::kImmunotherapy);
  EXPECT_EQ(kind_of(cc(kAtcUri, "L01XE17")), TreatmentKind::kTargeted);
  EXPECT_EQ(kind_of(cc(kAtcUri, "l01ff02")), TreatmentKind::kImmunotherapy);  // case
  // Not cancer treatment: methotrexate and azathioprine share L04AX,
  // alendronate shares M05BA; other systems do not get ATC semantics.
  EXPECT_FALSE(kind_of(cc(kAtcUri, "L04AX03")));
  EXPECT_FALSE(kind_of(cc(kAtcUri, "M05BA04")));
  EXPECT_FALSE(kind_of(cc(kAtcUri, "L")));
  EXPECT_FALSE(kind_of(cc(kSct, "L01FF02")));
}

TEST(CancerMedicationTable, RxNormIngredientsAndClinicalDrugs) {
  EXPECT_EQ(kind_of(cc(kRx, "68446")), TreatmentKind::kChemotherapy);    // pemetrexed IN
  EXPECT_EQ(kind_of(cc(kRx, "1728072")), TreatmentKind::kChemotherapy);  // pemetrexed SCD
  EXPECT_EQ(kind_of(cc(kRx, "1547545")), TreatmentKind::kImmunotherapy);
  EXPECT_EQ(kind_of(cc(kRx, "1242999")), TreatmentKind::kTargeted);
  EXPECT_EQ(kind_of(cc(kRx, "84857")), TreatmentKind::kEndocrine);
  EXPECT_EQ(kind_of(cc(kRx, "199224")), TreatmentKind::kEndocrine);  // anastrozole 1 MG tablet
  EXPECT_EQ(kind_of(cc(kRx, "993449")), TreatmentKind::kBoneTargeted);
  EXPECT_FALSE(kind_of(cc(kRx, "161")));  // acetaminophen
  EXPECT_FALSE(shipped_tables().cancer_medication(cc(kRx, "1728072")).from_text);
}

TEST(CancerMedicationTable, TextSynonymsOnWordBoundariesAreMarked) {
  auto cis = shipped_tables().cancer_medication(text_cc("Cisplatin 50 MG Injection"));
  ASSERT_TRUE(cis.entry);
  EXPECT_EQ(cis.entry->treatment, TreatmentKind::kChemotherapy);
  EXPECT_TRUE(cis.from_text);
  auto zol = shipped_tables().cancer_medication(text_cc("zoledronic acid 4 MG/5ML infusion"));
  ASSERT_TRUE(zol.entry);
  EXPECT_EQ(zol.entry->key, "zoledronic-acid");
  EXPECT_FALSE(shipped_tables().cancer_medication(text_cc("Paracetamol 500 MG")).entry);
  EXPECT_FALSE(shipped_tables().cancer_medication(text_cc("noncisplatinregimen")).entry);
  // Medicine text goes through the same negation-aware phrase matching.
  EXPECT_FALSE(shipped_tables().cancer_medication(text_cc("Not on cisplatin")).entry);
  EXPECT_FALSE(shipped_tables().cancer_medication(text_cc("No zoledronic acid")).entry);
}

std::string load_error(const std::string& entries) {
  TempDir site;
  site.write("meds.json", R"({"kind":"cancer-medications","entries":[)" + entries + "]}");
  try {
    CodeTables::load({shipped_tables_dir(), site.path()});
  } catch (const CodeTableError& e) {
    return e.what();
  }
  return "no error";
}

TEST(CancerMedicationTable, SiteEntriesAreValidated) {
  EXPECT_NE(load_error(R"({"key":"x","label":"X","treatment":"chemotherapy","atc":["L01-FF"],
                           "source":"s"})")
                .find("\"atc\" must hold ATC codes"),
            std::string::npos);
  EXPECT_NE(load_error(R"({"key":"x","label":"X","treatment":"surgery","source":"s"})")
                .find("expected one of"),
            std::string::npos);
  EXPECT_NE(
      load_error(R"({"key":"x","label":"X","treatment":"targeted","atc":["L01XX"],"source":"s"},
                          {"key":"y","label":"Y","treatment":"chemotherapy","atc":["L01XX"],"source":"s"})")
          .find("also claimed"),
      std::string::npos);
  // A site may reclass a code: the later file wins.
  TempDir site;
  site.write("meds.json", R"({"kind":"cancer-medications","entries":[
    {"key":"site-pem","label":"Pemetrexed, site class","treatment":"targeted","atc":["L01BA04"],"source":"site"
}]
})");
  auto t = CodeTables::load({shipped_tables_dir(), site.path()});
  auto m = t.cancer_medication(cc(kAtcUri, "L01BA04"));
  ASSERT_TRUE(m.entry);
  EXPECT_EQ(m.entry->key, "site-pem");
  EXPECT_EQ(m.entry->treatment, TreatmentKind::kTargeted);
}

// ---- Readers -----------------------------------------------------------------

std::string med_concept(const std::string& system, const std::string& code,
                        const std::string& text = "") {
  return R"("medicationCodeableConcept":{"coding":[{"system":")" + system + R"(","code":")" + code +
         "\"}]" + (text.empty() ? "" : R"(,"text":")" + text + "\"") + "}";
}

std::string resource(const std::string& type, const std::string& id, const std::string& status,
                     const std::string& extra) {
  return R"({"resourceType":")" + type + R"(","id":")" + id + R"(","status":")" + status +
         R"(","subject":{"reference":"Patient/p1"},)" + extra + "}";
}

std::string administration(const std::string& id, const std::string& status,
                           const std::string& when, const std::string& med) {
  return resource("MedicationAdministration", id, status,
                  med + R"(,"effectiveDateTime":")" + when + "\"");
}

std::string request(const std::string& id, const std::string& status, const std::string& intent,
                    const std::string& med, const std::string& extra = "") {
  return resource("MedicationRequest", id, status,
                  med + R"(,"intent":")" + intent + R"(","authoredOn":"2025-01-10")" +
                      (extra.empty() ? "" : "," + extra));
}

std::string procedure(const std::string& id, const std::string& status, const std::string& code,
                      const std::string& performed) {
  return resource("Procedure", id, status, R"("code":)" + coding(kSct, code) + "," + performed);
}

// The brief's example: weekly pemetrexed administrations and nothing else.
TEST(TreatmentReaders, AdministrationsAloneMakeAnOngoingChemotherapy) {
  const std::string pem = med_concept(kRx, "1728072", "pemetrexed 500 MG Injection");
  auto c = run({patient(), administration("a1", "completed", "2025-05-11", pem),
                administration("a2", "completed", "2025-05-18", pem),
                administration("a3", "completed", "2025-05-25", pem)});
  ASSERT_EQ(c.treatments.size(), 1u);
  const ActiveTreatment& t = c.treatments[0];
  EXPECT_EQ(t.kind, TreatmentKind::kChemotherapy);
  EXPECT_EQ(t.label, "pemetrexed 500 MG Injection");
  EXPECT_EQ(t.evidence, (Evidence{"MedicationAdministration/a1", "MedicationAdministration/a2",
                                  "MedicationAdministration/a3"}));
  ASSERT_TRUE(t.start);
  EXPECT_EQ(t.start->date_string(), "2025-05-11");
  EXPECT_FALSE(t.end);
  EXPECT_FALSE(has_gap(c, "current cancer treatment"));
  EXPECT_EQ(c.used, t.evidence);
}

TEST(TreatmentReaders, OldAdministrationsAreHistoryButBoneAgentsHaveALongerWindow) {
  auto c = run({patient(),
                // 60 days before as_of: past the 42-day window.
                administration("a1", "completed", "2025-04-02", med_concept(kAtcUri, "L01BA04")),
                // zoledronic acid 12-weekly: 80 days is inside the 98-day window.
                administration("z1", "completed", "2025-03-13", med_concept(kAtcUri, "M05BA08")),
                administration("a2", "not-done", "2025-05-30", med_concept(kAtcUri, "L01BA04")),
                administration("a3", "completed", "2025-06-05", med_concept(kAtcUri, "L01BA04"))});
  ASSERT_EQ(c.treatments.size(), 1u);
  EXPECT_EQ(c.treatments[0].kind, TreatmentKind::kBoneTargeted);
  EXPECT_TRUE(is_ignored(c, "MedicationAdministration/a2", "not-done"));
  EXPECT_TRUE(is_ignored(c, "MedicationAdministration/a3", "after the as-of"));
  EXPECT_FALSE(is_ignored(c, "MedicationAdministration/a1"));  // history, not an error
  auto old = run({patient(), administration("a1", "completed", "2025-04-02",
                                            med_concept(kAtcUri, "L01BA04"))});
  EXPECT_TRUE(old.treatments.empty());
  EXPECT_TRUE(has_gap(old, "current cancer treatment", "(CarePlan, medication or procedure)"));
}

TEST(TreatmentReaders, OrdersAndStatementsByStatusAndIntent) {
  const std::string pembro = med_concept(kRx, "1547545");
  auto c = run(
      {patient(), request("r1", "active", "order", pembro),
       request("r2", "stopped", "order", med_concept(kRx, "84857")),
       request("r3", "active", "plan", med_concept(kRx, "993449")),
       request("r4", "entered-in-error", "order", med_concept(kRx, "1242999")),
       request("r5", "active", "order", med_concept(kRx, "1242999"),
               R"("dispenseRequest":{"validityPeriod":{"start":"2025-01-10","end":"2025-03-01"}})"),
       resource("MedicationStatement", "s1", "active",
                med_concept(kAtcUri, "L02BG03") + R"(,"effectivePeriod":{"start":"2024-11-01"})"),
       resource("MedicationStatement", "s2", "completed",
                med_concept(kAtcUri, "L02BB04") + R"(,"effectiveDateTime":"2024-01-01")"),
       resource("MedicationStatement", "s3", "intended", med_concept(kAtcUri, "L02BX03")),
       // Not a cancer medicine: skipped without a line in ignored.
       request("r6", "active", "order", med_concept(kRx, "161"))});
  ASSERT_EQ(c.treatments.size(), 2u);
  EXPECT_EQ(c.treatments[0].kind, TreatmentKind::kEndocrine);
  EXPECT_EQ(c.treatments[0].evidence, (Evidence{"MedicationStatement/s1"}));
  EXPECT_EQ(c.treatments[0].status, "active");
  EXPECT_EQ(c.treatments[1].kind, TreatmentKind::kImmunotherapy);
  EXPECT_EQ(c.treatments[1].evidence, (Evidence{"MedicationRequest/r1"}));
  EXPECT_TRUE(is_ignored(c, "MedicationRequest/r3", "intent 'plan'"));
  EXPECT_TRUE(is_ignored(c, "MedicationRequest/r4", "entered-in-error"));
  EXPECT_TRUE(is_ignored(c, "MedicationStatement/s3", "intended"));
  EXPECT_FALSE(is_ignored(c, "MedicationRequest/r6"));
  EXPECT_FALSE(is_ignored(c, "MedicationRequest/r2"));
}

TEST(TreatmentReaders, MedicationByContainedOrRecordReference) {
  const std::string contained =
      R"("contained":[{"resourceType":"Medication","id":"m","code":{"coding":[{"system":")" + kRx +
      R"(","code":"993449"}]}}],"medicationReference":{"reference":"#m"})";
  auto c = run({patient(), request("r1", "active", "order", contained),
                R"({"resourceType":"Medication","id":"pem","code":{"text":"Alimta"},
                    "ingredient":[{"itemCodeableConcept":{"coding":[{"system":")" +
                    kAtcUri + R"(","code":"L01BA04"}]}}]})",
                administration("a1", "completed", "2025-05-20",
                               R"("medicationReference":{"reference":"Medication/pem"})"),
                administration("a2", "completed", "2025-05-20",
                               R"("medicationReference":{"reference":"Medication/missing"})")});
  ASSERT_EQ(c.treatments.size(), 2u);
  EXPECT_EQ(c.treatments[0].kind, TreatmentKind::kChemotherapy);
  EXPECT_EQ(c.treatments[0].evidence, (Evidence{"Medication/pem", "MedicationAdministration/a1"}));
  EXPECT_EQ(c.treatments[1].kind, TreatmentKind::kBoneTargeted);
  EXPECT_TRUE(is_ignored(c, "MedicationAdministration/a2", "not in the record"));
}

TEST(TreatmentReaders, MalformedMedicationResourcesAreListedNeverThrown) {
  auto c = run({patient(),
                resource("MedicationAdministration", "bad1", "completed",
                         R"("medicationCodeableConcept":"pemetrexed")"),
                resource("MedicationRequest", "bad2", "active",
                         med_concept(kRx, "68446") + R"(,"intent":"order","authoredOn":7)"),
                resource("MedicationAdministration", "bad3", "completed",
                         med_concept(kRx, "68446"))});  // no effective time
  EXPECT_TRUE(c.treatments.empty());
  EXPECT_TRUE(is_ignored(c, "MedicationAdministration/bad1", "unreadable"));
  EXPECT_TRUE(is_ignored(c, "MedicationRequest/bad2", "unreadable"));
  EXPECT_TRUE(is_ignored(c, "MedicationAdministration/bad3", "no effective time"));
}

// fhir-coding.md §16.7 "Radiotherapy": 1287742003, the inactive 108290001,
// 33195004 and CPT 77435 are all read; chemoradiotherapy is both kinds.
TEST(TreatmentReaders, ChemotherapyAndRadiotherapyProcedures) {
  auto c = run(
      {patient(),
       procedure("p1", "in-progress", "1287742003", R"("performedPeriod":{"start":"2025-05-20"})"),
       procedure("p2", "completed", "367336001", R"("performedDateTime":"2025-05-28")"),
       procedure("p3", "completed", "367336001", R"("performedDateTime":"2024-12-01")"),  // old
       procedure("p4", "not-done", "108290001", R"("performedDateTime":"2025-05-28")"),
       resource("Procedure", "p5", "completed",
                R"("code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"77435"}]},)"
                R"("performedDateTime":"2025-05-02")"),
       resource("Procedure", "p6", "completed",
                R"("code":{"text":"Chemoradiation"},"performedDateTime":"2025-05-25")"),
       // The spinal-surgery reading still works alongside.
       procedure("s1", "completed", "10836008", R"("performedDateTime":"2025-05-01")")});
  std::vector<std::pair<TreatmentKind, Evidence>> got;
  for (const auto& t : c.treatments) got.emplace_back(t.kind, t.evidence);
  EXPECT_EQ(got, (std::vector<std::pair<TreatmentKind, Evidence>>{
                     {TreatmentKind::kChemotherapy, {"Procedure/p6"}},  // "Chemoradiotherapy"
                     {TreatmentKind::kChemotherapy, {"Procedure/p2"}},
                     {TreatmentKind::kRadiotherapy, {"Procedure/p6"}},
                     {TreatmentKind::kRadiotherapy, {"Procedure/p1", "Procedure/p5"}}}));
  EXPECT_TRUE(is_ignored(c, "Procedure/p4", "not-done"));
  ASSERT_EQ(c.spinal_surgeries.size(), 1u);
  EXPECT_EQ(c.spinal_surgeries[0].evidence, (Evidence{"Procedure/s1"}));
}

// Rule 19 asks whether radiotherapy followed a recent operation: a finished
// course inside recency.spinal-surgery is kept, with its end, not as ongoing.
TEST(TreatmentReaders, FinishedRadiotherapyAfterSurgeryIsKeptWithItsEnd) {
  auto c = run({patient(),
                procedure("s1", "completed", "10836008", R"("performedDateTime":"2025-03-10")"),
                procedure("rt", "completed", "33195004",
                          R"("performedPeriod":{"start":"2025-03-24","end":"2025-04-04"})")});
  ASSERT_EQ(c.treatments.size(), 1u);
  EXPECT_EQ(c.treatments[0].kind, TreatmentKind::kRadiotherapy);
  ASSERT_TRUE(c.treatments[0].end);
  EXPECT_EQ(c.treatments[0].end->date_string(), "2025-04-04");
  EXPECT_TRUE(has_gap(c, "current cancer treatment"));  // nothing ongoing
}

TEST(TreatmentReaders, CarePlanMedicationAndProcedureCombineWithoutDuplicates) {
  const std::string pem = med_concept(kRx, "1728072", "pemetrexed 500 MG Injection");
  auto c = run({patient(),
                R"({"resourceType":"CarePlan","id":"cp1","status":"active","intent":"plan",
           "subject":{"reference":"Patient/p1"},"activity":[{"detail":{"status":"in-progress",
           "code":)" +
                    coding(kSct, "367336001") + "}}]}",
                procedure("p1", "completed", "367336001", R"("performedDateTime":"2025-05-25")"),
                request("r1", "active", "order", pem),
                administration("a1", "completed", "2025-05-25", pem)});
  ASSERT_EQ(c.treatments.size(), 2u);
  EXPECT_EQ(c.treatments[0].label, "Chemotherapy");
  EXPECT_EQ(c.treatments[0].evidence, (Evidence{"CarePlan/cp1", "Procedure/p1"}));
  EXPECT_EQ(c.treatments[1].label, "pemetrexed 500 MG Injection");
  EXPECT_EQ(c.treatments[1].evidence,
            (Evidence{"MedicationAdministration/a1", "MedicationRequest/r1"}));
  EXPECT_EQ(c.treatments[1].status, "active");
}

}  // namespace
}  // namespace mst::mappings
