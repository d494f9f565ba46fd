// The terminology package (conformance/terminology, docs/conformance.md):
// the checked-in files are what the generator writes today, and every code
// of ours the adapter emits is defined in its CodeSystem.
#include "mst/adapter/cli/terminology.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/cli/args.h"
#include "mst/adapter/goals/goal_engine.h"
#include "mst/adapter/goals/goal_plan.h"
#include "mst/adapter/goals/measure_codes.h"
#include "mst/adapter/serve/cds_cards.h"
#include "mst/fhir/datetime.h"
#include "mst/fhir/json.h"
#include "mst/mappings/canonical_base.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/extract.h"
#include "mst/mappings/patient_record.h"

namespace mst::adapter::cli {
namespace {

namespace fs = std::filesystem;
using fhir::JsonValue;

constexpr const char* kRegenerate =
    "regenerate with: build/adapter/mst-adapter conformance --out conformance/terminology "
    "(from the repository root), and review the diff";

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "line N ...", not two whole files.
std::string first_difference(const std::string& have, const std::string& want) {
  std::istringstream a(have);
  std::istringstream b(want);
  std::string x;
  std::string y;
  for (int line = 1;; ++line) {
    const bool more_a = static_cast<bool>(std::getline(a, x));
    const bool more_b = static_cast<bool>(std::getline(b, y));
    if (!more_a && !more_b) return "no line differs";
    if (more_a != more_b || x != y) {
      return "line " + std::to_string(line) + " is `" + x + "`, the generator writes `" + y + "`";
    }
  }
}

std::vector<TableSource> shipped_tables() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(std::string(MST_SOURCE_DIR) + "/mappings/tables")) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<TableSource> out;
  for (const auto& f : files) out.push_back({f.filename().string(), read(f)});
  return out;
}

std::vector<TerminologyResource> default_package() {
  return terminology_resources(shipped_tables(), mappings::kDefaultCanonicalBase, MST_VERSION);
}

TEST(TerminologyPackage, CheckedInFilesAreWhatTheGeneratorWrites) {
  const fs::path dir = fs::path(MST_SOURCE_DIR) / "conformance" / "terminology";
  std::set<std::string> on_disk;
  for (const auto& e : fs::directory_iterator(dir)) on_disk.insert(e.path().filename().string());
  std::set<std::string> generated;
  for (const auto& r : default_package()) {
    generated.insert(r.file_name);
    const std::string want = terminology_file_text(r);
    const std::string have = read(dir / r.file_name);
    EXPECT_TRUE(have == want) << "conformance/terminology/" << r.file_name
                              << (have.empty()
                                      ? " is missing; "
                                      : " is stale: " + first_difference(have, want) + "; ")
                              << kRegenerate;
  }
  for (const auto& f : on_disk) {
    EXPECT_TRUE(generated.count(f)) << "conformance/terminology/" << f
                                    << " is no longer generated; delete it and " << kRegenerate;
  }
}

// code -> definition, per CodeSystem url.
std::map<std::string, std::map<std::string, std::string>> code_systems(
    const std::vector<TerminologyResource>& package) {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const auto& r : package) {
    if (r.resource.find("resourceType")->str() != "CodeSystem") continue;
    auto& codes = out[r.resource.find("url")->str()];
    for (const auto& c : r.resource.find("concept")->items()) {
      codes[c.find("code")->str()] = c.find("definition")->str();
    }
  }
  return out;
}

TEST(TerminologyPackage, EveryOwnCodeHasADefinition) {
  const auto systems = code_systems(default_package());
  ASSERT_EQ(systems.size(), 4u);  // goals, measures, observations, override reasons
  for (const auto& [url, codes] : systems) {
    EXPECT_FALSE(codes.empty()) << url;
    for (const auto& [code, definition] : codes)
      EXPECT_FALSE(definition.empty()) << url << "#" << code;
  }
}

TEST(TerminologyPackage, GoalAndMeasureListsAreComplete) {
  // The enum value after the last listed goal has no code: a new GoalCode
  // must be added to kAllGoalCodes (and given a definition) to be emitted.
  EXPECT_EQ(code_of(static_cast<GoalCode>(std::size(kAllGoalCodes))), "");
  const auto systems = code_systems(default_package());
  const std::string base(mappings::kDefaultCanonicalBase);
  EXPECT_EQ(systems.at(base + "/CodeSystem/mst-goal").size(), std::size(kAllGoalCodes));
  EXPECT_EQ(systems.at(base + "/CodeSystem/mst-measure").size(), measure_codes().size());
  EXPECT_THROW(measure_code("no-such-measure"), std::out_of_range);
  // The reasons a card offers for overriding it.
  const auto& reasons = systems.at(base + "/CodeSystem/mst-override-reason");
  ASSERT_EQ(reasons.size(), override_reasons().size());
  for (const OverrideReason& r : override_reasons())
    EXPECT_TRUE(reasons.contains(std::string(r.code))) << r.code;
}

// Every {system, code} under `prefix` anywhere in `v`.
void collect(const JsonValue& v, const std::string& prefix,
             std::set<std::pair<std::string, std::string>>& out) {
  if (v.is_object()) {
    const JsonValue* system = v.find("system");
    const JsonValue* code = v.find("code");
    if (system && code && system->is_string() && code->is_string() &&
        system->str().rfind(prefix, 0) == 0) {
      out.emplace(system->str(), code->str());
    }
    for (const auto& [k, child] : v.members()) collect(child, prefix, out);
  } else if (v.is_array()) {
    for (const auto& child : v.items()) collect(child, prefix, out);
  }
}

std::vector<fs::path> fixture_bundles() {
  std::vector<fs::path> out;
  for (const char* dir : {"/tests/fixtures/patients", "/tests/fixtures/realworld"}) {
    for (const auto& e : fs::directory_iterator(std::string(MST_SOURCE_DIR) + dir)) {
      if (e.path().extension() == ".json" && e.path().filename() != "expected.json") {
        out.push_back(e.path());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What the builder writes for every fixture patient (and the golden plans)
// uses only codes the CodeSystems define: a goal or measure code added
// without a definition fails here.
TEST(TerminologyPackage, EveryOwnCodeTheBuilderEmitsIsDefined) {
  const std::string base(mappings::kDefaultCanonicalBase);
  const std::string prefix = base + "/CodeSystem/";
  const auto systems = code_systems(default_package());
  const auto tables =
      mappings::CodeTables::load({fs::path(MST_SOURCE_DIR) / "mappings" / "tables"}, base);

  std::set<std::pair<std::string, std::string>> emitted;
  const auto bundles = fixture_bundles();
  ASSERT_GE(bundles.size(), 13u);
  int planned = 0;
  for (const auto& path : bundles) {
    auto record = mappings::PatientRecord::from_bundle(fhir::JsonDocument::parse(read(path)));
    const auto c = mappings::extract(record, tables, *fhir::DateTime::parse("2026-11-20"));
    const GoalPlan plan = propose(c);
    if (!plan.applicable) continue;  // no spinal metastasis: nothing is written
    ++planned;
    collect(build_transaction(c, plan, {}), prefix, emitted);
  }
  for (const auto& e : fs::directory_iterator(fs::path(MST_SOURCE_DIR) / "tests" / "golden")) {
    if (e.path().extension() != ".json") continue;
    collect(JsonValue::from(fhir::JsonDocument::parse(read(e.path())).root()), prefix, emitted);
  }

  EXPECT_GE(planned, 10);
  std::set<std::string> systems_seen;
  for (const auto& [system, code] : emitted) {
    systems_seen.insert(system);
    auto it = systems.find(system);
    ASSERT_NE(it, systems.end()) << "no CodeSystem for " << system << " (emitted with " << code
                                 << ")";
    EXPECT_TRUE(it->second.count(code))
        << system << "#" << code << " is emitted but not defined; " << kRegenerate;
  }
  // The walk reached both systems the builder writes.
  EXPECT_TRUE(systems_seen.count(prefix + "mst-goal"));
  EXPECT_TRUE(systems_seen.count(prefix + "mst-measure"));
}

// The example site map (config/concept-maps) translates into our codes: each
// target it names must exist, or a site copying it maps to nothing.
TEST(TerminologyPackage, TheExampleConceptMapTargetsAreDefined) {
  const auto systems = code_systems(default_package());
  int checked = 0;
  for (const auto& e :
       fs::directory_iterator(fs::path(MST_SOURCE_DIR) / "config" / "concept-maps")) {
    if (e.path().extension() != ".json") continue;
    const auto doc = fhir::JsonDocument::parse(read(e.path()));
    for (fhir::Node group : doc.root().array("group")) {
      const auto it = systems.find(std::string(group.string("target").value_or("")));
      if (it == systems.end()) continue;
      for (fhir::Node element : group.array("element")) {
        for (fhir::Node target : element.array("target")) {
          const std::string code(target.string("code").value_or(""));
          EXPECT_TRUE(it->second.count(code))
              << e.path().filename() << ": " << it->first << "#" << code;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(TerminologyPackage, TheCanonicalBaseIsAnArgument) {
  const auto package =
      terminology_resources(shipped_tables(), "https://fhir.hospital.example/mst/", "9.9.9");
  for (const auto& r : package) {
    const std::string text = terminology_file_text(r);
    EXPECT_EQ(text.find("mst-adapter.example.org"), std::string::npos) << r.file_name;
    EXPECT_EQ(r.resource.find("url")->str().rfind("https://fhir.hospital.example/mst/", 0), 0u)
        << r.file_name;
    EXPECT_EQ(r.resource.find("version")->str(), "9.9.9");
  }
  EXPECT_THROW(terminology_resources(shipped_tables(), "mst.example", "1"), UsageError);
}

std::vector<TableSource> observation_table(const std::string& entry) {
  return {{"observations.json", R"({"kind": "observations", "entries": [)" + entry + "]}"}};
}

TEST(TerminologyPackage, AnOwnCodeWithoutADefinitionIsRefused) {
  const std::string no_definition =
      R"({"key": "sins-total", "label": "SINS total", "source": "x",
          "codings": [{"system": "{canonical}/CodeSystem/mst-observation", "code": "sins-total"}]})";
  try {
    terminology_resources(observation_table(no_definition), "http://x.example/fhir", "1");
    FAIL() << "expected a CodeTableError";
  } catch (const mappings::CodeTableError& e) {
    EXPECT_NE(std::string(e.what()).find("sins-total"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("definition"), std::string::npos) << e.what();
  }
  const std::string answer_without =
      R"({"key": "escc-grade", "label": "ESCC", "definition": "d", "source": "x",
          "answers": [{"system": "{canonical}/CodeSystem/mst-observation", "code": "escc-9",
                       "value": "9", "display": "ESCC 9"}]})";
  EXPECT_THROW(
      terminology_resources(observation_table(answer_without), "http://x.example/fhir", "1"),
      mappings::CodeTableError);
}

TEST(TerminologyPackage, AnUnknownTableKindIsRefused) {
  EXPECT_THROW(terminology_resources({{"new.json", R"({"kind": "new-kind", "entries": []})"}},
                                     "http://x.example/fhir", "1"),
               mappings::CodeTableError);
}

// ICD-10 patterns are prefixes of both ICD-10 systems; a range is its
// prefixes one by one.
TEST(TerminologyPackage, IcdRangesBecomeIsAFilters) {
  const auto package = terminology_resources(
      {{"metastases.json",
        R"({"kind": "metastases", "entries": [{"key": "lung", "label": "Lung", "site": "visceral",
            "source": "x", "icd10cm": ["C78.0-C78.2"], "snomed": ["94391008"]}]})"}},
      "http://x.example/fhir", "1");
  const auto vs = std::find_if(package.begin(), package.end(), [](const auto& r) {
    return r.file_name == "ValueSet-mst-metastasis-visceral.json";
  });
  ASSERT_NE(vs, package.end());
  std::vector<std::string> roots;
  for (const auto& inc : vs->resource.find("compose")->find("include")->items()) {
    if (const JsonValue* f = inc.find("filter")) {
      roots.push_back(inc.find("system")->str() + " " + f->items()[0].find("value")->str());
    }
  }
  EXPECT_EQ(roots, (std::vector<std::string>{
                       "http://hl7.org/fhir/sid/icd-10 C78.0",
                       "http://hl7.org/fhir/sid/icd-10 C78.1",
                       "http://hl7.org/fhir/sid/icd-10 C78.2",
                       "http://hl7.org/fhir/sid/icd-10-cm C78.0",
                       "http://hl7.org/fhir/sid/icd-10-cm C78.1",
                       "http://hl7.org/fhir/sid/icd-10-cm C78.2",
                   }));
}

}  // namespace
}  // namespace mst::adapter::cli
