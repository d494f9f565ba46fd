// The fault proxy's "server without transactions" rule (bundle_refusal.h).
#include "fault_proxy/bundle_refusal.h"

#include <gtest/gtest.h>

namespace mst::testing {
namespace {

const std::set<std::string> kTransaction{"transaction"};

TEST(BundleRefusal, RefusesOnlyAPostedBundleOfARefusedType) {
  const std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[]})";
  const std::string batch = R"({"resourceType":"Bundle","type":"batch","entry":[]})";
  EXPECT_EQ(refused_bundle_type("POST", tx, kTransaction), "transaction");
  EXPECT_EQ(refused_bundle_type("POST", batch, kTransaction), std::nullopt);
  EXPECT_EQ(refused_bundle_type("POST", batch, {"transaction", "batch"}), "batch");
  EXPECT_EQ(refused_bundle_type("PUT", tx, kTransaction), std::nullopt);
  EXPECT_EQ(refused_bundle_type("POST", tx, {}), std::nullopt);
  EXPECT_EQ(
      refused_bundle_type("POST", R"({"resourceType":"Goal","type":"transaction"})", kTransaction),
      std::nullopt);
  EXPECT_EQ(refused_bundle_type("POST", "{\"Bundle\" not json", kTransaction), std::nullopt);
}

TEST(BundleRefusal, TheCapabilityStatementStopsDeclaringWhatIsRefused) {
  const std::string cs =
      R"({"resourceType":"CapabilityStatement","rest":[{"mode":"server","interaction":[)"
      R"({"code":"transaction"},{"code":"batch"},{"code":"search-system"}]}]})";
  const std::string out = without_system_interactions(cs, kTransaction);
  EXPECT_EQ(out.find("\"transaction\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"batch\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"search-system\""), std::string::npos) << out;
  EXPECT_EQ(without_system_interactions("not json", kTransaction), "not json");
  const std::string other = R"({"resourceType":"Patient","id":"x"})";
  EXPECT_EQ(without_system_interactions(other, kTransaction), other);
}

}  // namespace
}  // namespace mst::testing
