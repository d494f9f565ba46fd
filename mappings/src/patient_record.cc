#include "mst/mappings/patient_record.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <set>

#include "mst/fhir/resource.h"

namespace mst::mappings {

namespace {

constexpr int kMaxBundleNesting = 4;

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 18 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A fullUrl names its entry in refs and in the ignored list, so one that
// cannot be a URI (spaces, control characters, absurd length) is not used.
bool usable_full_url(std::string_view url) {
  return !url.empty() && url.size() <= 4096 && std::none_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
}

// Negative when `a` is older than `b` (versionId, then lastUpdated).
int compare_versions(const fhir::Resource& a, const fhir::Resource& b) {
  const std::string_view va = a.version_id();
  const std::string_view vb = b.version_id();
  if (!va.empty() && !vb.empty() && va != vb) {
    if (all_digits(va) && all_digits(vb))
      return std::stoll(std::string(va)) < std::stoll(std::string(vb)) ? -1 : 1;
    return va < vb ? -1 : 1;
  }
  auto la = a.last_updated();
  auto lb = b.last_updated();
  if (la && lb && !(*la == *lb)) return *la < *lb ? -1 : 1;
  if (la && !lb) return 1;
  if (!la && lb) return -1;
  return 0;
}

std::string json_text(fhir::Node n) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  n.raw()->Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// The patient a resource points at: subject, else patient (R4 names both).
fhir::Node patient_reference(fhir::Node resource) {
  fhir::Node s = resource["subject"];
  if (s.present()) return s;
  return resource["patient"];
}

constexpr std::size_t kNoEntry = std::string::npos;

// Where a resource was found: the Bundle's (or document's) origin, then
// ".entry[i]" for an entry of it. Spelled out only for messages and refs.
std::string origin_of(const std::string& bundle, std::size_t entry) {
  if (entry == kNoEntry) return bundle;
  return bundle + ".entry[" + std::to_string(entry) + "]";
}

// Types the extractor reads as the patient's: without a subject (or
// patient) they cannot be tied to anyone.
bool needs_subject(std::string_view type) {
  return type == "Condition" || type == "Observation" || type == "CarePlan" ||
         type == "Procedure" || type == "MedicationRequest" || type == "MedicationAdministration" ||
         type == "MedicationStatement";
}

// Why a subject reference does not name Patient/<pid> exactly, or nullopt
// when it does. `patient_urls` are the Patient entry's fullUrls; `bases`
// the server bases of the absolute ones. Reasons never quote the
// reference: it is untrusted text.
std::optional<std::string> strict_subject_problem(
    const std::optional<fhir::Reference>& ref, std::string_view type, const std::string& pid,
    const std::set<std::string, std::less<>>& patient_urls,
    const std::set<std::string, std::less<>>& bases) {
  using K = fhir::Reference::Kind;
  if (!ref) {
    if (!needs_subject(type)) return std::nullopt;
    return "no subject: cannot be tied to Patient/" + pid;
  }
  switch (ref->kind) {
    case K::kNone:
      return std::string("subject has no reference");
    case K::kContained:
      return std::string("subject is a contained resource, not Patient/") + pid;
    case K::kOther:
      return "subject reference is not of the form Patient/" + pid;
    case K::kUrnUuid:
      if (patient_urls.count("urn:uuid:" + ref->id)) return std::nullopt;
      return "subject urn:uuid is not the fullUrl of Patient/" + pid;
    case K::kRelative:
    case K::kAbsolute:
      break;
  }
  if (ref->type != "Patient") return "subject is a " + ref->type + ", not the patient";
  if (ref->id != pid) return std::string("belongs to another patient");
  if (ref->kind == K::kAbsolute && !bases.count(ref->base)) {
    return "subject is Patient/" + pid + " on another server than the input's";
  }
  return std::nullopt;
}

// The text of the first number kept out of range inside `v`, if any
// (ParseLimits::keep_out_of_range_numbers), cut to a readable length.
std::optional<std::string> out_of_range_number_in(const rapidjson::Value* v) {
  std::vector<const rapidjson::Value*> stack{v};
  while (!stack.empty()) {
    const rapidjson::Value* x = stack.back();
    stack.pop_back();
    if (fhir::is_out_of_range_number(*x)) {
      std::string text(x->GetString() + 1, x->GetStringLength() - 1);
      if (text.size() > 40) text = text.substr(0, 40) + "...";
      return text;
    }
    if (x->IsObject()) {
      for (auto m = x->MemberBegin(); m != x->MemberEnd(); ++m) stack.push_back(&m->value);
    } else if (x->IsArray()) {
      for (const auto& e : x->GetArray()) stack.push_back(&e);
    }
  }
  return std::nullopt;
}

}  // namespace

PatientRecord::Builder& PatientRecord::Builder::strict_subjects() {
  strict_subjects_ = true;
  return *this;
}

PatientRecord::Builder::Builder(std::string patient_id) : patient_id_(std::move(patient_id)) {}

PatientRecord::Builder& PatientRecord::Builder::keep(
    std::shared_ptr<const fhir::JsonDocument> doc) {
  if (!doc) return *this;
  if (doc->out_of_range_numbers() > 0) check_numbers_ = true;
  docs_.push_back(std::move(doc));
  return *this;
}

PatientRecord::Builder& PatientRecord::Builder::add_document(
    std::shared_ptr<const fhir::JsonDocument> doc) {
  if (!doc) return *this;
  if (doc->out_of_range_numbers() > 0) check_numbers_ = true;
  fhir::Node root = doc->root();
  docs_.push_back(std::move(doc));
  add_node(root, "document[" + std::to_string(next_origin_++) + "]");
  return *this;
}

PatientRecord::Builder& PatientRecord::Builder::add_document(fhir::JsonDocument doc) {
  return add_document(std::make_shared<const fhir::JsonDocument>(std::move(doc)));
}

PatientRecord::Builder& PatientRecord::Builder::add_resource(fhir::Node resource) {
  add_node(resource, "resource[" + std::to_string(next_origin_++) + "]");
  return *this;
}

void PatientRecord::Builder::add_node(fhir::Node n, std::string origin) {
  // Bundles are unwrapped iteratively, one frame per Bundle being read;
  // `depth` bounds Bundles in Bundles. Each entry's resource is read as
  // soon as its entry is, while both are in cache, in document order.
  std::deque<std::string> origins{std::move(origin)};  // stable addresses
  struct Frame {
    fhir::Node::ArrayRange entries;
    std::size_t next;
    const std::string* origin;
    int depth;
  };
  std::vector<Frame> frames;
  // Reads one resource or Bundle: `bundle` and `entry` say where it was found.
  auto visit = [&](fhir::Node node, const std::string& bundle, std::size_t entry,
                   std::string_view full_url, int depth) {
    auto where = [&] {
      return full_url.empty() ? origin_of(bundle, entry) : std::string(full_url);
    };
    if (!node.is_object()) {
      ignored_.push_back({where(), "not a JSON object"});
      return;
    }
    fhir::Node type = node["resourceType"];
    if (!type.is_string() || type.as_string().empty()) {
      ignored_.push_back({where(), "no resourceType"});
      return;
    }
    if (type.as_string() != "Bundle") {
      add_candidate(node, full_url, bundle, entry);
      return;
    }
    if (depth >= kMaxBundleNesting) {
      ignored_.push_back({where(), "Bundle nested too deeply"});
      return;
    }
    fhir::Node entries = node["entry"];
    if (entries.present() && !entries.is_array()) {
      ignored_.push_back({where(), "Bundle.entry is not an array"});
      return;
    }
    const std::string* own =
        entry == kNoEntry ? &bundle : &origins.emplace_back(origin_of(bundle, entry));
    frames.push_back({entries.elements(), 0, own, depth});
  };
  visit(n, origins.front(), kNoEntry, {}, 0);
  while (!frames.empty()) {
    Frame& f = frames.back();
    if (f.next == f.entries.size()) {
      frames.pop_back();
      continue;
    }
    const std::size_t index = f.next++;
    const std::string& bundle = *f.origin;
    const int depth = f.depth;
    // Hint entries in ahead: a large Bundle's reading waits on memory.
    if (index + 4 < f.entries.size()) f.entries[index + 4].prefetch();
    if (index + 2 < f.entries.size()) f.entries[index + 2].prefetch_children();
    fhir::Node e = f.entries[index];  // `f` may move when visit() adds a frame
    if (!e.is_object()) {
      ignored_.push_back({origin_of(bundle, index), "Bundle entry is not a JSON object"});
      continue;
    }
    fhir::Node search = e["search"];
    if (search.is_object()) {
      fhir::Node mode = search["mode"];
      if (mode.is_string() && mode.as_string() == "outcome") {
        continue;  // an OperationOutcome about the search, not patient data
      }
    }
    fhir::Node res = e["resource"];
    if (!res.present()) {
      // Transaction responses and deletes carry no resource: nothing to read.
      continue;
    }
    fhir::Node url = e["fullUrl"];
    const std::string_view full_url =
        url.is_string() && usable_full_url(url.as_string()) ? url.as_string() : "";
    visit(res, bundle, index, full_url, depth + 1);
  }
}

void PatientRecord::Builder::add_candidate(fhir::Node n, std::string_view full_url,
                                           const std::string& bundle, std::size_t entry) {
  // Identity first; a malformed header ends that resource only. meta must be
  // readable for duplicate handling.
  Candidate c;
  RecordResource& r = c.r;
  try {
    fhir::Resource res(n);
    (void)res.version_id();
    r.type = std::string(res.type());
    r.id = std::string(res.id());
  } catch (const fhir::ElementError& e) {
    ignored_.push_back(
        {full_url.empty() ? origin_of(bundle, entry) : std::string(full_url), e.what()});
    return;
  }
  if (check_numbers_) {
    // One number no double can hold ends this resource, not the document.
    if (auto number = out_of_range_number_in(n.raw())) {
      const std::string ref = !r.id.empty()       ? r.type + "/" + r.id
                              : !full_url.empty() ? std::string(full_url)
                                                  : origin_of(bundle, entry);
      ignored_.push_back({ref, "unreadable " + r.type + ": number " + *number +
                                   " is outside the range of a double"});
      unreadable_.push_back({r.type, ref});
      return;
    }
  }
  r.node = n;
  r.full_url = std::string(full_url);
  if (!r.id.empty()) {
    r.ref.reserve(r.type.size() + 1 + r.id.size());
    r.ref.append(r.type).append(1, '/').append(r.id);
  } else {
    r.ref = !r.full_url.empty() ? r.full_url : origin_of(bundle, entry);
  }
  try {
    c.patient = fhir::read_reference(patient_reference(n));
  } catch (const fhir::ElementError& e) {
    c.patient_error = e.what();
  }
  candidates_.push_back(std::move(c));
}

namespace {

// Of several copies of one resource, the one kept: the highest version,
// then the latest lastUpdated, then the greatest JSON text.
std::size_t newest_copy(const std::vector<fhir::Node>& copies) {
  std::size_t best = 0;
  std::string best_text;
  for (std::size_t k = 1; k < copies.size(); ++k) {
    int c = 0;
    try {
      c = compare_versions(fhir::Resource(copies[best]), fhir::Resource(copies[k]));
    } catch (const fhir::ElementError&) {
      c = 0;
    }
    if (c == 0) {
      if (best_text.empty()) best_text = json_text(copies[best]);
      std::string t = json_text(copies[k]);
      if (t > best_text) {
        best = k;
        best_text = std::move(t);
      }
    } else if (c < 0) {
      best = k;
      best_text.clear();
    }
  }
  return best;
}

}  // namespace

struct PatientRecord::Builder::PatientChoice {
  std::string id;                            // empty: no patient could be named
  std::set<std::string, std::less<>> urls;   // fullUrls naming our Patient
  std::set<std::string, std::less<>> bases;  // server bases of those fullUrls
};

std::string PatientRecord::Builder::decide_patient_id() const {
  using K = fhir::Reference::Kind;
  if (!patient_id_.empty()) return patient_id_;
  std::set<std::string_view> ids;
  for (const auto& c : candidates_) {
    if (c.r.type == "Patient" && !c.r.id.empty()) ids.insert(c.r.id);
  }
  if (ids.size() > 1) {
    throw RecordError("the input holds " + std::to_string(ids.size()) +
                      " Patients and no patient id was given to choose one");
  }
  if (ids.size() == 1) return std::string(*ids.begin());
  // An unreadable reference is reported when the resource is checked.
  std::set<std::string_view> named;
  for (const auto& c : candidates_) {
    const auto& ref = c.patient;
    if (ref && ref->type == "Patient" && !ref->id.empty() &&
        (ref->kind == K::kRelative || ref->kind == K::kAbsolute)) {
      named.insert(ref->id);
    }
  }
  if (named.size() > 1 && strict_subjects_) {
    // Keeping them all would mix patients in one plan.
    throw RecordError("the input holds no Patient and its subjects name " +
                      std::to_string(named.size()) +
                      " patients; no patient id was given to choose one");
  }
  return named.size() == 1 ? std::string(*named.begin()) : std::string();
}

PatientRecord::Builder::PatientChoice PatientRecord::Builder::choose_patient() const {
  using K = fhir::Reference::Kind;
  PatientChoice p;
  p.id = decide_patient_id();
  for (const auto& c : candidates_) {
    if (c.r.type == "Patient" && c.r.id == p.id && !c.r.full_url.empty()) {
      p.urls.insert(c.r.full_url);
      const fhir::Reference own = fhir::Reference::parse(c.r.full_url);
      if (own.kind == K::kAbsolute && own.type == "Patient" && own.id == p.id) {
        p.bases.insert(own.base);
      }
    }
  }
  return p;
}

std::optional<std::string> PatientRecord::Builder::not_this_patient(const Candidate& c,
                                                                    const PatientChoice& p) const {
  using K = fhir::Reference::Kind;
  if (strict_subjects_) {
    return strict_subject_problem(c.patient, c.r.type, p.id, p.urls, p.bases);
  }
  const auto& ref = c.patient;
  if (!ref) return std::nullopt;
  const bool literal = ref->kind == K::kRelative || ref->kind == K::kAbsolute;
  if (literal && ref->type != "Patient") return "subject is a " + ref->type + ", not the patient";
  if (literal && ref->id != p.id) return "belongs to another patient";
  if (ref->kind == K::kUrnUuid && !p.urls.empty() && !p.urls.count("urn:uuid:" + ref->id)) {
    return "belongs to another patient";
  }
  return std::nullopt;
}

std::vector<std::size_t> PatientRecord::Builder::of_this_patient(const PatientChoice& p,
                                                                 PatientRecord& rec) const {
  std::vector<std::size_t> mine;
  mine.reserve(candidates_.size());
  for (std::size_t i = 0; i < candidates_.size(); ++i) {
    const Candidate& c = candidates_[i];
    const std::string& own_ref = c.r.ref;
    if (c.r.type == "Patient") {
      if (!p.id.empty() && c.r.id != p.id) {
        rec.ignored_.push_back({own_ref, "another patient"});
      } else {
        mine.push_back(i);
      }
      continue;
    }
    if (!p.id.empty() && c.patient_error) {
      rec.ignored_.push_back({own_ref, "unreadable subject: " + *c.patient_error});
      rec.unreadable_.push_back({c.r.type, own_ref});
      continue;
    }
    if (!p.id.empty()) {
      if (auto problem = not_this_patient(c, p)) {
        rec.ignored_.push_back({own_ref, std::move(*problem)});
        continue;
      }
    }
    mine.push_back(i);
  }
  return mine;
}

// One copy per Type/id: copies grouped by ref in ref order, each group in
// input order, after the resources without an id.
std::vector<std::size_t> PatientRecord::Builder::one_copy_each(const std::vector<std::size_t>& mine,
                                                               PatientRecord& rec) const {
  auto ref_of = [&](std::size_t i) -> const std::string& { return candidates_[i].r.ref; };
  std::vector<std::size_t> unique;
  std::vector<std::size_t> with_id;
  unique.reserve(mine.size());
  with_id.reserve(mine.size());
  for (std::size_t i : mine) (candidates_[i].r.id.empty() ? unique : with_id).push_back(i);
  std::stable_sort(with_id.begin(), with_id.end(),
                   [&](std::size_t a, std::size_t b) { return ref_of(a) < ref_of(b); });
  for (auto first = with_id.begin(); first != with_id.end();) {
    auto last = std::find_if(first + 1, with_id.end(),
                             [&](std::size_t i) { return ref_of(i) != ref_of(*first); });
    const std::size_t n = static_cast<std::size_t>(last - first);
    if (n == 1) {
      unique.push_back(*first);
      first = last;
      continue;
    }
    const std::string& ref = ref_of(*first);
    std::vector<fhir::Node> copies;
    for (auto it = first; it != last; ++it) copies.push_back(candidates_[*it].r.node);
    const std::size_t best = newest_copy(copies);
    fhir::Resource kept(copies[best]);
    std::string kept_version(kept.version_id());
    rec.duplicates_.push_back(ref + " (" + std::to_string(n) + " copies)");
    for (std::size_t k = 0; k + 1 < n; ++k) {
      rec.ignored_.push_back({ref, "duplicate copy dropped; kept " +
                                       (kept_version.empty() ? std::string("the latest")
                                                             : "version " + kept_version)});
    }
    unique.push_back(*(first + static_cast<std::ptrdiff_t>(best)));
    first = last;
  }
  return unique;
}

PatientRecord PatientRecord::Builder::build() {
  PatientRecord rec;
  rec.docs_ = docs_;
  rec.ignored_ = ignored_;
  rec.unreadable_ = unreadable_;
  const PatientChoice patient = choose_patient();
  rec.patient_id_ = patient.id;
  std::vector<std::size_t> unique = one_copy_each(of_this_patient(patient, rec), rec);

  // Already in order when every resource has an id (the groups come sorted
  // and their refs differ); otherwise sorted exactly as this list always was.
  auto by_ref = [&](std::size_t a, std::size_t b) {
    return candidates_[a].r.ref < candidates_[b].r.ref;
  };
  if (std::adjacent_find(unique.begin(), unique.end(), [&](std::size_t a, std::size_t b) {
        return !by_ref(a, b);
      }) != unique.end()) {
    std::sort(unique.begin(), unique.end(), by_ref);
  }
  for (std::size_t i : unique) {
    const RecordResource& r = candidates_[i].r;
    if (r.type == "Patient") {
      if (!rec.patient_) rec.patient_ = r;
    } else if (r.type == "Condition") {
      rec.conditions_.push_back(r);
    } else if (r.type == "Observation") {
      rec.observations_.push_back(r);
    } else if (r.type == "CarePlan") {
      rec.care_plans_.push_back(r);
    } else if (r.type == "Procedure") {
      rec.procedures_.push_back(r);
    } else if (r.type == "MedicationRequest" || r.type == "MedicationAdministration" ||
               r.type == "MedicationStatement") {
      rec.medication_uses_.push_back(r);
    } else if (r.type == "Medication") {
      rec.medications_.push_back(r);
    } else {
      rec.others_.push_back(r);
    }
  }
  std::sort(rec.duplicates_.begin(), rec.duplicates_.end());
  std::stable_sort(rec.ignored_.begin(), rec.ignored_.end(),
                   [](const IgnoredResource& a, const IgnoredResource& b) {
                     return a.ref != b.ref ? a.ref < b.ref : a.reason < b.reason;
                   });
  return rec;
}

PatientRecord PatientRecord::from_bundle(fhir::JsonDocument bundle, std::string patient_id) {
  Builder b(std::move(patient_id));
  b.add_document(std::move(bundle));
  return b.build();
}

}  // namespace mst::mappings
