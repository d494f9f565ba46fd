#include "mst/fhir/smart_scopes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mst::fhir {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::vector<ResourceAccess> kNeeds = {
    {"Patient", kRead},
    {"Condition", kSearch},
    {"CarePlan", kCreate | kUpdate | kSearch},
    {"Provenance", kCreate},
};

TEST(SmartScopes, V2LettersInOrderAndSearchBringsRead) {
  EXPECT_EQ(system_scopes(kNeeds, ScopeSyntax::kV2),
            "system/Patient.r system/Condition.rs system/CarePlan.crus system/Provenance.c");
  EXPECT_EQ(system_scopes({{"X", kSearch | kDelete | kCreate | kUpdate | kRead}}, ScopeSyntax::kV2),
            "system/X.cruds");
}

TEST(SmartScopes, V1ReadAndWrite) {
  EXPECT_EQ(system_scopes(kNeeds, ScopeSyntax::kV1),
            "system/Patient.read system/Condition.read system/CarePlan.read "
            "system/CarePlan.write system/Provenance.write");
}

TEST(SmartScopes, ParsesTheSyntaxSetting) {
  EXPECT_EQ(parse_scope_syntax("v2"), ScopeSyntax::kV2);
  EXPECT_EQ(parse_scope_syntax("v1"), ScopeSyntax::kV1);
  EXPECT_THROW(parse_scope_syntax("v3"), std::invalid_argument);
}

TEST(SmartScopes, WhatWasAskedIsEnough) {
  EXPECT_THAT(missing_scopes(kNeeds, system_scopes(kNeeds, ScopeSyntax::kV2), ScopeSyntax::kV2),
              IsEmpty());
  EXPECT_THAT(missing_scopes(kNeeds, system_scopes(kNeeds, ScopeSyntax::kV1), ScopeSyntax::kV2),
              IsEmpty());
}

TEST(SmartScopes, NamesWhatIsLackingInTheConfiguredSyntax) {
  const std::string granted = "system/Patient.r system/Condition.rs system/CarePlan.rs";
  EXPECT_THAT(missing_scopes(kNeeds, granted, ScopeSyntax::kV2),
              ElementsAre("system/CarePlan.cu", "system/Provenance.c"));
  EXPECT_THAT(missing_scopes(kNeeds, granted, ScopeSyntax::kV1),
              ElementsAre("system/CarePlan.write", "system/Provenance.write"));
  // Read without search is not enough for a search.
  EXPECT_THAT(missing_scopes({{"Condition", kSearch}}, "system/Condition.r", ScopeSyntax::kV2),
              ElementsAre("system/Condition.s"));
}

TEST(SmartScopes, V1WordsAreTheirV2Letters) {
  // read = rs, write = cud, * = cruds (SMART App Launch 2.x, scopes).
  EXPECT_THAT(missing_scopes(kNeeds,
                             "system/Patient.read system/Condition.read system/CarePlan.* "
                             "system/Provenance.write",
                             ScopeSyntax::kV2),
              IsEmpty());
  EXPECT_THAT(
      missing_scopes({{"CarePlan", kCreate | kSearch}}, "system/CarePlan.write", ScopeSyntax::kV2),
      ElementsAre("system/CarePlan.rs"));
}

TEST(SmartScopes, WildcardResourceTypes) {
  EXPECT_THAT(missing_scopes(kNeeds, "system/*.*", ScopeSyntax::kV2), IsEmpty());
  EXPECT_THAT(missing_scopes(kNeeds, "system/*.cruds", ScopeSyntax::kV2), IsEmpty());
  EXPECT_THAT(missing_scopes(kNeeds, "system/*.rs system/Provenance.c", ScopeSyntax::kV2),
              ElementsAre("system/CarePlan.cu"));
  EXPECT_THAT(missing_scopes(kNeeds, "system/*.read system/*.write", ScopeSyntax::kV1), IsEmpty());
}

TEST(SmartScopes, OnlyUnnarrowedSystemScopesCount) {
  // patient/ and user/ scopes do not apply to a backend service; a scope
  // narrowed by a query does not cover an unnarrowed search; letters out of
  // order or unknown are not a scope.
  EXPECT_THAT(missing_scopes({{"Condition", kSearch}},
                             "patient/Condition.rs user/*.cruds system/Condition.rs?category=x "
                             "system/Condition.sr system/Condition.rsx system/.rs",
                             ScopeSyntax::kV2),
              ElementsAre("system/Condition.rs"));
  EXPECT_THAT(missing_scopes({{"Condition", kSearch}}, "  system/Condition.rs  ", ScopeSyntax::kV2),
              IsEmpty());
  EXPECT_THAT(missing_scopes({{"Condition", kSearch}}, "", ScopeSyntax::kV1),
              ElementsAre("system/Condition.read"));
}

}  // namespace
}  // namespace mst::fhir
