#include "mst/mappings/patient_record.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <map>
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

struct Classified {
  RecordResource r;
  fhir::Node node;
};

}  // namespace

PatientRecord::Builder::Builder(std::string patient_id) : patient_id_(std::move(patient_id)) {}

PatientRecord::Builder& PatientRecord::Builder::keep(
    std::shared_ptr<const fhir::JsonDocument> doc) {
  if (doc) docs_.push_back(std::move(doc));
  return *this;
}

PatientRecord::Builder& PatientRecord::Builder::add_document(
    std::shared_ptr<const fhir::JsonDocument> doc) {
  if (!doc) return *this;
  fhir::Node root = doc->root();
  docs_.push_back(std::move(doc));
  add_node(root, "document[" + std::to_string(next_origin_++) + "]", "");
  return *this;
}

PatientRecord::Builder& PatientRecord::Builder::add_document(fhir::JsonDocument doc) {
  return add_document(std::make_shared<const fhir::JsonDocument>(std::move(doc)));
}

PatientRecord::Builder& PatientRecord::Builder::add_search(const fhir::SearchResult& result) {
  for (const auto& page : result.pages) keep(page);
  for (fhir::Node n : result.resources) add_resource(n);
  for (fhir::Node n : result.included) add_resource(n);
  return *this;
}

PatientRecord::Builder& PatientRecord::Builder::add_resource(fhir::Node resource) {
  add_node(resource, "resource[" + std::to_string(next_origin_++) + "]", "");
  return *this;
}

void PatientRecord::Builder::add_node(fhir::Node n, std::string origin, std::string full_url) {
  // Bundles are unwrapped iteratively; `depth` bounds Bundles in Bundles.
  struct Item {
    fhir::Node node;
    std::string origin;
    std::string full_url;
    int depth;
  };
  std::vector<Item> stack{{n, std::move(origin), std::move(full_url), 0}};
  while (!stack.empty()) {
    Item it = std::move(stack.back());
    stack.pop_back();
    const std::string& where = it.full_url.empty() ? it.origin : it.full_url;
    if (!it.node.is_object()) {
      ignored_.push_back({where, "not a JSON object"});
      continue;
    }
    fhir::Node type = it.node["resourceType"];
    if (!type.is_string() || type.as_string().empty()) {
      ignored_.push_back({where, "no resourceType"});
      continue;
    }
    if (type.as_string() != "Bundle") {
      candidates_.push_back({it.node, it.origin, it.full_url});
      continue;
    }
    if (it.depth >= kMaxBundleNesting) {
      ignored_.push_back({where, "Bundle nested too deeply"});
      continue;
    }
    fhir::Node entries = it.node["entry"];
    if (entries.present() && !entries.is_array()) {
      ignored_.push_back({where, "Bundle.entry is not an array"});
      continue;
    }
    std::vector<Item> children;
    std::size_t i = 0;
    for (fhir::Node e : entries.elements()) {
      std::string e_origin = it.origin + ".entry[" + std::to_string(i++) + "]";
      if (!e.is_object()) {
        ignored_.push_back({e_origin, "Bundle entry is not a JSON object"});
        continue;
      }
      fhir::Node search = e["search"];
      if (search.is_object() && search["mode"].is_string() &&
          search["mode"].as_string() == "outcome") {
        continue;  // an OperationOutcome about the search, not patient data
      }
      fhir::Node res = e["resource"];
      std::string url = e["fullUrl"].is_string() && usable_full_url(e["fullUrl"].as_string())
                            ? std::string(e["fullUrl"].as_string())
                            : "";
      if (!res.present()) {
        // Transaction responses and deletes carry no resource: nothing to read.
        continue;
      }
      children.push_back({res, std::move(e_origin), std::move(url), it.depth + 1});
    }
    // Reverse so entries are visited in document order.
    for (auto c = children.rbegin(); c != children.rend(); ++c) stack.push_back(std::move(*c));
  }
}

PatientRecord PatientRecord::Builder::build() {
  PatientRecord rec;
  rec.docs_ = docs_;
  rec.ignored_ = ignored_;

  // Identity of each candidate; a malformed header ends that resource only.
  std::vector<Classified> items;
  items.reserve(candidates_.size());
  for (const auto& c : candidates_) {
    try {
      fhir::Resource res(c.node);
      RecordResource r;
      r.node = c.node;
      r.type = std::string(res.type());
      r.id = std::string(res.id());
      r.full_url = c.full_url;
      r.ref = !r.id.empty() ? res.ref() : (!c.full_url.empty() ? c.full_url : c.origin);
      (void)res.version_id();  // meta must be readable for duplicate handling
      items.push_back({std::move(r), c.node});
    } catch (const fhir::ElementError& e) {
      rec.ignored_.push_back({c.full_url.empty() ? c.origin : c.full_url, e.what()});
    }
  }

  // Decide the patient.
  std::string pid = patient_id_;
  std::set<std::string> patient_urls;  // fullUrls naming our Patient
  if (pid.empty()) {
    std::set<std::string> ids;
    for (const auto& it : items) {
      if (it.r.type == "Patient" && !it.r.id.empty()) ids.insert(it.r.id);
    }
    if (ids.size() > 1) {
      throw RecordError("the input holds " + std::to_string(ids.size()) +
                        " Patients and no patient id was given to choose one");
    }
    if (ids.size() == 1) pid = *ids.begin();
  }
  if (pid.empty()) {
    std::set<std::string> named;
    for (const auto& it : items) {
      try {
        auto ref = fhir::read_reference(patient_reference(it.node));
        if (ref && ref->type == "Patient" && !ref->id.empty() &&
            (ref->kind == fhir::Reference::Kind::kRelative ||
             ref->kind == fhir::Reference::Kind::kAbsolute)) {
          named.insert(ref->id);
        }
      } catch (const fhir::ElementError&) {
        // Reported when the resource itself is checked below.
      }
    }
    if (named.size() == 1) pid = *named.begin();
  }
  for (const auto& it : items) {
    if (it.r.type == "Patient" && it.r.id == pid && !it.r.full_url.empty()) {
      patient_urls.insert(it.r.full_url);
    }
  }
  rec.patient_id_ = pid;

  // Drop resources of other patients.
  std::vector<Classified> mine;
  mine.reserve(items.size());
  for (auto& it : items) {
    if (it.r.type == "Patient") {
      if (!pid.empty() && it.r.id != pid) {
        rec.ignored_.push_back({it.r.ref, "another patient"});
        continue;
      }
      mine.push_back(std::move(it));
      continue;
    }
    if (pid.empty()) {
      mine.push_back(std::move(it));
      continue;
    }
    try {
      auto ref = fhir::read_reference(patient_reference(it.node));
      if (ref) {
        using K = fhir::Reference::Kind;
        if ((ref->kind == K::kRelative || ref->kind == K::kAbsolute) && ref->type != "Patient") {
          rec.ignored_.push_back({it.r.ref, "subject is a " + ref->type + ", not the patient"});
          continue;
        }
        if ((ref->kind == K::kRelative || ref->kind == K::kAbsolute) && ref->id != pid) {
          rec.ignored_.push_back({it.r.ref, "belongs to another patient"});
          continue;
        }
        if (ref->kind == K::kUrnUuid && !patient_urls.empty() &&
            !patient_urls.count("urn:uuid:" + ref->id)) {
          rec.ignored_.push_back({it.r.ref, "belongs to another patient"});
          continue;
        }
      }
    } catch (const fhir::ElementError& e) {
      rec.ignored_.push_back({it.r.ref, std::string("unreadable subject: ") + e.what()});
      continue;
    }
    mine.push_back(std::move(it));
  }

  // One copy per Type/id.
  std::map<std::string, std::vector<Classified>> by_ref;
  std::vector<Classified> unique;
  for (auto& it : mine) {
    if (it.r.id.empty()) {
      unique.push_back(std::move(it));
    } else {
      by_ref[it.r.ref].push_back(std::move(it));
    }
  }
  for (auto& [ref, copies] : by_ref) {
    if (copies.size() == 1) {
      unique.push_back(std::move(copies.front()));
      continue;
    }
    std::size_t best = 0;
    std::string best_text;
    for (std::size_t i = 1; i < copies.size(); ++i) {
      int c = 0;
      try {
        c = compare_versions(fhir::Resource(copies[best].node), fhir::Resource(copies[i].node));
      } catch (const fhir::ElementError&) {
        c = 0;
      }
      if (c == 0) {
        if (best_text.empty()) best_text = json_text(copies[best].node);
        std::string t = json_text(copies[i].node);
        if (t > best_text) {
          best = i;
          best_text = std::move(t);
        }
      } else if (c < 0) {
        best = i;
        best_text.clear();
      }
    }
    fhir::Resource kept(copies[best].node);
    std::string kept_version(kept.version_id());
    rec.duplicates_.push_back(ref + " (" + std::to_string(copies.size()) + " copies)");
    for (std::size_t i = 0; i < copies.size(); ++i) {
      if (i == best) continue;
      rec.ignored_.push_back({ref, "duplicate copy dropped; kept " +
                                       (kept_version.empty() ? std::string("the latest")
                                                             : "version " + kept_version)});
    }
    unique.push_back(std::move(copies[best]));
  }

  std::sort(unique.begin(), unique.end(),
            [](const Classified& a, const Classified& b) { return a.r.ref < b.r.ref; });
  for (auto& it : unique) {
    if (it.r.type == "Patient") {
      if (!rec.patient_) rec.patient_ = std::move(it.r);
    } else if (it.r.type == "Condition") {
      rec.conditions_.push_back(std::move(it.r));
    } else if (it.r.type == "Observation") {
      rec.observations_.push_back(std::move(it.r));
    } else if (it.r.type == "CarePlan") {
      rec.care_plans_.push_back(std::move(it.r));
    } else {
      rec.others_.push_back(std::move(it.r));
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
