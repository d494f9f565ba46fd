#include "pipeline_setup.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "input_file.h"
#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/cli/args.h"
#include "mst/fhir/auth.h"
#include "mst/fhir/json.h"
#include "mst/fhir/url.h"

namespace mst::adapter::cli {

std::vector<OptionSpec> pipeline_options() {
  return {
      {"as-of", "YYYY-MM-DD", "the day the plan is computed for (default: today, UTC)",
       "adapter.as_of"},
      {"tables", "DIR", "code tables directory (default: the shipped tables)",
       "adapter.tables_dir"},
      {"site-tables", "DIRS", "comma-separated site table directories that override",
       "adapter.site_tables"},
      {"concept-maps", "FILES", "comma-separated site ConceptMap files (local codes)",
       "adapter.concept_maps"},
      {"rules", "FILE", "JSON file overriding goal-rule thresholds", "adapter.rules_file"},
      {"log-level", "LEVEL", "debug | info | warn | error (logs go to stderr)", "log.level"},
      {"log-format", "FORMAT", "text | json", "log.format"},
  };
}

std::string default_tables_dir() {
  // An installed adapter carries its tables beside it; a build tree reads
  // them from the source tree it was configured from.
  for (const char* dir : {MST_SOURCE_TABLES_DIR, MST_INSTALLED_TABLES_DIR}) {
    if (std::filesystem::is_directory(dir)) return dir;
  }
  return MST_SOURCE_TABLES_DIR;
}

mappings::ConceptMapSet load_concept_map_files(const AdapterConfig& config) {
  std::vector<std::filesystem::path> files(config.concept_maps.begin(), config.concept_maps.end());
  return mappings::ConceptMapSet::load(files);
}

void load_server_concept_maps(PipelineSetup& setup, fhir::Client& client,
                              const fhir::SearchLimits& limits) {
  if (setup.config.concept_map_urls.empty()) return;
  mappings::ConceptMapSet maps = load_concept_map_files(setup.config);
  for (const auto& url : setup.config.concept_map_urls) {
    fhir::SearchResult result = client.search("ConceptMap", {{"url", url}}, limits);
    result.require_complete();
    if (result.resources.empty()) {
      throw ConfigError(
          "configuration key 'adapter.concept_map_urls': the server holds no "
          "ConceptMap with url " +
          url);
    }
    for (const fhir::Node& map : result.resources) maps.add(map, url);
  }
  setup.tables->use_concept_maps(std::move(maps));
}

PipelineSetup load_pipeline_setup(const AdapterConfig& config, Context& context) {
  PipelineSetup s;
  s.config = config;
  std::vector<std::filesystem::path> dirs{config.tables_dir.empty() ? default_tables_dir()
                                                                    : config.tables_dir};
  for (const auto& d : config.site_tables) dirs.emplace_back(d);
  s.tables = std::make_unique<mappings::CodeTables>(
      mappings::CodeTables::load(dirs, config.canonical_base));
  s.tables->use_concept_maps(load_concept_map_files(config));
  const RuleThresholds from_tables = with_table_cutoffs(*s.tables);
  s.thresholds = std::make_unique<RuleThresholds>(
      config.rules_file.empty() ? from_tables
                                : load_thresholds_file(config.rules_file, from_tables));
  if (!config.as_of.empty()) {
    s.as_of = *fhir::DateTime::parse(config.as_of);
  } else {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        context.clock->now().time_since_epoch())
                        .count();
    s.as_of = *fhir::DateTime::parse(fhir::DateTime::from_epoch_ms(ms).date_string());
  }
  LogLevel level = LogLevel::kInfo;
  parse_log_level(config.log_level, level);
  s.log = std::make_unique<Logger>(
      context.err, level, config.log_format == "json" ? LogFormat::kJson : LogFormat::kText);
  s.settings.canonical_base = config.canonical_base;
  s.settings.as_of = s.as_of;
  s.settings.write.mode = parse_write_mode(config.write_mode).value_or(WriteMode::kAuto);
  s.settings.pull.limits.max_pages = static_cast<std::size_t>(config.server.max_pages);
  s.settings.pull.limits.max_resources = static_cast<std::size_t>(config.server.max_resources);
  s.settings.pull.code_search_category = config.server.observation_code_categories;
  s.settings.pull.read_mode = parse_read_mode(config.server.read_mode).value_or(ReadMode::kAuto);
  // server.read_mode speaks for the source. A separate target's ownership
  // searches are batched when that server declares batch, unless the
  // operator asked for searches.
  const ReadMode source_mode = s.settings.pull.read_mode;
  s.settings.write.reads =
      separate_target(config) && source_mode == ReadMode::kBatch ? ReadMode::kAuto : source_mode;
  BuildOptions build;
  build.canonical_base = config.canonical_base;
  s.settings.pull.own_identifier_system = careplan_identifier("Patient/x", build).system;
  return s;
}

namespace {

bool in_reserved_domain(std::string host) {
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view domain :
       {"example", "example.com", "example.net", "example.org", "test", "invalid", "localhost"}) {
    if (host == domain) return true;
    if (host.size() > domain.size() && host.ends_with(domain) &&
        host[host.size() - domain.size() - 1] == '.')
      return true;
  }
  return false;
}

}  // namespace

void require_own_canonical_base(const AdapterConfig& config) {
  // "scheme://host[:port]"; an IPv6 literal ("[...]") is nobody's example.
  const std::string origin = fhir::url_origin(config.canonical_base);
  std::string host = origin.substr(std::min(origin.find("://") + 3, origin.size()));
  if (host.starts_with('[')) return;
  host = host.substr(0, host.find(':'));
  const std::string written_to = target_endpoint(config).server.base_url;
  if (!in_reserved_domain(host) || fhir::is_loopback_url(written_to)) return;
  throw ConfigError(
      "configuration key 'adapter.canonical_base' is " + config.canonical_base +
      ", an example domain: every install keeping it shares one identifier space, so another "
      "system's resources could carry this adapter's identifiers. Set it (or " +
      env_name("adapter.canonical_base") +
      ") to a URL your organisation controls before writing to " + fhir::redact_url(written_to));
}

mappings::PatientRecord read_input_record(const std::string& path, const std::string& patient) {
  fhir::ParseLimits limits;
  // One number no double holds ends its resource (listed as ignored), not the run.
  limits.keep_out_of_range_numbers = true;
  const std::string text = read_input_file(path, limits.max_bytes, "--input");
  try {
    return mappings::PatientRecord::Builder(patient)
        .strict_subjects()
        .add_document(fhir::JsonDocument::parse(text, limits))
        .build();
  } catch (const mappings::RecordError& e) {
    throw UsageError("--input " + path + ": " + e.what());
  } catch (const fhir::ParseError& e) {
    throw UsageError("--input " + path + ": " + e.what());
  }
}

}  // namespace mst::adapter::cli
