// mst-bench-memory: does one stage of the work once on a record file and
// reports the process's peak resident memory, to compare with the input
// size. Run it under /usr/bin/time -v as well (bench/run-benchmarks.sh does).
//
//   mst-bench-memory --mode read|parse|pipeline --input FILE [--tables DIR]
//
// read: the file into memory only (the baseline); parse: + JsonDocument;
// pipeline: + PatientRecord, extract, propose, build, dump (the adapter's
// whole work for one patient). Prints one JSON line.
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/goals/goal_engine.h"
#include "mst/fhir/json.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/extract.h"
#include "mst/mappings/patient_record.h"
#include "record_generator.h"

namespace {

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;  // KiB on Linux
}

// Current resident set from /proc/self/statm, in KiB.
long current_rss_kib() {
  std::ifstream f("/proc/self/statm");
  long pages_total = 0;
  long pages_resident = 0;
  f >> pages_total >> pages_resident;
  return pages_resident * 4;
}

int usage(const std::string& why) {
  std::cerr << "mst-bench-memory: " << why
            << "\nusage: mst-bench-memory --mode read|parse|pipeline --input FILE [--tables DIR]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode;
  std::string input;
  std::string tables_dir = MST_TABLES_DIR;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view arg = argv[i];
    if (arg == "--mode") {
      mode = argv[i + 1];
    } else if (arg == "--input") {
      input = argv[i + 1];
    } else if (arg == "--tables") {
      tables_dir = argv[i + 1];
    } else {
      return usage("unknown option " + std::string(arg));
    }
  }
  if (argc % 2 == 0) return usage("options come in pairs");
  if (mode != "read" && mode != "parse" && mode != "pipeline") return usage("bad --mode");
  if (input.empty()) return usage("--input is required");

  try {
    // The tables are loaded in every mode, so the baseline holds them too.
    const auto tables = mst::mappings::CodeTables::load({tables_dir});
    const long start_kib = current_rss_kib();

    std::string text;
    {
      // Read straight into one buffer: a stringstream would hold a second copy.
      std::ifstream f(input, std::ios::binary | std::ios::ate);
      if (!f) return usage("cannot read " + input);
      text.resize(static_cast<std::size_t>(f.tellg()));
      f.seekg(0);
      if (!f.read(text.data(), static_cast<std::streamsize>(text.size()))) {
        return usage("cannot read " + input);
      }
    }
    std::size_t out_bytes = 0;
    std::size_t resources = 0;
    if (mode == "parse") {
      auto doc = mst::fhir::JsonDocument::parse(text);
      resources = doc.root().array("entry").size();
    } else if (mode == "pipeline") {
      auto record = mst::mappings::PatientRecord::from_bundle(mst::fhir::JsonDocument::parse(text));
      resources = record.conditions().size() + record.observations().size() +
                  record.care_plans().size() + record.procedures().size() +
                  record.medication_uses().size() + record.medications().size() +
                  record.others().size() + (record.patient() ? 1 : 0);
      auto c = mst::mappings::extract(record, tables, mst::bench::RecordSpec{}.as_of);
      auto plan = mst::adapter::propose(c);
      if (!plan.applicable) {
        std::cerr << "mst-bench-memory: no plan: " << plan.not_applicable_reason << '\n';
        return 1;
      }
      out_bytes = mst::adapter::build_transaction(c, plan).dump().size();
    }
    std::printf(
        "{\"mode\":\"%s\",\"input_bytes\":%zu,\"resources\":%zu,\"output_bytes\":%zu,"
        "\"start_rss_kib\":%ld,\"peak_rss_kib\":%ld}\n",
        mode.c_str(), text.size(), resources, out_bytes, start_kib, peak_rss_kib());
  } catch (const std::exception& e) {
    std::cerr << "mst-bench-memory: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
