// Test helpers: the shipped tables, and throw-away site table directories.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "mst/fhir/datatypes.h"
#include "mst/mappings/code_tables.h"

namespace mst::mappings::testing {

inline std::filesystem::path shipped_tables_dir() {
  return std::filesystem::path(MST_SOURCE_DIR) / "mappings" / "tables";
}

inline const CodeTables& shipped_tables() {
  static const CodeTables tables = CodeTables::load({shipped_tables_dir()});
  return tables;
}

// A directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("mst-tables-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }

 private:
  std::filesystem::path path_;
};

// A CodeableConcept with one coding (views into the given strings).
inline fhir::CodeableConcept cc(std::string_view system, std::string_view code) {
  fhir::CodeableConcept c;
  c.codings.push_back(fhir::Coding{system, code, {}});
  return c;
}

inline fhir::CodeableConcept text_cc(std::string_view text) {
  fhir::CodeableConcept c;
  c.text = text;
  return c;
}

}  // namespace mst::mappings::testing
