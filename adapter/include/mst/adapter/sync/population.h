// The sync's population when the server cannot say what changed: the
// members of a FHIR Group or List, or a file of patient ids. Parsing is
// pure; read_population() does the one read. A population that cannot be
// read whole is an error, never a shorter population: a member missing by
// accident would count as having left.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/client.h"
#include "mst/fhir/error_kind.h"
#include "mst/fhir/json.h"

namespace mst::adapter {

class PopulationError : public ::mst::Error {
 public:
  using ::mst::Error::Error;
  ErrorKind error_kind() const override { return ErrorKind::kConfiguration; }
};

// sync.population: "search" | "group:<id>" | "list:<id>" | "file:<path>".
struct PopulationSource {
  enum class Kind { kSearch, kGroup, kList, kFile };
  Kind kind = Kind::kSearch;
  std::string target;  // the Group or List id, or the file path

  // Throws PopulationError saying which forms are accepted.
  static PopulationSource parse(std::string_view text);
  std::string describe() const;  // "Group/abc", "List/x", "file ids.txt", "search"
};

// Patient ids (sorted, unique) of a Group's current members: not
// `inactive`, and `period` (if any) covering `now_ms`. `server_base` is the
// base an absolute member reference must have.
std::vector<std::string> group_members(fhir::Node group, std::string_view server_base,
                                       std::int64_t now_ms);
// Patient ids (sorted, unique) of a List's entries not marked `deleted`.
std::vector<std::string> list_members(fhir::Node list, std::string_view server_base);
// Patient ids (sorted, unique) of a file: one id (or Patient/id) a line;
// blank lines and `#` comments are skipped. `name` is used in errors.
std::vector<std::string> file_members(std::string_view text, const std::string& name);

// Reads the population of a Group, List or file source (not kSearch).
// PopulationError for a malformed population; fhir::ClientError when the
// server cannot be read.
std::vector<std::string> read_population(const PopulationSource& source, fhir::Client& client,
                                         std::int64_t now_ms);

}  // namespace mst::adapter
