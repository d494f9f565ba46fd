// The pure parts of a FHIR Bulk Data export (Bulk Data Access IG v2,
// https://hl7.org/fhir/uv/bulkdata/export.html): the completion manifest,
// and the NDJSON output files read line by line for the patients they name.
#pragma once

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/error_kind.h"
#include "mst/fhir/json.h"

namespace mst::adapter {

class BulkExportError : public ::mst::Error {
 public:
  using ::mst::Error::Error;
  ErrorKind error_kind() const override { return ErrorKind::kServer; }
};

struct BulkFile {
  std::string type;  // the resource type the file holds
  std::string url;
};

struct BulkManifest {
  // The server's time the export covers changes up to: the next `_since`.
  std::string transaction_time;
  bool requires_access_token = false;
  std::vector<BulkFile> output;
  std::vector<BulkFile> error;  // OperationOutcome files: resources the export lost
};

// Reads a completion manifest. Throws BulkExportError naming what is wrong
// (no transactionTime, an output without an absolute url, ...).
BulkManifest parse_manifest(fhir::Node manifest);

// Collects the patient ids an NDJSON file names: a Patient's own id, else
// the Patient its `subject` or `patient` references. Fed in chunks of any
// size, it holds at most one line at a time. `keep` may drop a resource
// (the adapter's own plans are not input).
class NdjsonPatientReader {
 public:
  using Keep = std::function<bool(std::string_view type, fhir::Node resource)>;
  NdjsonPatientReader(std::string file_name, Keep keep, std::size_t max_line_bytes);

  // Also hands every kept resource, with its line, to `sink` (an export's
  // records spilled to disk), before the next line is read.
  using Sink =
      std::function<void(std::string_view type, fhir::Node resource, std::string_view line)>;
  void set_sink(Sink sink) { sink_ = std::move(sink); }

  // Throws BulkExportError naming the file and line of a line that is not a
  // JSON object with a resourceType, or longer than max_line_bytes.
  void feed(std::string_view chunk);
  // The last line need not end with a newline.
  void finish();

  const std::set<std::string>& patient_ids() const { return ids_; }
  std::size_t lines() const { return line_; }

 private:
  void read_line(std::string_view line);

  std::string name_;
  Keep keep_;
  Sink sink_;
  std::size_t max_line_bytes_;
  std::string partial_;  // the line begun in an earlier chunk
  std::size_t line_ = 0;
  std::set<std::string> ids_;
};

}  // namespace mst::adapter
