#include "mst/fhir/json.h"

#include <gtest/gtest.h>

#include <string>

namespace mst::fhir {
namespace {

TEST(JsonDocument, ParsesAndReadsTypedMembers) {
  auto doc = JsonDocument::parse(R"({"a":"x","n":1.5,"i":7,"b":true,"o":{"k":"v"},"arr":[1,2]})");
  Node r = doc.root();
  EXPECT_EQ(r.string("a"), "x");
  EXPECT_DOUBLE_EQ(*r.number("n"), 1.5);
  EXPECT_EQ(r.integer("i"), 7);
  EXPECT_EQ(r.boolean("b"), true);
  EXPECT_EQ(r.object("o").string("k"), "v");
  EXPECT_EQ(r.array("arr").size(), 2u);
  EXPECT_FALSE(r["missing"].present());
  EXPECT_FALSE(r.string("missing").has_value());
  EXPECT_TRUE(r.array("missing").empty());
}

TEST(JsonDocument, WrongTypeIsAnElementErrorNamingTheElement) {
  auto doc = JsonDocument::parse(R"({"a":5,"o":"text","arr":{}})");
  Node r = doc.root();
  try {
    (void)r.string("a");
    FAIL() << "expected ElementError";
  } catch (const ElementError& e) {
    EXPECT_EQ(std::string(e.what()), "element 'a' must be a string, found number");
  }
  EXPECT_THROW((void)r.object("o"), ElementError);
  EXPECT_THROW((void)r.array("arr"), ElementError);
  EXPECT_THROW((void)r["o"]["k"], ElementError);
  EXPECT_THROW((void)r.integer("o"), ElementError);
}

TEST(JsonDocument, NullMembersCountAsAbsent) {
  auto doc = JsonDocument::parse(R"({"a":null})");
  EXPECT_FALSE(doc.root()["a"].present());
  EXPECT_FALSE(doc.root().string("a").has_value());
}

TEST(JsonDocument, MalformedJsonIsAParseErrorWithOffset) {
  try {
    JsonDocument::parse(R"({"a": [1, 2,)");
    FAIL() << "expected ParseError";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("malformed JSON at offset"), std::string::npos);
  }
  EXPECT_THROW(JsonDocument::parse(""), ParseError);
  EXPECT_THROW(JsonDocument::parse("{} {}"), ParseError);
}

TEST(JsonDocument, RefusesInputOverTheSizeLimit) {
  ParseLimits limits;
  limits.max_bytes = 10;
  EXPECT_THROW(JsonDocument::parse(R"({"abcdefghijk":1})", limits), ParseError);
}

TEST(JsonDocument, RefusesDeepNestingWithoutRecursing) {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  try {
    JsonDocument::parse(deep);
    FAIL() << "expected ParseError";
  } catch (const ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("nests deeper than"), std::string::npos);
  }
  // Brackets inside strings do not count.
  std::string in_string = R"({"s":")" + std::string(1000, '[') + R"("})";
  EXPECT_NO_THROW(JsonDocument::parse(in_string));
}

TEST(JsonDocument, RefusesInvalidUtf8) {
  std::string bad = "{\"a\":\"\xC3\x28\"}";
  EXPECT_THROW(JsonDocument::parse(bad), ParseError);
}

TEST(JsonDocument, NodesStayValidAfterTheDocumentMoves) {
  auto doc = JsonDocument::parse(R"({"a":{"b":"c"}})");
  Node a = doc.root()["a"];
  JsonDocument moved = std::move(doc);
  EXPECT_EQ(a.string("b"), "c");
  EXPECT_EQ(moved.root()["a"].string("b"), "c");
}

TEST(JsonDocument, PrefetchHintsChangeNothing) {
  auto doc = JsonDocument::parse(R"({"o":{"k":"v"},"a":[1],"e":{},"z":[],"s":"x","n":null})");
  Node r = doc.root();
  for (const char* key : {"o", "a", "e", "z", "s", "n", "missing"}) {
    r[key].prefetch();
    r[key].prefetch_children();
  }
  Node().prefetch();
  Node().prefetch_children();
  r.prefetch_children();
  EXPECT_EQ(r.object("o").string("k"), "v");
  EXPECT_EQ(r.array("a").size(), 1u);
}

}  // namespace
}  // namespace mst::fhir
