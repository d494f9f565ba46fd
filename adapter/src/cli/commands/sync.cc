// `mst-adapter sync`: the scheduled sync against a FHIR server.
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "mst/adapter/cli/command.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/adapter/ops/instrumented_transport.h"
#include "mst/adapter/ops/metrics.h"
#include "mst/adapter/ops/ops_server.h"
#include "mst/adapter/sync/bulk_export_feed.h"
#include "mst/adapter/sync/bulk_type_filter.h"
#include "mst/adapter/sync/export_records.h"
#include "mst/adapter/sync/fhir_change_feed.h"
#include "mst/adapter/sync/population.h"
#include "mst/adapter/sync/population_feed.h"
#include "mst/adapter/sync/postgres_state_store.h"
#include "mst/adapter/sync/state_store.h"
#include "mst/adapter/sync/sync_engine.h"
#include "mst/adapter/sync/sync_service.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/safe_text.h"
#include "pipeline_setup.h"
#include "stop_signal.h"

namespace mst::adapter::cli {

namespace {

std::vector<OptionSpec> sync_options() {
  auto o = server_options();
  for (auto& p : pipeline_options()) o.push_back(p);
  o.push_back({"once", "", "run one cycle and exit (default: repeat every --interval)", ""});
  o.push_back({"interval", "SECONDS", "seconds between cycles", "sync.interval_s"});
  o.push_back({"state", "PATH|URL", "SQLite file, or postgresql:// URL, of the sync state",
               "sync.state_path"});
  o.push_back({"state-server-moved", "",
               "the --state file's servers are now reached at --server's (and --target's) URL: "
               "keep its state",
               ""});
  o.push_back({"concurrency", "N", "patients processed at once", "sync.concurrency"});
  o.push_back(
      {"shard", "I/N", "process only patients whose id hashes to shard I of N", "sync.shard"});
  o.push_back(
      {"listen", "HOST:PORT", "serve /healthz, /readyz and /metrics here", "service.listen"});
  o.push_back(
      {"population", "SOURCE", "search | group:ID | list:ID | file:PATH", "sync.population"});
  o.push_back({"changes", "MODE", "auto | last-updated | repull | bulk-export", "sync.changes"});
  o.push_back({"bulk-data", "WHAT", "ids | records: what a full bulk export is used for",
               "sync.bulk_data"});
  o.push_back({"repull-budget", "N", "patients pulled per cycle (0: all)", "sync.repull_budget"});
  o.push_back({"repull-interval", "SECONDS", "pull a member again after this long (0: every cycle)",
               "sync.repull_interval_s"});
  return o;
}

// The servers a state file belongs to: the source's base URL and, when
// plans go to another server, " -> " and the target's. A new target holds
// none of the plans the state says were written, so it needs a new state
// (or --state-server-moved when it is the same server at a new URL).
std::string server_key(const AdapterConfig& config) {
  auto base = [](std::string b) {
    while (!b.empty() && b.back() == '/') b.pop_back();
    return b;
  };
  std::string key = base(config.server.base_url);
  if (separate_target(config)) key += " -> " + base(config.target.base_url);
  return key;
}

// Opening fails for reasons of configuration (the file is another sync's,
// or another server's or shard's, or its directory is missing, or the
// database is unreachable): exit 2 with the state named (never its
// password), before any patient is touched.
std::unique_ptr<StateStore> open_state(const AdapterConfig& config, const ParsedArgs& args) {
  const bool postgres = is_postgres_location(config.sync.state_path);
  if (postgres && config.sync.shard_count != 1) {
    // Leases divide the work among any number of workers; a shard would
    // leave the others' patients to no one.
    throw ConfigError("--shard is for SQLite state files; workers sharing a PostgreSQL state (" +
                      redact_postgres_url(config.sync.state_path) +
                      ") divide the patients by leases: drop --shard");
  }
  try {
    auto state = open_state_store({.location = config.sync.state_path,
                                   .password_env = config.sync.state_password_env,
                                   .worker_id = config.sync.worker_id,
                                   .lease_ms = std::int64_t{config.sync.lease_s} * 1000});
    state->bind_to(
        server_key(config),
        std::to_string(config.sync.shard_index) + "/" + std::to_string(config.sync.shard_count),
        args.has("state-server-moved"));
    return state;
  } catch (const StateStoreError& e) {
    throw ConfigError(e.what());
  }
}

// The change feeds a sync can use over one client, and the one its
// configuration picks (docs/operations.md). The feeds refer to each other
// and to this object: it neither moves nor copies.
class SyncFeeds {
 public:
  SyncFeeds(const AdapterConfig& config, const PipelineSetup& setup, fhir::Client& client,
            const std::shared_ptr<fhir::Clock>& clock)
      : client_(client),
        clock_(clock),
        population_(PopulationSource::parse(config.sync.population)),
        last_updated_(client, *setup.tables,
                      {.overlap_s = config.sync.overlap_s,
                       .own_identifier_system = setup.settings.pull.own_identifier_system},
                      clock),
        repull_([this] { return list_population(); }, clock),
        relevant_(*setup.tables,
                  {.observation_categories = setup.settings.pull.observation_categories,
                   .code_search_category = setup.settings.pull.code_search_category}),
        records_(export_records(config, setup)),
        bulk_(client, bulk_options(config, setup), clock, *setup.log),
        auto_([this] { return client_.capabilities(); }, group() ? nullptr : &last_updated_,
              exportable() ? &bulk_ : nullptr, group(), repull_, *setup.log),
        chosen_(choose(config.sync.changes)) {}
  SyncFeeds(const SyncFeeds&) = delete;
  SyncFeeds& operator=(const SyncFeeds&) = delete;

  ChangeFeed& chosen() { return *chosen_; }
  // The records of the last full export (sync.bulk_data=records), or null.
  ExportRecords* records() const { return records_.get(); }

 private:
  bool group() const { return population_.kind == PopulationSource::Kind::kGroup; }
  bool search() const { return population_.kind == PopulationSource::Kind::kSearch; }
  // Bulk Data $export (docs/operations.md "Bulk export"): a Group
  // population exports the Group, a search population every patient.
  bool exportable() const { return group() || search(); }

  std::int64_t epoch_now() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_->now().time_since_epoch())
        .count();
  }
  // Without _lastUpdated, the population is listed whole every cycle: the
  // members of a Group, List or file, or (population `search`) every
  // patient the first-run Condition search finds.
  std::vector<std::string> list_population() {
    if (search()) return last_updated_.changed_since(std::nullopt).patient_ids;
    return read_population(population_, client_, epoch_now());
  }

  BulkExportOptions bulk_options(const AdapterConfig& config, const PipelineSetup& setup) {
    BulkExportOptions o;
    if (group()) {
      o.group_id = population_.target;
      o.members = [this] { return read_population(population_, client_, epoch_now()); };
    }
    o.max_wait = std::chrono::seconds(config.sync.bulk_max_wait_s);
    o.max_poll = std::chrono::seconds(config.sync.bulk_max_poll_s);
    o.own_identifier_system = setup.settings.pull.own_identifier_system;
    o.records = records_.get();
    // Checked when the configuration was read.
    o.type_filters = parse_type_filters(config.sync.bulk_type_filter, o.types);
    return o;
  }

  // A scratch file beside the state file, gone when the sync exits.
  std::unique_ptr<ExportRecords> export_records(const AdapterConfig& config,
                                                const PipelineSetup& setup) {
    if (config.sync.bulk_data != "records") return nullptr;
    try {
      return std::make_unique<ExportRecords>(
          config.sync.state_path + ".export", relevant_,
          ExportRecordOptions{.max_resources_per_patient =
                                  setup.settings.pull.limits.max_resources});
    } catch (const StateStoreError& e) {
      throw ConfigError(e.what());
    }
  }

  ChangeFeed* choose(const std::string& changes) {
    if (changes == "bulk-export") {
      if (!exportable()) {
        throw ConfigError(
            "sync.changes=bulk-export needs sync.population=search or group:<id>: a " +
            population_.describe() + " population is re-pulled (sync.changes=repull)");
      }
      return &bulk_;
    }
    if (!search()) {
      if (changes == "last-updated") {
        throw ConfigError("sync.changes=last-updated needs sync.population=search: a " +
                          population_.describe() +
                          " population is re-pulled (sync.changes=repull)");
      }
      return changes == "repull" || !group() ? static_cast<ChangeFeed*>(&repull_) : &auto_;
    }
    if (changes == "last-updated") return &last_updated_;
    if (changes == "repull") return &repull_;
    return &auto_;
  }

  fhir::Client& client_;
  std::shared_ptr<fhir::Clock> clock_;
  const PopulationSource population_;
  FhirChangeFeed last_updated_;
  PopulationFeed repull_;
  detail::RelevantResourceFilter relevant_;
  std::unique_ptr<ExportRecords> records_;
  BulkExportFeed bulk_;
  AutoChangeFeed auto_;
  ChangeFeed* chosen_;
};

SyncOptions engine_options(const AdapterConfig& config) {
  return {.concurrency = config.sync.concurrency,
          .shard_index = config.sync.shard_index,
          .shard_count = config.sync.shard_count,
          .retry = {config.sync.retry_base_s * 1000LL, config.sync.retry_max_s * 1000LL,
                    config.sync.quarantine_after},
          .progress = ::isatty(STDERR_FILENO) != 0 && config.log_format != "json",
          .budget = static_cast<std::size_t>(config.sync.repull_budget),
          .repull_interval_ms = config.sync.repull_interval_s * 1000LL,
          // Workers sharing PostgreSQL lease a few patients per thread at a
          // time, so a batch ends well within its lease and the others share
          // the rest; one SQLite process takes every due patient at once.
          .claim_batch = is_postgres_location(config.sync.state_path)
                             ? static_cast<std::size_t>(config.sync.concurrency) * 2
                             : 0};
}

// Runs one patient through the pipeline, timed and counted for /metrics.
// With a full export's records, the record is the export's; a patient it
// cannot vouch for is pulled.
PatientProcessor measured(Pipeline& pipeline, ExportRecords* records, Metrics& metrics, Logger& log,
                          std::shared_ptr<fhir::Clock> clock) {
  return [&pipeline, records, &metrics, &log, clock = std::move(clock)](const std::string& id) {
    const auto started = clock->steady_now();
    std::optional<PulledRecord> exported;
    // A `_since` export's patients are pulled, as with sync.bulk_data=ids.
    if (records && records->holds_export()) {
      try {
        exported = records->record(id);
      } catch (const std::exception& e) {
        PatientOutcome failed;
        const Classification c = classify(e);
        failed.kind = OutcomeKind::kFailed;
        failed.error_kind = c.kind;
        failed.retryable = c.retryable;
        failed.detail = fhir::safe_text(e.what());
        return failed;
      }
      metrics.count("mst_bulk_records_total", exported ? "export" : "pulled");
      if (!exported) log.info("sync.bulk_record_pulled", {{"patient", id}});
    }
    PatientOutcome o =
        exported ? pipeline.run_record_safely(*exported).outcome : pipeline.run_safely(id).outcome;
    metrics.observe("mst_patient_duration_seconds",
                    std::chrono::duration<double>(clock->steady_now() - started).count());
    if (o.kind == OutcomeKind::kWritten) metrics.count("mst_plans_written_total");
    if (o.kind == OutcomeKind::kUnchanged) metrics.count("mst_plans_unchanged_total");
    if (o.kind == OutcomeKind::kSkipped)
      metrics.count("mst_plans_skipped_total", skip_reason_name(o.skip_reason));
    return o;
  };
}

std::unique_ptr<OpsServer> start_ops(const AdapterConfig& config, Metrics& metrics,
                                     const SyncService& service, Logger& log) {
  if (config.listen.empty()) return nullptr;
  std::unique_ptr<OpsServer> ops;
  try {
    ops = std::make_unique<OpsServer>(config.listen, metrics,
                                      [&service] { return service.readiness(); });
  } catch (const std::runtime_error& e) {
    throw ConfigError(std::string("service.listen: ") + e.what());  // bad address or port in use
  }
  log.info("ops.listening", {{"port", std::to_string(ops->port())}});
  return ops;
}

int run_sync(const ParsedArgs& args, Context& context) {
  const auto specs = sync_options();
  AdapterConfig config = resolve_config(args, specs, context);
  PipelineSetup setup = load_pipeline_setup(config, context);
  require_own_canonical_base(config);
  Metrics metrics;
  // Every exchange with the server is counted and timed for /metrics.
  Context instrumented = context;
  instrumented.make_transport =
      [&](const fhir::TransportOptions& o) -> std::shared_ptr<fhir::HttpTransport> {
    return std::make_shared<InstrumentedTransport>(context.make_transport(o), metrics);
  };
  Connections servers = connect_source_and_target(config, instrumented);
  Connection& connection = servers.source;
  const std::unique_ptr<StateStore> state = open_state(config, args);
  load_server_concept_maps(setup, *connection.client, connection.limits);
  Pipeline pipeline(servers.source.client.get(), servers.target.client.get(), *setup.tables,
                    *setup.thresholds, setup.settings);
  SyncFeeds feeds(config, setup, *connection.client, context.clock);
  SyncEngine engine(*state, feeds.chosen(),
                    measured(pipeline, feeds.records(), metrics, *setup.log, context.clock),
                    engine_options(config), *setup.log, metrics, context.clock);

  SyncService service(
      [&](const std::atomic<bool>& stop) { return engine.run_once(stop); }, g_stop, context.clock,
      *setup.log,
      {.once = args.has("once"), .interval = std::chrono::seconds(config.sync.interval_s)});
  const std::unique_ptr<OpsServer> ops = start_ops(config, metrics, service, *setup.log);
  const StopOnSignal stop_on_signal;
  const int failed = service.run();
  // Requests per patient, for a benchmark of many workers without a proxy
  // in the path (bench/run-population.sh): this process's exchanges, by status.
  const auto requests = [&metrics](const char* status) {
    return std::to_string(metrics.counter("mst_fhir_requests_total", status));
  };
  setup.log->info("sync.requests", {{"2xx", requests("2xx")},
                                    {"3xx", requests("3xx")},
                                    {"4xx", requests("4xx")},
                                    {"5xx", requests("5xx")},
                                    {"no_response", requests("no-response")}});
  return failed > 0 ? kPartial : kSuccess;
}

const bool registered = register_command({
    "sync",
    "process every patient whose relevant data changed since the last checkpoint",
    "sync --server URL [--once | --interval SECONDS] [--state PATH] [--concurrency N]",
    "",
    "Finds patients whose Conditions, relevant Observations, CarePlans, Procedures or\n"
    "medication records changed since the checkpoint (on the first run: every patient with a\n"
    "spinal or bone metastasis, a neurological deficit or compression, or a haematological or\n"
    "spinal primary tumour Condition),\n"
    "runs each through the same pipeline as `run`, and keeps its state in SQLite (or, with\n"
    "--state postgresql://..., in a database any number of workers share by leases). The\n"
    "checkpoint moves only when every changed patient was processed; failures retry with\n"
    "backoff and a patient that keeps failing is quarantined without blocking the rest.\n"
    "SIGINT/SIGTERM finish the patients in flight and exit cleanly. Exit 5 when some\n"
    "patients failed.\n"
    "Servers without _lastUpdated: --population group:ID | list:ID | file:PATH names who to\n"
    "look after, re-read every cycle; --changes repull (or auto, by the CapabilityStatement)\n"
    "re-pulls them, least recently checked first, at most --repull-budget per cycle. An\n"
    "unchanged patient's re-pull writes nothing.\n"
    "--changes bulk-export (or auto, when the server declares $export and lacks _lastUpdated)\n"
    "finds changed patients with a Bulk Data export _since the last export's transactionTime;\n"
    "--bulk-data records takes a full export's resources as the patients' records (no pull).",
    sync_options(),
    run_sync,
});

}  // namespace

}  // namespace mst::adapter::cli
