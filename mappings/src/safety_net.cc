// The safety net (docs/considerations.md, "Safety net"): a resource no fact
// rests on, whose words name a finding that matters in an emergency, is
// raised as an Alert instead of passing as one more "not used" line.
#include <algorithm>
#include <array>
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

// NICE NG234 (clinical-decision.md) lists the symptoms and findings of
// suspected MSCC: spinal pain with limb weakness, sphincter disturbance,
// saddle anaesthesia, radiological compression; SINS and Bilsky ESCC record
// instability and compression; a pathological fracture threatens both.
// Negated mentions ("no cord compression") raise nothing.
constexpr std::array<SafetyPhrase, 36> kSafetyPhrases = {{
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

// First word -> the phrases starting with it.
const std::unordered_map<std::string_view, std::vector<const SafetyPhrase*>>& by_first_word() {
  static const auto index = [] {
    std::unordered_map<std::string_view, std::vector<const SafetyPhrase*>> m;
    for (const auto& p : kSafetyPhrases) m[p.phrase.substr(0, p.phrase.find(' '))].push_back(&p);
    return m;
  }();
  return index;
}

// Adds to `found` the findings `raw` mentions without negating them.
void scan(std::string_view raw, std::vector<std::string_view>& found) {
  if (raw.empty()) return;
  const WordText text(raw);
  const auto& index = by_first_word();
  struct Hit {
    std::size_t first = 0;
    std::size_t count = 0;
    const SafetyPhrase* phrase = nullptr;
  };
  std::vector<Hit> hits;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto it = index.find(text.words(i, 1));
    if (it == index.end()) continue;
    for (const SafetyPhrase* p : it->second) {
      const std::size_t n = word_count(p->phrase);
      if (i + n > text.size() || text.clause(i + n - 1) != text.clause(i)) continue;
      if (text.words(i, n) == p->phrase) hits.push_back({i, n, p});
    }
  }
  for (const Hit& h : hits) {
    // "no metastatic spinal cord compression": the longest phrase carries
    // the negation for the phrases inside it.
    const Hit* outer = &h;
    for (const Hit& o : hits) {
      if (o.first <= h.first && o.first + o.count >= h.first + h.count && o.count > outer->count)
        outer = &o;
    }
    // Only a negation silences the net: "risk of cord compression" is still
    // worth a clinician's look.
    if (assertion(text, outer->first, outer->count) == Assertion::kNegated) continue;
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
// repeats them).
std::vector<std::string_view> findings_in(fhir::Node n) {
  std::vector<std::string_view> found;
  scan_concepts(n, "code", found);
  scan_concepts(n, "valueCodeableConcept", found);
  scan(string_member(n, "valueString"), found);
  scan(string_member(n, "conclusion"), found);
  scan_concepts(n, "conclusionCode", found);
  scan_concepts(n, "reasonCode", found);
  scan(string_member(n, "title"), found);
  scan(string_member(n, "description"), found);
  for (fhir::Node comp : n.array("component")) {
    if (!comp.is_object()) continue;
    scan_concepts(comp, "code", found);
    scan_concepts(comp, "valueCodeableConcept", found);
    scan(string_member(comp, "valueString"), found);
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
  return reasons.empty() ? "read, but no consideration rests on it" : reasons;
}

}  // namespace

void raise_alerts(const Context& ctx, const PatientRecord& record) {
  Considerations& c = ctx.out;
  auto visit = [&](const std::vector<RecordResource>& resources) {
    for (const RecordResource& r : resources) {
      if (std::binary_search(c.used.begin(), c.used.end(), r.ref)) continue;
      try {
        if (!r.node.is_object() || withdrawn(r.node) || after_as_of(ctx, r.node)) continue;
        const std::vector<std::string_view> found = findings_in(r.node);
        if (found.empty()) continue;
        std::string finding;
        for (std::string_view f : found) finding += (finding.empty() ? "" : "; ") + std::string(f);
        c.alerts.push_back({r.ref, std::move(finding), why_not_used(c, r.ref)});
      } catch (const fhir::ElementError&) {
        // Unreadable: already listed in ignored by its reader.
      }
    }
  };
  visit(record.conditions());
  visit(record.observations());
  visit(record.care_plans());
  visit(record.others());
  std::sort(c.alerts.begin(), c.alerts.end(),
            [](const Alert& a, const Alert& b) { return a.ref < b.ref; });
}

}  // namespace mst::mappings::detail
