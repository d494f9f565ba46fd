// Level names and the text parser for bodySite text (fhir-coding.md §3:
// "T12", "T12 vertebra", "L1 vertebral body" must all be accepted).
#include "mst/mappings/vertebral_level.h"

#include <gtest/gtest.h>

#include "mst/mappings/text.h"

namespace mst::mappings {
namespace {

std::string names(const std::vector<LevelId>& v) {
  std::string s;
  for (const auto& l : v) s += (s.empty() ? "" : ",") + l.name;
  return s;
}

TEST(VertebralLevel, NamesOrdinalsAndRegions) {
  EXPECT_EQ(level_from_name("C1")->ordinal, 1);
  EXPECT_EQ(level_from_name("C7")->ordinal, 7);
  EXPECT_EQ(level_from_name("T1")->ordinal, 8);
  EXPECT_EQ(level_from_name("T12")->ordinal, 19);
  EXPECT_EQ(level_from_name("L1")->ordinal, 20);
  EXPECT_EQ(level_from_name("S5")->ordinal, 29);
  EXPECT_EQ(level_from_name("L3")->region, SpineRegion::kLumbar);
  for (std::string_view bad : {"T13", "C0", "C8", "L6", "S6", "T01", "t12", "X1", "", "T"}) {
    EXPECT_FALSE(level_from_name(bad)) << bad;
  }
  for (int o = 1; o <= kLevelCount; ++o) EXPECT_EQ(level_from_ordinal(o)->ordinal, o);
  EXPECT_FALSE(level_from_ordinal(0));
  EXPECT_FALSE(level_from_ordinal(30));
}

TEST(VertebralLevel, ParsesTheTextForms) {
  EXPECT_EQ(names(parse_levels("T12")), "T12");
  EXPECT_EQ(names(parse_levels("T12 vertebra")), "T12");
  EXPECT_EQ(names(parse_levels("L1 vertebral body")), "L1");
  EXPECT_EQ(names(parse_levels("Th12")), "T12");
  EXPECT_EQ(names(parse_levels("D7 (dorsal)")), "T7");
  EXPECT_EQ(names(parse_levels("t 4")), "T4");
  EXPECT_EQ(names(parse_levels("Structure of body of twelfth thoracic vertebra")), "T12");
  EXPECT_EQ(names(parse_levels("first lumbar vertebra")), "L1");
  EXPECT_EQ(names(parse_levels("T11-L1")), "T11,T12,L1");
  EXPECT_EQ(names(parse_levels("T11 to T12")), "T11,T12");
  EXPECT_EQ(names(parse_levels("C5-6")), "C5,C6");
  EXPECT_EQ(names(parse_levels("T4\xE2\x80\x93T6")), "T4,T5,T6");  // en dash
  EXPECT_EQ(names(parse_levels("L4/5")), "L4,L5");
  EXPECT_EQ(names(parse_levels("T4/T8")), "T4,T8");
  EXPECT_EQ(names(parse_levels("L3, T7 and T7")), "T7,L3");
  EXPECT_EQ(names(parse_levels("L3-T12")), "T12,L3");  // reversed range: the two ends only
}

TEST(VertebralLevel, IgnoresTextWithoutALevel) {
  for (std::string_view t : {"", "spine", "left femur", "T13", "covid19", "L", "ct12", "12",
                             "thirteenth thoracic vertebra", "T12abc"}) {
    EXPECT_TRUE(parse_levels(t).empty()) << t;
  }
}

TEST(Text, NormalisesAndMatchesWholePhrases) {
  EXPECT_EQ(normalize_text("  Spinal Instability-Neoplastic  Score "),
            "spinal instability neoplastic score");
  EXPECT_EQ(normalize_text("---"), "");
  EXPECT_TRUE(contains_phrase("pt declines surgery today", "declines surgery"));
  EXPECT_TRUE(contains_phrase("declines surgery", "declines surgery"));
  EXPECT_FALSE(contains_phrase("piano surgery", "no surgery"));
  EXPECT_FALSE(contains_phrase("declines surgeryx", "declines surgery"));
  EXPECT_FALSE(contains_phrase("anything", ""));
}

}  // namespace
}  // namespace mst::mappings
