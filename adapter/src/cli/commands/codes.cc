// `mst-adapter codes`: what a site's data holds that neither the code tables
// nor the configured site ConceptMaps map, and a draft ConceptMap for the
// integration engineer to complete.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>

#include "input_file.h"
#include "mst/adapter/cli/command.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/json.h"
#include "mst/mappings/text.h"
#include "mst/mappings/unmapped_codes.h"
#include "pipeline_setup.h"

namespace mst::adapter::cli {

namespace {

// The resource types whose codes the extractor reads (unmapped_codes.h).
constexpr const char* kServerTypes[] = {"Condition",
                                        "Observation",
                                        "Procedure",
                                        "MedicationRequest",
                                        "MedicationAdministration",
                                        "MedicationStatement"};

std::vector<OptionSpec> codes_options() {
  auto o = server_options();
  for (auto& p : pipeline_options()) o.push_back(p);
  o.push_back(
      {"input", "DIR", "read the *.json Bundles of DIR (or one Bundle file); no server", ""});
  o.push_back({"output", "FILE", "write a draft ConceptMap of the unmapped codes to FILE", ""});
  o.push_back({"map-url", "URL", "canonical url of the draft ConceptMap", ""});
  return o;
}

std::vector<std::filesystem::path> input_files(const std::string& input) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(input, ec)) return {input};
  if (!std::filesystem::is_directory(input, ec)) {
    throw UsageError("--input " + input + " is neither a directory nor a file");
  }
  std::vector<std::filesystem::path> files;
  for (const auto& de : std::filesystem::directory_iterator(input, ec)) {
    if (de.path().extension() == ".json" && de.is_regular_file(ec)) files.push_back(de.path());
  }
  if (ec) throw UsageError("cannot list --input " + input + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

// Reads every file into `collector`; a file that cannot be read or parsed is
// reported on stderr and skipped. Returns the number skipped.
int read_offline(const std::string& input, mappings::UnmappedCodeCollector& collector,
                 std::size_t& sources, Context& context) {
  int skipped = 0;
  for (const auto& path : input_files(input)) {
    std::string text;
    try {
      text = read_input_file(path.string(), fhir::ParseLimits{}.max_bytes, "file");
    } catch (const UsageError& e) {
      context.err << "mst-adapter: skipped " << path.string() << ": " << e.what() << "\n";
      ++skipped;
      continue;
    }
    try {
      fhir::JsonDocument doc = fhir::JsonDocument::parse(text);
      collector.add(doc.root());
      ++sources;
    } catch (const fhir::ParseError& e) {
      context.err << "mst-adapter: skipped " << path.string() << ": " << e.what() << "\n";
      ++skipped;
    }
  }
  return skipped;
}

// Searches every resource of each type on the server. Returns the number
// of searches that stopped before the server's last page.
int read_server(const Connection& connection, mappings::UnmappedCodeCollector& collector,
                std::size_t& sources, Context& context) {
  int incomplete = 0;
  for (const char* type : kServerTypes) {
    fhir::SearchResult result;
    try {
      result = connection.client->search(type, {{"_count", "200"}}, connection.limits);
    } catch (const fhir::NotFound&) {
      continue;  // the server does not hold this type
    }
    for (const fhir::Node& r : result.resources) collector.add(r);
    sources += result.pages.size();
    if (!result.complete) {
      context.err << "mst-adapter: warning: " << type << " search stopped early ("
                  << result.incomplete_reason << "); the counts cover what was read\n";
      ++incomplete;
    }
  }
  return incomplete;
}

std::string code_column(const mappings::UnmappedCode& u) {
  if (u.code.empty()) return "text \"" + u.text + "\"";
  return mappings::one_line(u.system + "|" + u.code);
}

int run_codes(const ParsedArgs& args, Context& context) {
  const auto specs = codes_options();
  const auto input = args.get("input");
  if (input && args.has("server")) {
    throw UsageError("--input reads files; drop --server (or drop --input to use the server)");
  }
  AdapterConfig config = resolve_config(args, specs, context);
  if (!input && config.server.base_url.empty()) {
    throw UsageError("codes needs --input DIR or a FHIR server (--server URL)");
  }
  PipelineSetup setup = load_pipeline_setup(config, context);
  std::optional<Connection> connection;
  if (!input) {
    connection = connect(config, context);
    load_server_concept_maps(setup, *connection->client, connection->limits);
  }
  mappings::UnmappedCodeCollector collector(*setup.tables);
  std::size_t sources = 0;
  const int problems = input ? read_offline(*input, collector, sources, context)
                             : read_server(*connection, collector, sources, context);
  const auto codes = collector.result();

  std::ostream& out = context.out;
  out << "read " << collector.resources() << " resource(s) from " << sources
      << (input ? " file(s)" : " page(s)");
  if (collector.unreadable() > 0) out << "; " << collector.unreadable() << " unreadable";
  if (!setup.tables->concept_maps().empty()) {
    out << "; site maps: " << setup.tables->concept_maps().maps().size();
  }
  out << "\n";
  if (codes.empty()) {
    out << "every code and text read is mapped by the tables or a site map\n";
  } else {
    out << codes.size() << " unmapped code(s) and text(s), most frequent first:\n";
    out << "  count  element  code  display  example\n";
    for (const auto& u : codes) {
      out << std::string(u.count < 100000 ? 7 - std::to_string(u.count).size() : 0, ' ') << u.count
          << "  " << u.element << "  " << code_column(u) << "  \""
          << mappings::one_line(u.code.empty() ? "" : u.display) << "\"  "
          << mappings::one_line(u.example) << "\n";
    }
  }
  if (auto path = args.get("output")) {
    const std::string draft =
        mappings::draft_concept_map(codes, args.get("map-url").value_or("")).dump(true);
    std::ofstream file(*path, std::ios::binary);
    file << draft << "\n";
    if (!file) throw UsageError("cannot write output file " + *path);
    out << "draft ConceptMap written to " << *path
        << ": complete its targets, then name it in adapter.concept_maps\n";
  }
  return problems > 0 ? kPartial : kSuccess;
}

const bool registered = register_command({
    "codes",
    "list the site's codes that no table or site ConceptMap maps; draft a ConceptMap",
    "codes --input DIR | codes --server URL [--output FILE] [--concept-maps FILES]",
    "",
    "Reads the *.json Bundles of --input DIR (offline), or every Condition, Observation,\n"
    "Procedure and medication resource of --server, and lists the codes and texts of the\n"
    "elements the adapter reads (Condition.code and bodySite, Observation.code, bodySite and\n"
    "coded value, Procedure.code, medication codes) that neither the code tables nor the\n"
    "configured site ConceptMaps map, with counts and an example resource, most frequent\n"
    "first. --output writes a draft R4 ConceptMap with one element per unmapped code: fill in\n"
    "its targets and name it in adapter.concept_maps (docs/considerations.md). Exit 0 when\n"
    "done; 5 when a file was skipped or a server search stopped early.",
    codes_options(),
    run_codes,
});

}  // namespace

}  // namespace mst::adapter::cli
