// conformance/capability/mst-adapter-requirements.json is generated from
// server_interactions(): this test fails when the two differ. After a change
// of the list, regenerate with
//   MST_UPDATE_GOLDEN=1 build/tests/unit/adapter_service_test
//   --gtest_filter='RequirementsStatement*'
// and review the diff.
#include "mst/adapter/pipeline/requirements_statement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "mst/fhir/json.h"
#include "mst/mappings/canonical_base.h"

namespace mst::adapter {
namespace {

const std::string kPath =
    std::string(MST_SOURCE_DIR) + "/conformance/capability/mst-adapter-requirements.json";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

fhir::Capabilities read_statement(const std::string& json) {
  const fhir::JsonDocument doc = fhir::JsonDocument::parse(json);
  return fhir::read_capabilities(doc.root());
}

TEST(RequirementsStatement, TheCheckedInFileIsGeneratedFromTheList) {
  const std::string text = read_text(kPath);
  // The date is the file's own (R4 requires one): regenerating keeps it.
  std::string date = "2026-12-05";
  if (!text.empty()) {
    const fhir::JsonDocument doc = fhir::JsonDocument::parse(text);
    date = std::string(doc.root().string("date").value_or(date));
  }
  const std::string actual =
      requirements_statement(std::string(mappings::kDefaultCanonicalBase), date).dump(true) + "\n";
  const char* update = std::getenv("MST_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(kPath, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << kPath;
  }
  ASSERT_FALSE(text.empty()) << kPath << " is missing; run with MST_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, text) << "regenerate with MST_UPDATE_GOLDEN=1 and review the diff";
}

TEST(RequirementsStatement, ReadsBackAsEveryRowOfTheList) {
  const DeclaredNeeds needs = needs_of(
      read_statement(requirements_statement("http://h.example/fhir/", "2026-12-05").dump()));
  const auto rows = server_interactions(false, WriteMode::kTransaction);
  ASSERT_EQ(needs.resources.size(), rows.size());
  for (const ServerInteraction& row : rows) {
    SCOPED_TRACE(row.type);
    auto it = std::find_if(needs.resources.begin(), needs.resources.end(),
                           [&](const ServerInteraction& n) { return n.type == row.type; });
    ASSERT_NE(it, needs.resources.end());
    EXPECT_EQ(it->access, row.access);
    EXPECT_EQ(it->conditional_create, row.conditional_create);
    EXPECT_EQ(it->conditional_update, row.conditional_update);
  }
  EXPECT_EQ(needs.system, system_interactions(WriteMode::kTransaction));
}

TEST(RequirementsStatement, IsARequirementsStatementUnderTheCanonicalBase) {
  const fhir::JsonValue s = requirements_statement("http://h.example/fhir/", "2026-12-05");
  EXPECT_EQ(s.find("kind")->str(), "requirements");
  EXPECT_EQ(s.find("url")->str(),
            "http://h.example/fhir/CapabilityStatement/mst-adapter-requirements");
  EXPECT_EQ(s.find("rest")->items().at(0).find("mode")->str(), "server");
}

// `check` verifies a server against the statement of its configuration, so
// each configuration's statement must say what that configuration does.
TEST(RequirementsStatement, EachConfigurationStatesItsOwnNeeds) {
  const auto needs = [](const RequirementsScope& scope) {
    return needs_of(
        read_statement(requirements_statement("http://h.example/fhir", "", scope).dump()));
  };
  const auto find = [](const DeclaredNeeds& n, const std::string& type) {
    auto it = std::find_if(n.resources.begin(), n.resources.end(),
                           [&](const ServerInteraction& r) { return r.type == type; });
    return it == n.resources.end() ? std::optional<ServerInteraction>() : *it;
  };
  // A source is only read: no writes, no transaction.
  const DeclaredNeeds source = needs({.role = ServerRole::kSource});
  EXPECT_TRUE(source.system.empty());
  ASSERT_TRUE(find(source, "Condition"));
  EXPECT_FALSE(find(source, "Device"));
  EXPECT_EQ(find(source, "CarePlan")->access, fhir::kSearch);
  // A target is only written: the population is not read there.
  const DeclaredNeeds target = needs({.role = ServerRole::kTarget, .population = "group:ward-7"});
  EXPECT_FALSE(find(target, "Group"));
  EXPECT_FALSE(find(target, "Condition"));
  EXPECT_EQ(target.system, std::vector<std::string>{"transaction"});
  // A Group population is read where the records are; a bulk export reads
  // every exported type (merged into the type's one entry).
  const DeclaredNeeds group = needs({.population = "group:ward-7", .changes = "bulk-export"});
  EXPECT_EQ(find(group, "Group")->access, fhir::kRead);
  EXPECT_EQ(find(group, "Condition")->access, fhir::kRead | fhir::kSearch);
  // Document mode writes a note, no plan resources, no system interaction.
  const DeclaredNeeds document = needs({.mode = WriteMode::kDocument});
  EXPECT_TRUE(document.system.empty());
  EXPECT_TRUE(find(document, "DocumentReference")->conditional_create);
  EXPECT_FALSE(find(document, "CareTeam"));
  // An in-memory statement may go without a date.
  EXPECT_EQ(requirements_statement("http://h.example/fhir", "").find("date"), nullptr);
}

}  // namespace
}  // namespace mst::adapter
