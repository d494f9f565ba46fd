// The safety net (docs/considerations.md, "Safety net"): a resource no fact
// rests on, whose words name a finding that matters in an emergency, is
// raised as an Alert instead of passing as one more "not used" line.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>

#include "extract_internal.h"
#include "mst/mappings/text.h"

namespace mst::mappings::detail {

namespace {

struct SafetyPhrase {
  std::string_view phrase;   // normalised words
  std::string_view finding;  // what the alert names
};

// NICE NG234 as clinical-decision.md §7.1 reads it: limb weakness, gait
// difficulty, sensory loss, bladder or bowel dysfunction, cord or cauda
// equina signs (saddle anaesthesia, retention) in a person with cancer are an
// emergency; SINS and Bilsky ESCC (§1, §2) grade instability and compression,
// and a pathological fracture threatens both. Negated mentions ("no cord
// compression") raise nothing.
constexpr std::array<SafetyPhrase, 42> kSafetyPhrases = {{
    {"cord compression", "cord compression"},
    {"spinal cord compression", "cord compression"},
    {"metastatic spinal cord compression", "cord compression"},
    {"epidural spinal cord compression", "cord compression"},
    {"compression of spinal cord", "cord compression"},
    {"compression of the spinal cord", "cord compression"},
    {"mscc", "cord compression"},
    {"thecal sac compression", "cord compression"},
    {"cauda equina", "cauda equina"},
    {"weakness", "weakness"},
    {"paraparesis", "paraparesis or paraplegia"},
    {"paraplegia", "paraparesis or paraplegia"},
    {"tetraparesis", "tetraparesis or tetraplegia"},
    {"quadriparesis", "tetraparesis or tetraplegia"},
    {"tetraplegia", "tetraparesis or tetraplegia"},
    {"quadriplegia", "tetraparesis or tetraplegia"},
    {"foot drop", "weakness"},
    {"gait disturbance", "gait difficulty"},
    {"difficulty walking", "gait difficulty"},
    {"unable to walk", "gait difficulty"},
    {"sensory loss", "sensory loss"},
    {"bladder dysfunction", "bladder or bowel dysfunction"},
    {"bowel dysfunction", "bladder or bowel dysfunction"},
    {"urinary retention", "urinary retention"},
    {"retention of urine", "urinary retention"},
    {"incontinence", "incontinence"},
    {"saddle anaesthesia", "saddle anaesthesia"},
    {"saddle anesthesia", "saddle anaesthesia"},
    {"saddle numbness", "saddle anaesthesia"},
    {"perineal numbness", "saddle anaesthesia"},
    {"sins", "SINS"},
    {"spinal instability neoplastic score", "SINS"},
    {"spine instability neoplastic score", "SINS"},
    {"spinal instability", "spinal instability"},
    {"bilsky", "Bilsky ESCC grade"},
    {"escc", "Bilsky ESCC grade"},
    {"fracture", "fracture"},
    {"fractures", "fracture"},
    {"vertebral collapse", "fracture"},
    {"collapsed vertebra", "fracture"},
    {"vertebral body collapse", "fracture"},
    {"myelopathy", "myelopathy"},
}};

std::size_t word_count(std::string_view phrase) {
  return 1 + static_cast<std::size_t>(std::count(phrase.begin(), phrase.end(), ' '));
}

// First word -> the phrases starting with it; and, to turn most words away
// before hashing them, which (first byte, length) pairs a first word has.
struct FirstWords {
  std::unordered_map<std::string_view, std::vector<const SafetyPhrase*>> phrases;
  std::array<std::uint32_t, 256> lengths{};  // bit n: some first word has n bytes
  bool may_start(std::string_view w) const {
    return w.size() < 32 && (lengths[static_cast<unsigned char>(w[0])] >> w.size() & 1u) != 0;
  }
};

const FirstWords& by_first_word() {
  static const FirstWords index = [] {
    FirstWords f;
    for (const auto& p : kSafetyPhrases) {
      const std::string_view first = p.phrase.substr(0, p.phrase.find(' '));
      f.phrases[first].push_back(&p);
      f.lengths[static_cast<unsigned char>(first[0])] |= 1u << first.size();
    }
    return f;
  }();
  return index;
}

// Adds to `found` the findings `raw` mentions without negating them.
void scan(std::string_view raw, std::vector<std::string_view>& found) {
  const auto& index = by_first_word();
  // Most texts of a large record start no phrase: they skip the tokeniser.
  if (!any_word(raw, [&](std::string_view w) {
        return index.may_start(w) && index.phrases.count(w) > 0;
      })) {
    return;
  }
  const WordText text(raw);
  struct Hit {
    std::size_t first = 0;
    std::size_t count = 0;
    const SafetyPhrase* phrase = nullptr;
  };
  std::vector<Hit> hits;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto it = index.phrases.find(text.words(i, 1));
    if (it == index.phrases.end()) continue;
    Hit longest;
    for (const SafetyPhrase* p : it->second) {
      const std::size_t n = word_count(p->phrase);
      if (n <= longest.count || i + n > text.size()) continue;
      if (text.clause(i + n - 1) != text.clause(i)) continue;
      if (text.words(i, n) == p->phrase) longest = {i, n, p};
    }
    if (longest.phrase) hits.push_back(longest);
  }
  // One hit per start word, in order: the earlier hit reaching furthest is
  // the one a later hit may lie inside.
  const Hit* outer = nullptr;
  bool outer_negated = false;
  for (const Hit& h : hits) {
    // "no metastatic spinal cord compression": the longest phrase carries
    // the negation for the phrases inside it. Only a negation silences the
    // net: "risk of cord compression" is still worth a clinician's look.
    if (!outer || outer->first + outer->count < h.first + h.count) {
      outer = &h;
      outer_negated = assertion(text, h.first, h.count) == Assertion::kNegated;
    }
    if (outer_negated) continue;
    if (std::find(found.begin(), found.end(), h.phrase->finding) == found.end())
      found.push_back(h.phrase->finding);
  }
}

std::string_view string_member(fhir::Node n, std::string_view key) {
  const fhir::Node member = n[key];
  return member.is_string() ? member.as_string() : std::string_view();
}

void scan_concept(fhir::Node cc, std::vector<std::string_view>& found) {
  if (!cc.is_object()) return;
  scan(string_member(cc, "text"), found);
  if (!cc["coding"].is_array()) return;
  for (fhir::Node coding : cc.array("coding")) {
    if (coding.is_object()) scan(string_member(coding, "display"), found);
  }
}

void scan_concepts(fhir::Node parent, std::string_view key, std::vector<std::string_view>& found) {
  const fhir::Node member = parent[key];
  if (member.is_object()) scan_concept(member, found);
  if (!member.is_array()) return;
  for (fhir::Node cc : parent.array(key)) scan_concept(cc, found);
}

// The words a resource offers a reader: its code, value, conclusion,
// reasons, description and notes (not the generated narrative, which only
// repeats them). Members are looked up by name, so each type asks only for
// the ones it has: most of a large record is Observations.
std::vector<std::string_view> findings_in(const RecordResource& r) {
  const fhir::Node n = r.node;
  std::vector<std::string_view> found;
  scan_concepts(n, "code", found);
  if (r.type == "Observation") {
    scan_concepts(n, "valueCodeableConcept", found);
    scan(string_member(n, "valueString"), found);
    for (fhir::Node comp : n.array("component")) {
      if (!comp.is_object()) continue;
      scan_concepts(comp, "code", found);
      scan_concepts(comp, "valueCodeableConcept", found);
      scan(string_member(comp, "valueString"), found);
    }
  } else if (r.type != "Condition") {
    scan(string_member(n, "conclusion"), found);
    scan_concepts(n, "conclusionCode", found);
    scan_concepts(n, "reasonCode", found);
    scan(string_member(n, "title"), found);
    scan(string_member(n, "description"), found);
  }
  for (fhir::Node note : n.array("note")) {
    if (note.is_object()) scan(string_member(note, "text"), found);
  }
  return found;
}

bool has_code(fhir::Node cc, std::string_view code) {
  if (!cc.is_object()) return false;
  for (fhir::Node coding : cc.array("coding")) {
    if (coding.is_object() && coding.string("code").value_or("") == code) return true;
  }
  return false;
}

// A record that says of itself it is wrong, was never done, or is a
// proposal (the adapter's own earlier drafts among them) warns of nothing.
bool withdrawn(fhir::Node n) {
  const fhir::Node verification = n.object("verificationStatus");
  if (has_code(verification, "entered-in-error") || has_code(verification, "refuted")) return true;
  const std::string_view status = n.string("status").value_or("");
  return status == "entered-in-error" || status == "cancelled" || status == "draft" ||
         status == "revoked" || status == "not-done";
}

// Not yet written on the as-of day, by the first time the resource gives
// of its recording (the readers' own order: recorded, effective, issued, ...).
bool after_as_of(const Context& ctx, fhir::Node n) {
  for (std::string_view key :
       {"recordedDate", "effectiveDateTime", "effectiveInstant", "issued", "onsetDateTime",
        "authoredOn", "performedDateTime", "date", "created"}) {
    if (auto t = fhir::read_datetime(n[key])) return ctx.after_as_of(*t);
  }
  for (std::string_view key : {"effectivePeriod", "performedPeriod", "period"}) {
    if (auto p = fhir::read_period(n.object(key)); p && p->start) return ctx.after_as_of(*p->start);
  }
  return false;
}

std::string why_not_used(const Considerations& c, const std::string& ref) {
  auto lo =
      std::lower_bound(c.ignored.begin(), c.ignored.end(), ref,
                       [](const IgnoredResource& i, const std::string& r) { return i.ref < r; });
  std::string reasons;
  for (auto it = lo; it != c.ignored.end() && it->ref == ref; ++it) {
    if (reasons.find(it->reason) != std::string::npos) continue;
    reasons += (reasons.empty() ? "" : "; ") + it->reason;
  }
  return reasons;
}

}  // namespace

void screen_ignored(const RecordResource& r, std::vector<Mention>& out) {
  try {
    if (!r.node.is_object()) return;
    const std::vector<std::string_view> found = findings_in(r);
    if (found.empty()) return;
    std::string finding;
    for (std::string_view f : found) finding += (finding.empty() ? "" : "; ") + std::string(f);
    out.push_back({&r, std::move(finding)});
  } catch (const fhir::ElementError&) {
    // Malformed where the net looks: its reader has listed it already.
  }
}

void raise_alerts(const Context& ctx, const std::vector<Mention>& mentions) {
  Considerations& c = ctx.out;
  for (const Mention& m : mentions) {
    const RecordResource& r = *m.resource;
    // A duplicate ignored beside a copy that was used is not a miss.
    if (std::binary_search(c.used.begin(), c.used.end(), r.ref)) continue;
    try {
      if (withdrawn(r.node) || after_as_of(ctx, r.node)) continue;
    } catch (const fhir::ElementError&) {
      // A status or date that cannot be read does not silence the net.
    }
    c.alerts.push_back({r.ref, m.finding, why_not_used(c, r.ref)});
  }
  std::sort(c.alerts.begin(), c.alerts.end(),
            [](const Alert& a, const Alert& b) { return a.ref < b.ref; });
  c.alerts.erase(std::unique(c.alerts.begin(), c.alerts.end(),
                             [](const Alert& a, const Alert& b) { return a.ref == b.ref; }),
                 c.alerts.end());
}

}  // namespace mst::mappings::detail
