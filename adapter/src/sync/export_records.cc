#include "mst/adapter/sync/export_records.h"

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include <filesystem>
#include <set>

#include "mst/adapter/sync/state_store.h"
#include "mst/fhir/datatypes.h"
#include "mst/mappings/patient_record.h"

using namespace Poco::Data::Keywords;

namespace mst::adapter {

namespace {

// The key a line is filed under; empty when no patient search could find it.
std::string key_of(std::string_view type, fhir::Node resource) {
  const std::string_view id = resource["id"].is_string() ? resource["id"].as_string() : "";
  if (type == "Patient") return fhir::is_fhir_id(id) ? std::string(id) : "";
  if (type == "Medication") return fhir::is_fhir_id(id) ? "Medication/" + std::string(id) : "";
  for (const char* element : {"subject", "patient"}) {
    if (auto ref = fhir::read_reference(resource.object(element))) {
      if (ref->type == "Patient" && !ref->id.empty()) return ref->id;
      return "";  // a Group's, or another kind of subject's
    }
  }
  return "";
}

// The Medications a medication record names by reference ("Medication/id").
void named_medications(fhir::Node resource, std::set<std::string>& out) {
  if (auto ref = fhir::read_reference(resource.object("medicationReference"))) {
    if (ref->type == "Medication" && !ref->id.empty()) out.insert("Medication/" + ref->id);
  }
}

void remove_files(const std::string& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix, ignored);
  }
}

}  // namespace

ExportRecords::ExportRecords(std::string path, const detail::RelevantResourceFilter& relevant,
                             ExportRecordOptions options)
    : path_(std::move(path)), relevant_(relevant), options_(options) {
  static std::once_flag registered;
  std::call_once(registered, [] { Poco::Data::SQLite::Connector::registerConnector(); });
  open();
}

ExportRecords::~ExportRecords() {
  session_.reset();
  remove_files(path_);
}

void ExportRecords::open() {
  session_.reset();
  remove_files(path_);
  try {
    session_ = std::make_unique<Poco::Data::Session>("SQLite", path_, 5);
    Poco::Data::Session& s = *session_;
    // A scratch file rebuilt by the next export: durability buys nothing.
    s << "PRAGMA journal_mode=OFF", now;
    s << "PRAGMA synchronous=OFF", now;
    s << "CREATE TABLE line (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, body TEXT NOT NULL)", now;
    s << "CREATE INDEX line_key ON line (key)", now;
  } catch (const Poco::Exception& e) {
    throw StateStoreError("cannot open the export store " + path_ + ": " + e.displayText());
  }
}

void ExportRecords::reset() {
  std::lock_guard lock(mu_);
  batch_.clear();
  batch_bytes_ = 0;
  lines_ = 0;
  finished_ = false;
  open();
}

void ExportRecords::add(std::string_view type, fhir::Node resource, std::string_view line) {
  if (type != "Patient" && type != "Medication" && !relevant_(type, resource)) return;
  std::string key = key_of(type, resource);
  if (key.empty()) return;
  std::lock_guard lock(mu_);
  batch_bytes_ += line.size();
  batch_.push_back({std::move(key), std::string(line)});
  peak_bytes_ = std::max(peak_bytes_, batch_bytes_);
  ++lines_;
  if (batch_.size() >= options_.batch_lines || batch_bytes_ >= options_.batch_bytes) flush();
}

void ExportRecords::finish() {
  std::lock_guard lock(mu_);
  flush();
  finished_ = true;
}

void ExportRecords::flush() {
  if (batch_.empty()) return;
  std::vector<std::string> keys;
  std::vector<std::string> bodies;
  keys.reserve(batch_.size());
  bodies.reserve(batch_.size());
  for (Row& r : batch_) {
    keys.push_back(std::move(r.key));
    bodies.push_back(std::move(r.line));
  }
  batch_.clear();
  batch_bytes_ = 0;
  try {
    Poco::Data::Session& s = *session_;
    s << "BEGIN", now;
    s << "INSERT INTO line (key, body) VALUES (?, ?)", use(keys), use(bodies), now;
    s << "COMMIT", now;
  } catch (const Poco::Exception& e) {
    throw StateStoreError("writing the export store " + path_ + " failed: " + e.displayText());
  }
}

std::optional<PulledRecord> ExportRecords::record(const std::string& patient_id) {
  std::vector<std::string> bodies;
  {
    std::lock_guard lock(mu_);
    if (!finished_) return std::nullopt;
    std::string key = patient_id;
    try {
      *session_ << "SELECT body FROM line WHERE key = ? ORDER BY seq", use(key), into(bodies), now;
    } catch (const Poco::Exception& e) {
      throw StateStoreError("reading the export store " + path_ + " failed: " + e.displayText());
    }
  }
  if (bodies.size() > options_.max_resources_per_patient) return std::nullopt;
  mappings::PatientRecord::Builder builder(patient_id);
  bool has_patient = false;
  std::set<std::string> medications;
  for (const std::string& body : bodies) {
    auto doc = std::make_shared<const fhir::JsonDocument>(fhir::JsonDocument::parse(body));
    const std::string_view type = doc->root().string("resourceType").value_or("");
    if (type == "Patient") has_patient = true;
    if (type.starts_with("Medication")) named_medications(doc->root(), medications);
    builder.add_document(doc);
  }
  // The pull reads the Patient: without one it fails, and so should we, the
  // same way (404), so the pull decides.
  if (!has_patient) return std::nullopt;
  for (std::string key : medications) {
    std::vector<std::string> found;
    {
      std::lock_guard lock(mu_);
      *session_ << "SELECT body FROM line WHERE key = ? ORDER BY seq LIMIT 1", use(key),
          into(found), now;
    }
    // The export did not carry a Medication the pull would include.
    if (found.empty()) return std::nullopt;
    builder.add_document(fhir::JsonDocument::parse(found.front()));
  }
  PulledRecord out{builder.build(), {}, 0};
  return out;
}

bool ExportRecords::holds_export() const {
  std::lock_guard lock(mu_);
  return finished_;
}

std::size_t ExportRecords::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

std::size_t ExportRecords::peak_buffered_bytes() const {
  std::lock_guard lock(mu_);
  return peak_bytes_;
}

}  // namespace mst::adapter
