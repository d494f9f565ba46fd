#include "mst/fhir/json_value.h"

#include <gtest/gtest.h>

#include <limits>

namespace mst::fhir {
namespace {

TEST(JsonValue, BuildsInInsertionOrder) {
  auto v = JsonValue::object({{"resourceType", "Goal"}, {"id", "g1"}});
  v.set("priority", JsonValue::object({{"text", "high"}}));
  v.set("id", "g2");  // replaces in place
  v.set("target", JsonValue::array({JsonValue::object({{"n", 3}}), 1.5, true, nullptr}));
  EXPECT_EQ(
      v.dump(),
      R"({"resourceType":"Goal","id":"g2","priority":{"text":"high"},"target":[{"n":3},1.5,true,null]})");
  v.erase("priority");
  EXPECT_EQ(v.find("priority"), nullptr);
  EXPECT_EQ(v.find("id")->str(), "g2");
}

TEST(JsonValue, EscapesStringsAndWritesDecimalsVerbatim) {
  auto v = JsonValue::object({{"s", "a\"b\n<c>"}, {"d", JsonValue::decimal("7.10")}});
  EXPECT_EQ(v.dump(), R"({"s":"a\"b\n<c>","d":7.10})");
}

TEST(JsonValue, RoundTripsParsedJson) {
  const char* text = R"({"a":[1,2.5,"x",{"b":null}],"c":false})";
  auto doc = JsonDocument::parse(text);
  EXPECT_EQ(JsonValue::from(doc.root()).dump(), text);
  EXPECT_EQ(JsonValue::from(doc.root()), JsonValue::from(doc.root()));
}

TEST(JsonValue, RefusesToWriteNonFiniteNumbers) {
  // RapidJSON's writer silently writes nothing for them: "[1,]" is not JSON.
  auto nan = JsonValue::array({1, std::numeric_limits<double>::quiet_NaN()});
  EXPECT_THROW(nan.dump(), Error);
  EXPECT_THROW(JsonValue(std::numeric_limits<double>::infinity()).dump(true), Error);
}

}  // namespace
}  // namespace mst::fhir
