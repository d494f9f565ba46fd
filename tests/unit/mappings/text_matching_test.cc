// Text by phrase, negation-aware (docs/considerations.md, "Text"): words and
// clauses, negation triggers both ways, longest phrase first, codes before
// text.
#include <gtest/gtest.h>

#include "mst/mappings/text.h"
#include "table_fixture.h"

namespace mst::mappings {
namespace {

using namespace testing;

// The assertion of the first occurrence of `phrase` (normalised words) in `raw`.
Assertion assertion_of(std::string_view raw, std::string_view phrase) {
  const WordText t(raw);
  std::size_t n = 1;
  for (char c : phrase) n += c == ' ';
  for (std::size_t i = 0; i + n <= t.size(); ++i) {
    if (t.words(i, n) == phrase) return assertion(t, i, n);
  }
  ADD_FAILURE() << "'" << phrase << "' not in '" << raw << "'";
  return Assertion::kAffirmed;
}

TEST(WordText, WordsAsNormalisedAndClausesBrokenByPunctuationAndBut) {
  const WordText t("MRI: Cord-compression at T10; no weakness, but  Leg pain.");
  EXPECT_EQ(t.normalized(),
            normalize_text("MRI: Cord-compression at T10; no weakness, but  Leg pain."));
  ASSERT_EQ(t.size(), 10u);
  EXPECT_EQ(t.words(1, 2), "cord compression");
  EXPECT_EQ(t.clause(0), t.clause(4));  // "mri" .. "t10": ":" and "-" do not break
  EXPECT_NE(t.clause(4), t.clause(5));  // ";"
  EXPECT_NE(t.clause(6), t.clause(7));  // ","
  EXPECT_EQ(t.words(7, 1), "but");
  EXPECT_EQ(t.clause(7), t.clause(9));
  EXPECT_EQ(t.words(9, 5), "");  // past the end
  EXPECT_EQ(WordText("").size(), 0u);
  EXPECT_EQ(WordText(" ,;. ").size(), 0u);
}

TEST(Negation, TriggersBeforeThePhraseInItsClause) {
  EXPECT_EQ(assertion_of("No cord compression", "cord compression"), Assertion::kNegated);
  EXPECT_EQ(assertion_of("Patient denies leg weakness", "leg weakness"), Assertion::kNegated);
  EXPECT_EQ(assertion_of("denied back pain", "back pain"), Assertion::kNegated);
  EXPECT_EQ(assertion_of("walks without weakness", "weakness"), Assertion::kNegated);
  EXPECT_EQ(assertion_of("not paraparesis", "paraparesis"), Assertion::kNegated);
  EXPECT_EQ(assertion_of("Negative for cord compression", "cord compression"), Assertion::kNegated);
  EXPECT_EQ(assertion_of("free of bone metastases", "bone metastases"), Assertion::kNegated);
  EXPECT_EQ(assertion_of("no MRI evidence of cord compression", "cord compression"),
            Assertion::kNegated);  // four words back
}

TEST(Negation, TriggersAfterThePhrase) {
  EXPECT_EQ(assertion_of("MSCC ruled out", "mscc"), Assertion::kNegated);
  EXPECT_EQ(assertion_of("cord compression: excluded on MRI", "cord compression"),
            Assertion::kNegated);
  EXPECT_EQ(assertion_of("Cauda equina compression absent", "cauda equina compression"),
            Assertion::kNegated);
  EXPECT_EQ(assertion_of("cord compression not seen", "cord compression"), Assertion::kNegated);
}

TEST(Negation, AffirmedOutsideTheWindowOrClauseAndForPseudoNegations) {
  EXPECT_EQ(assertion_of("MRI: cord compression at T10", "cord compression"), Assertion::kAffirmed);
  // The clause ends at "," ";" "." and "but".
  EXPECT_EQ(assertion_of("No back pain, leg weakness", "leg weakness"), Assertion::kAffirmed);
  EXPECT_EQ(assertion_of("No back pain; leg weakness", "leg weakness"), Assertion::kAffirmed);
  EXPECT_EQ(assertion_of("no back pain but leg weakness", "leg weakness"), Assertion::kAffirmed);
  EXPECT_EQ(assertion_of("Cord compression. Not ambulant", "cord compression"),
            Assertion::kAffirmed);
  // Five words back is outside the window.
  EXPECT_EQ(assertion_of("no change on the last two scans cord compression", "cord compression"),
            Assertion::kAffirmed);
  EXPECT_EQ(assertion_of("no evidence of the known new cord compression", "cord compression"),
            Assertion::kAffirmed);
  // Pseudo-negations negate nothing.
  EXPECT_EQ(assertion_of("cord compression cannot be ruled out", "cord compression"),
            Assertion::kAffirmed);
  EXPECT_EQ(assertion_of("cord compression not excluded", "cord compression"),
            Assertion::kAffirmed);
  EXPECT_EQ(assertion_of("no change in leg weakness", "leg weakness"), Assertion::kAffirmed);
  // A trigger needs its own words: "nothing", "piano", "notable" are not "no"/"not".
  EXPECT_EQ(assertion_of("notable leg weakness", "leg weakness"), Assertion::kAffirmed);
  EXPECT_EQ(assertion_of("piano surgery", "surgery"), Assertion::kAffirmed);
}

TEST(Negation, FamilyHistoryRiskAndScreeningAreNotAsserted) {
  EXPECT_EQ(assertion_of("Family history of breast cancer", "breast cancer"),
            Assertion::kNotAsserted);
  EXPECT_EQ(assertion_of("at risk of cord compression", "cord compression"),
            Assertion::kNotAsserted);
  EXPECT_EQ(assertion_of("screening for breast cancer", "breast cancer"), Assertion::kNotAsserted);
  EXPECT_EQ(assertion_of("no family history of breast cancer", "breast cancer"),
            Assertion::kNegated);
}

std::string finding_key(std::string_view text) {
  const auto* f = shipped_tables().finding(text_cc(text));
  return f ? f->key : "";
}

std::string observation_key(std::string_view text) {
  const auto* o = shipped_tables().observation(text_cc(text));
  return o ? o->key : "";
}

TEST(TextLookup, PhraseOnWordBoundariesNotTheWholeString) {
  EXPECT_EQ(finding_key("Chronic low back pain"), "back-pain");
  EXPECT_EQ(finding_key("Back pain"), "back-pain");  // the whole string, as before
  EXPECT_EQ(finding_key("MRI: cord compression at T10"), "cord-compression");
  EXPECT_EQ(finding_key("Progressive paraparesis since Monday"), "paraparesis");
  EXPECT_EQ(finding_key("Backpain"), "");       // a word, not the phrase
  EXPECT_EQ(finding_key("Piano surgery"), "");  // nothing the table knows
  EXPECT_FALSE(contains_phrase(normalize_text("piano surgery"), "no surgery"));
  EXPECT_TRUE(contains_phrase(normalize_text("Pt: no surgery!"), "no surgery"));
  EXPECT_EQ(observation_key("Hbx level"), "");
  EXPECT_EQ(observation_key("Serum albumin (g/L)"), "albumin");
}

TEST(TextLookup, NegatedPhrasesDoNotMatch) {
  EXPECT_EQ(finding_key("No cord compression"), "");
  EXPECT_EQ(finding_key("Denies leg weakness"), "");
  EXPECT_EQ(finding_key("MSCC ruled out"), "");
  EXPECT_EQ(finding_key("No evidence of metastatic spinal cord compression"), "");
  EXPECT_EQ(finding_key("No back pain, but leg weakness"), "paraparesis");
  EXPECT_EQ(shipped_tables().cancer(text_cc("Family history of breast cancer")), nullptr);
  ASSERT_NE(shipped_tables().cancer(text_cc("History of breast cancer")), nullptr);
}

TEST(TextLookup, LongestPhraseWinsAndTheHigherTextRankWins) {
  EXPECT_EQ(observation_key("Spinal Instability Neoplastic Score (SINS)"), "sins-total");
  EXPECT_EQ(observation_key("SINS pain component"), "sins-pain");  // not "sins"
  EXPECT_EQ(observation_key("Hemoglobin A1c in blood"), "hba1c");  // not "hemoglobin"
  // Two findings in one text: the table's text_rank chooses. A compression
  // outranks a deficit, a deficit outranks pain: the emergency is not hidden.
  EXPECT_EQ(finding_key("Back pain with leg weakness"), "paraparesis");
  EXPECT_EQ(finding_key("Cauda equina syndrome: saddle numbness, leg weakness"), "cauda-equina");
  EXPECT_EQ(finding_key("Cord compression, new bilateral leg weakness"), "cord-compression");
  EXPECT_EQ(finding_key("Both legs weak since Wednesday, unsteady walking"), "paraparesis");
  // Two entries of one rank: not ours to choose.
  EXPECT_EQ(finding_key("Unsteady gait and urinary retention"), "");
  // The same entry twice is one concept.
  EXPECT_EQ(finding_key("Low back pain and neck pain"), "back-pain");
}

TEST(TextLookup, CodesComeBeforeText) {
  fhir::CodeableConcept c = cc("http://snomed.info/sct", "279039007");
  c.text = "No back pain";  // a code says what the record means
  const auto* f = shipped_tables().finding(c);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->key, "back-pain");
}

// A negation carries over commas into a list ("denies X, Y or Z"), never into
// a clause that is not a list ("no back pain, new leg weakness").
TEST(TextLookup, NegationCoversAListButNotTheNextClause) {
  EXPECT_EQ(finding_key("Denies weakness, numbness or bladder or bowel dysfunction"), "");
  EXPECT_EQ(finding_key("No back pain, leg weakness or numbness"), "");
  EXPECT_EQ(finding_key("No back pain, new leg weakness since Tuesday"), "paraparesis");
  EXPECT_EQ(finding_key("Denies pain. Urinary retention since this morning"),
            "sphincter-dysfunction");
}

// The list scope stays linear on hostile text: thousands of list clauses,
// and one long clause full of hits.
TEST(TextLookup, ListNegationStaysLinear) {
  std::string items;
  for (int k = 0; k < 20000; ++k) items += "no leg weakness or numbness, ";
  std::string words;
  for (int k = 0; k < 30000; ++k) words += "weak legs or ";
  EXPECT_EQ(finding_key(items), "");
  EXPECT_EQ(finding_key(words), "paraparesis");
}

}  // namespace
}  // namespace mst::mappings
