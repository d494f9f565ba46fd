// `mst-adapter conformance`: writes the adapter's terminology (CodeSystems
// and ValueSets, terminology.h) for a canonical base, one file per resource.
// The package in conformance/terminology/ is this command's output for the
// default base; a hospital runs it with its own.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "input_file.h"
#include "mst/adapter/cli/command.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/adapter/cli/terminology.h"
#include "mst/mappings/canonical_base.h"
#include "pipeline_setup.h"

namespace mst::adapter::cli {

namespace {

namespace fs = std::filesystem;

std::vector<TableSource> read_tables(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& de : fs::directory_iterator(dir, ec)) {
    if (de.path().extension() == ".json" && de.is_regular_file(ec)) files.push_back(de.path());
  }
  if (ec) throw UsageError("cannot list --tables " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<TableSource> out;
  for (const auto& f : files) {
    out.push_back({f.filename().string(),
                   read_input_file(f.string(), fhir::ParseLimits{}.max_bytes, "table file")});
  }
  return out;
}

int run_conformance(const ParsedArgs& args, Context& context) {
  const std::string out_dir = args.get("out").value_or("");
  if (out_dir.empty()) throw UsageError("--out DIR is required");
  const std::string base = args.get("base").value_or(std::string(mappings::kDefaultCanonicalBase));
  const std::string tables = args.get("tables").value_or(default_tables_dir());
  const auto resources = terminology_resources(read_tables(tables), base, MST_VERSION);

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw UsageError("cannot create --out " + out_dir + ": " + ec.message());
  for (const auto& r : resources) {
    const fs::path path = fs::path(out_dir) / r.file_name;
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << terminology_file_text(r);
    f.close();
    if (!f) throw UsageError("cannot write " + path.string());
  }
  context.out << "wrote " << resources.size() << " resources to " << out_dir << "\n";
  return kSuccess;
}

const bool registered = register_command({
    "conformance",
    "write the adapter's CodeSystems and ValueSets (FHIR R4 JSON) for a canonical base",
    "conformance --out DIR [--base URL] [--tables DIR]",
    "",
    "Writes one file per resource to DIR: a CodeSystem and an all-codes ValueSet for each code\n"
    "system of the adapter's own (mst-goal, mst-measure, mst-observation) and a ValueSet of the\n"
    "standard codes each code table reads. URLs are under --base (default the adapter's\n"
    "default canonical base). conformance/terminology/ is this output for the default base:\n"
    "  mst-adapter conformance --out conformance/terminology\n"
    "(docs/conformance.md).",
    {{"out", "DIR", "directory to write the resources to", ""},
     {"base", "URL", "canonical base of the resources' URLs", ""},
     {"tables", "DIR", "code tables to read (default: the shipped tables)", ""}},
    run_conformance,
});

}  // namespace

}  // namespace mst::adapter::cli
