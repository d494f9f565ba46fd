// What run, explain and sync share: their options, the code tables and rule
// thresholds, the as-of day, and the pipeline built from the configuration.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mst/adapter/cli/args.h"
#include "mst/adapter/cli/command.h"
#include "mst/adapter/cli/server_options.h"
#include "mst/adapter/config.h"
#include "mst/adapter/goals/rule_thresholds.h"
#include "mst/adapter/logger.h"
#include "mst/adapter/pipeline/pipeline.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/patient_record.h"

namespace mst::adapter::cli {

// --as-of, --tables, --site-tables, --concept-maps, --rules, --log-level,
// --log-format.
std::vector<OptionSpec> pipeline_options();

// The loaded inputs every patient run shares. Owns the tables and
// thresholds the Pipeline refers to.
struct PipelineSetup {
  AdapterConfig config;
  std::unique_ptr<mappings::CodeTables> tables;
  std::unique_ptr<RuleThresholds> thresholds;
  fhir::DateTime as_of = fhir::DateTime::from_ymd(1970, 1, 1);
  std::unique_ptr<Logger> log;
  PipelineSettings settings;
};

// The site ConceptMaps of adapter.concept_maps (ConceptMapError names the
// file and element); empty when none are configured.
mappings::ConceptMapSet load_concept_map_files(const AdapterConfig& config);

// Adds the maps of adapter.concept_map_urls, read from the server with
// GET [base]/ConceptMap?url=..., to the tables' site maps (the files of
// adapter.concept_maps stay). Nothing to do when no URL is configured.
// ConfigError when the server holds no map with a configured URL,
// ConceptMapError when one is invalid; client errors as thrown.
void load_server_concept_maps(PipelineSetup& setup, fhir::Client& client,
                              const fhir::SearchLimits& limits);

// Loads tables, site ConceptMaps and thresholds (CodeTableError,
// ConceptMapError and ConfigError name the file),
// fixes the as-of day (adapter.as_of, else today in UTC from the context's
// clock) and the logger (stderr).
PipelineSetup load_pipeline_setup(const AdapterConfig& config, Context& context);

// Throws ConfigError when the adapter is about to write to a server that is
// not on this machine under a canonical base in a reserved example domain
// (RFC 2606 / RFC 6761: example.org, .test, .invalid, ...): every install
// keeping the example would share one identifier space. Tests and the demo
// write to a loopback server and may keep it.
void require_own_canonical_base(const AdapterConfig& config);

// The directory of the shipped code tables.
std::string default_tables_dir();

// The patient record of an offline --input Bundle. A file that cannot be
// read, or that holds several Patients when no --patient chooses one, is a
// UsageError (exit 2), never an internal error.
mappings::PatientRecord read_input_record(const std::string& path, const std::string& patient);

}  // namespace mst::adapter::cli
