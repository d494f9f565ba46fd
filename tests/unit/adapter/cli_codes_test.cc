// `mst-adapter codes` end to end through run_cli: a temporary folder of
// Bundles, a mocked server, the draft ConceptMap it writes, and the exit
// codes of docs/exit-codes.md.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mst/adapter/cli/app.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/fhir/url.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/concept_map.h"
#include "support/mock_transport.h"

namespace mst::adapter::cli {
namespace {

using fhir::HttpRequest;
using fhir::testing::FakeClock;
using fhir::testing::MockTransport;
using fhir::testing::response;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::Not;

const std::string kLocal = "http://hospital.example.org/fhir/CodeSystem/flowsheet-row";

std::string obs(const std::string& id, const std::string& code) {
  return R"({"resourceType":"Observation","id":")" + id +
         R"(","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":")" +
         kLocal + R"(","code":")" + code + R"(","display":"Row )" + code +
         R"("}]},"valueInteger":9,"effectiveDateTime":"2025-05-01"})";
}

std::string bundle(const std::vector<std::string>& resources, const std::string& type) {
  std::string b = R"({"resourceType":"Bundle","type":")" + type + R"(","entry":[)";
  for (std::size_t i = 0; i < resources.size(); ++i) {
    b += (i ? "," : "") + std::string(R"({"resource":)") + resources[i] + "}";
  }
  return b + "]}";
}

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("mst-codes-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return (path_ / name).string();
  }
  std::string path(const std::string& name = "") const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

class CodesCommandTest : public ::testing::Test {
 protected:
  int run(std::vector<std::string> args) {
    out.str("");
    err.str("");
    Context context{out, err, {}, [this](const fhir::TransportOptions&) { return transport; }};
    context.clock = std::make_shared<FakeClock>();
    return run_cli(args, context);
  }
  std::string read(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::ostringstream out;
  std::ostringstream err;
  std::shared_ptr<MockTransport> transport =
      std::make_shared<::testing::StrictMock<MockTransport>>();
  TempDir dir;
};

TEST(ExitCodes, BadTablesAndSiteMapsAreConfigurationErrors) {
  EXPECT_EQ(exit_code_for(mappings::ConceptMapError("site.json", "group[0]", "x")), kUsage);
  EXPECT_EQ(exit_code_for(mappings::CodeTableError("t.json", "ecog", "x")), kUsage);
}

TEST_F(CodesCommandTest, ListsUnmappedCodesOfAFolderAndWritesALoadableDraft) {
  TempDir input;
  input.write("a.json",
              bundle({obs("o1", "SINS"), obs("o2", "SINS"), obs("o3", "PAIN")}, "collection"));
  input.write("b.json", bundle({obs("o4", "SINS")}, "searchset"));
  input.write("notes.txt", "not read: not *.json");
  const std::string draft = dir.path("draft.json");
  EXPECT_EQ(run({"codes", "--input", input.path(), "--output", draft, "--map-url",
                 "http://hospital.example.org/fhir/ConceptMap/draft"}),
            kSuccess)
      << err.str();
  EXPECT_THAT(out.str(), HasSubstr("read 4 resource(s) from 2 file(s)\n"));
  EXPECT_THAT(out.str(), HasSubstr("      3  Observation.code  " + kLocal +
                                   "|SINS  \"Row SINS\"  Observation/o1\n"
                                   "      1  Observation.code  " +
                                   kLocal + "|PAIN  \"Row PAIN\"  Observation/o3\n"));
  EXPECT_EQ(err.str(), "");

  mappings::ConceptMapSet set;
  ASSERT_NO_THROW(set.add_json(read(draft), "draft.json"));
  EXPECT_TRUE(set.lists(kLocal, "SINS"));
  EXPECT_TRUE(set.lists(kLocal, "PAIN"));

  // The engineer completes one row; the completed map maps it and the other
  // row, still unmatched, is not listed again.
  std::string completed = read(draft);
  const std::string group = "\"source\": \"" + kLocal + "\",";
  ASSERT_NE(completed.find(group), std::string::npos) << completed;
  completed.replace(completed.find(group), group.size(),
                    group +
                        "\"target\": \"http://mst-adapter.example.org/fhir/CodeSystem/"
                        "mst-observation\",");
  const auto sins = completed.find("\"code\": \"SINS\"");
  const auto unmatched = completed.find("\"equivalence\": \"unmatched\"", sins);
  completed.replace(unmatched, std::string("\"equivalence\": \"unmatched\"").size(),
                    "\"code\": \"sins-total\", \"equivalence\": \"equivalent\"");
  const std::string site_map = dir.write("site.json", completed);
  input.write("c.json", bundle({obs("o5", "OTHER")}, "collection"));
  EXPECT_EQ(run({"codes", "--input", input.path(), "--concept-maps", site_map}), kSuccess)
      << err.str();
  EXPECT_THAT(out.str(), HasSubstr("site maps: 1"));
  EXPECT_THAT(out.str(), HasSubstr("|OTHER"));
  EXPECT_THAT(out.str(), Not(HasSubstr("|SINS")));
  EXPECT_THAT(out.str(), Not(HasSubstr("|PAIN")));
}

TEST_F(CodesCommandTest, ABadFileIsSkippedAndReportedAsPartial) {
  TempDir input;
  input.write("a.json", bundle({obs("o1", "X")}, "collection"));
  input.write("broken.json", "{\"resourceType\":");
  EXPECT_EQ(run({"codes", "--input", input.path()}), kPartial);
  EXPECT_THAT(err.str(), HasSubstr("mst-adapter: skipped " + input.path("broken.json") + ": "));
  EXPECT_THAT(out.str(), HasSubstr("|X"));
}

TEST_F(CodesCommandTest, UsageAndConfigurationErrorsAreExit2) {
  EXPECT_EQ(run({"codes"}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("codes needs --input DIR or a FHIR server"));
  EXPECT_EQ(run({"codes", "--input", dir.path("absent")}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("is neither a directory nor a file"));
  EXPECT_EQ(run({"codes", "--input", dir.path(), "--server", "http://h/fhir"}), kUsage);
  const std::string bad = dir.write("bad-map.json", R"({"resourceType":"ConceptMap","group":[
      {"source":"urn:s","element":[{"code":"a","target":[{"code":"b","equivalence":"same"}]}]}]})");
  EXPECT_EQ(run({"codes", "--input", dir.path(), "--concept-maps", bad}), kUsage);
  EXPECT_EQ(
      err.str(),
      "mst-adapter: " + bad +
          ": group[0].element[0].target[0]: \"equivalence\" is "
          "\"same\"; expected one of relatedto, equivalent, equal, wider, subsumes, narrower, "
          "specializes, inexact, unmatched, disjoint\n");
  EXPECT_EQ(run({"codes", "--input", dir.path(), "--concept-maps", dir.path("none.json")}), kUsage);
  EXPECT_THAT(err.str(), HasSubstr("none.json: cannot open the file"));
}

TEST_F(CodesCommandTest, ReadsEveryPageOfAServerPopulation) {
  std::vector<std::string> urls;
  EXPECT_CALL(*transport, send(_)).WillRepeatedly(Invoke([&](const HttpRequest& r) {
    urls.push_back(r.url);
    if (r.url == "http://h/fhir/Observation?_count=200") {
      std::string page = bundle({obs("o1", "SINS")}, "searchset");
      page.insert(page.size() - 1, R"(,"link":[{"relation":"next","url":"http://h/fhir?page=2"}])");
      return response(200, page);
    }
    if (r.url == "http://h/fhir?page=2") {
      return response(200, bundle({obs("o2", "SINS")}, "searchset"));
    }
    return response(200, bundle({}, "searchset"));
  }));
  EXPECT_EQ(run({"codes", "--server", "http://h/fhir"}), kSuccess) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("read 2 resource(s) from 7 page(s)\n"));
  EXPECT_THAT(out.str(), HasSubstr("      2  Observation.code  " + kLocal + "|SINS"));
  EXPECT_THAT(urls, ::testing::Contains("http://h/fhir/Condition?_count=200"));
  EXPECT_THAT(urls, ::testing::Contains("http://h/fhir/MedicationStatement?_count=200"));
}

TEST_F(CodesCommandTest, ReadsTheSiteMapsNamedByUrlFromTheServer) {
  const std::string map_url = "http://hospital.example.org/fhir/ConceptMap/flowsheet";
  const std::string map = R"({"resourceType":"ConceptMap","url":")" + map_url +
                          R"(","status":"active","group":[{"source":")" + kLocal +
                          R"(","target":"http://loinc.org","element":[{"code":"ECOG",
                          "target":[{"code":"89247-1","equivalence":"equivalent"}]}]}]})";
  EXPECT_CALL(*transport, send(_)).WillRepeatedly(Invoke([&](const HttpRequest& r) {
    if (r.url.find("/ConceptMap?url=") != std::string::npos) {
      EXPECT_EQ(r.url, "http://h/fhir/ConceptMap?url=" + fhir::encode_query_component(map_url));
      return response(200, bundle({map}, "searchset"));
    }
    if (r.url == "http://h/fhir/Observation?_count=200") {
      return response(200, bundle({obs("o1", "ECOG"), obs("o2", "OTHER")}, "searchset"));
    }
    return response(200, bundle({}, "searchset"));
  }));
  EXPECT_EQ(
      run({"codes", "--server", "http://h/fhir", "--config",
           dir.write("c.json", R"({"adapter":{"concept_map_urls":[")" + map_url + R"("]}})")}),
      kSuccess)
      << err.str();
  EXPECT_THAT(out.str(), HasSubstr("site maps: 1"));
  EXPECT_THAT(out.str(), HasSubstr("|OTHER"));
  EXPECT_THAT(out.str(), Not(HasSubstr("|ECOG")));
}

TEST_F(CodesCommandTest, AMapUrlTheServerLacksIsAConfigurationError) {
  EXPECT_CALL(*transport, send(_)).WillRepeatedly(Invoke([&](const HttpRequest&) {
    return response(200, bundle({}, "searchset"));
  }));
  EXPECT_EQ(run({"codes", "--server", "http://h/fhir", "--config",
                 dir.write("c.json", R"({"adapter":{"concept_map_urls":["http://x/cm"]}})")}),
            kUsage);
  EXPECT_EQ(err.str(),
            "mst-adapter: configuration key 'adapter.concept_map_urls': the server holds no "
            "ConceptMap with url http://x/cm\n");
}

}  // namespace
}  // namespace mst::adapter::cli
