#include "mst/adapter/sync/bulk_manifest.h"

#include "mst/fhir/datatypes.h"
#include "mst/fhir/datetime.h"
#include "mst/fhir/errors.h"
#include "mst/fhir/resource.h"
#include "mst/fhir/url.h"

namespace mst::adapter {

namespace {

std::vector<BulkFile> files_of(fhir::Node manifest, std::string_view key) {
  std::vector<BulkFile> files;
  std::size_t i = 0;
  for (fhir::Node f : manifest.array(key)) {
    const std::string where = std::string(key) + "[" + std::to_string(i++) + "]";
    if (!f.is_object()) throw BulkExportError("export manifest: " + where + " is not an object");
    BulkFile file{std::string(f.string("type").value_or("")),
                  std::string(f.string("url").value_or(""))};
    // The IG requires absolute URLs; a relative one would have to be guessed at.
    if (!fhir::is_http_url(file.url)) {
      throw BulkExportError("export manifest: " + where + " has no absolute http(s) url");
    }
    files.push_back(std::move(file));
  }
  return files;
}

}  // namespace

BulkManifest parse_manifest(fhir::Node manifest) {
  BulkManifest m;
  try {
    if (!manifest.is_object()) throw BulkExportError("export manifest: not a JSON object");
    const std::string_view time = manifest.string("transactionTime").value_or("");
    auto parsed = fhir::DateTime::parse(time);
    if (!parsed || parsed->precision() < fhir::Precision::kSecond) {
      throw BulkExportError(
          "export manifest: transactionTime is missing or not an instant; without it the next "
          "export cannot start where this one ended");
    }
    m.transaction_time = std::string(time);
    m.requires_access_token = manifest.boolean("requiresAccessToken").value_or(false);
    m.output = files_of(manifest, "output");
    m.error = files_of(manifest, "error");
  } catch (const fhir::ElementError& e) {
    throw BulkExportError(std::string("export manifest: ") + e.what());
  }
  return m;
}

NdjsonPatientReader::NdjsonPatientReader(std::string file_name, Keep keep,
                                         std::size_t max_line_bytes)
    : name_(std::move(file_name)), keep_(std::move(keep)), max_line_bytes_(max_line_bytes) {}

void NdjsonPatientReader::feed(std::string_view chunk) {
  while (!chunk.empty()) {
    const auto nl = chunk.find('\n');
    const std::string_view piece = chunk.substr(0, nl);
    if (partial_.size() + piece.size() > max_line_bytes_) {
      throw BulkExportError(name_ + " line " + std::to_string(line_ + 1) + ": longer than " +
                            std::to_string(max_line_bytes_) + " bytes");
    }
    if (nl == std::string_view::npos) {
      partial_.append(piece);
      return;
    }
    if (partial_.empty()) {
      read_line(piece);
    } else {
      partial_.append(piece);
      read_line(partial_);
      partial_.clear();
    }
    chunk.remove_prefix(nl + 1);
  }
}

void NdjsonPatientReader::finish() {
  if (!partial_.empty()) read_line(partial_);
  partial_.clear();
}

void NdjsonPatientReader::read_line(std::string_view line) {
  ++line_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return;  // a trailing blank line
  const std::string where = name_ + " line " + std::to_string(line_);
  try {
    const auto doc = fhir::JsonDocument::parse(line);
    const fhir::Node resource = doc.root();
    if (!resource.is_object()) throw BulkExportError(where + ": not a JSON object");
    const std::string_view type = resource.string("resourceType").value_or("");
    if (type.empty()) throw BulkExportError(where + ": no resourceType");
    if (keep_ && !keep_(type, resource)) return;
    if (sink_) sink_(type, resource, line);
    if (type == "Patient") {
      const std::string_view id = resource.string("id").value_or("");
      if (fhir::is_fhir_id(id)) ids_.emplace(id);
      return;
    }
    for (const char* key : {"subject", "patient"}) {
      // A subject that is a Group or an absent reference names no patient.
      if (auto ref = fhir::read_reference(resource.object(key))) {
        if (ref->type == "Patient" && !ref->id.empty()) {
          ids_.insert(ref->id);
          return;
        }
      }
    }
  } catch (const BulkExportError&) {
    throw;
  } catch (const fhir::Error& e) {
    throw BulkExportError(where + ": " + e.what());
  }
}

}  // namespace mst::adapter
