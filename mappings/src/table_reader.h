// Internal: reading table files into raw entries with the documented
// precedence (replace / merge / remove by key), and typed field access that
// reports errors as CodeTableError naming the file and the entry.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/json.h"

namespace mst::mappings::detail {

struct SourceFile {
  std::string name;  // file name as shown in errors (last two path parts)
  fhir::JsonDocument doc;
};

// One entry after applying precedence: the JSON objects that define it,
// oldest first (one unless later files merged into it).
struct RawEntry {
  std::string key;
  struct Part {
    fhir::Node node;
    int file = 0;
  };
  std::vector<Part> parts;
  int file() const { return parts.back().file; }
};

class TableReader {
 public:
  explicit TableReader(std::set<std::string, std::less<>> known_kinds)
      : known_kinds_(std::move(known_kinds)) {}

  // Reads every *.json of each directory, in the documented order.
  void read_dirs(const std::vector<std::filesystem::path>& dirs);

  const std::vector<SourceFile>& files() const { return files_; }
  const std::string& file_name(int file) const {
    return files_.at(static_cast<std::size_t>(file)).name;
  }
  // Entries of one kind, sorted by key.
  std::vector<RawEntry> entries(std::string_view kind) const;

 private:
  void read_file(const std::filesystem::path& path);

  std::set<std::string, std::less<>> known_kinds_;
  std::vector<SourceFile> files_;
  std::map<std::string, std::map<std::string, RawEntry>, std::less<>> kinds_;
};

// Typed access to one raw entry's fields; every error names file and entry.
class EntryView {
 public:
  EntryView(const TableReader& reader, const RawEntry& e, std::set<std::string_view> allowed);

  const std::string& key() const { return e_.key; }
  int file() const { return e_.file(); }
  const std::string& file_name() const { return reader_.file_name(e_.file()); }

  // The last part that has `field`.
  fhir::Node field(std::string_view name) const;
  std::string string(std::string_view name, bool required) const;
  std::optional<double> number(std::string_view name) const;
  std::optional<int> integer(std::string_view name) const;  // null -> nullopt
  bool boolean(std::string_view name) const;
  // Concatenation of a string array across parts.
  std::vector<std::string> strings(std::string_view name) const;
  // Each array element across parts, with the file it came from.
  std::vector<RawEntry::Part> items(std::string_view name) const;
  // Each member of an object field across parts (later parts override).
  std::vector<std::pair<std::string, RawEntry::Part>> members(std::string_view name) const;

  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void fail_in(int file, const std::string& message) const;

 private:
  const TableReader& reader_;
  const RawEntry& e_;
};

}  // namespace mst::mappings::detail
