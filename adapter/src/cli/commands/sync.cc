// `mst-adapter sync`: the scheduled sync against a FHIR server.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "mst/adapter/cli/command.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/adapter/ops/instrumented_transport.h"
#include "mst/adapter/ops/metrics.h"
#include "mst/adapter/ops/ops_server.h"
#include "mst/adapter/sync/bulk_export_feed.h"
#include "mst/adapter/sync/fhir_change_feed.h"
#include "mst/adapter/sync/population.h"
#include "mst/adapter/sync/population_feed.h"
#include "mst/adapter/sync/state_store.h"
#include "mst/adapter/sync/sync_engine.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/safe_text.h"
#include "pipeline_setup.h"

namespace mst::adapter::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

std::vector<OptionSpec> sync_options() {
  auto o = server_options();
  for (auto& p : pipeline_options()) o.push_back(p);
  o.push_back({"once", "", "run one cycle and exit (default: repeat every --interval)", ""});
  o.push_back({"interval", "SECONDS", "seconds between cycles", "sync.interval_s"});
  o.push_back({"state", "PATH", "SQLite file of the sync state", "sync.state_path"});
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
  std::unique_ptr<StateStore> state_store;
  try {
    // Opening fails for reasons of configuration (the file is another
    // sync's, or another server's or shard's, or its directory is missing):
    // exit 2 with the file named, before any patient is touched.
    state_store = std::make_unique<StateStore>(config.sync.state_path);
    state_store->bind_to(
        server_key(config),
        std::to_string(config.sync.shard_index) + "/" + std::to_string(config.sync.shard_count),
        args.has("state-server-moved"));
  } catch (const StateStoreError& e) {
    throw ConfigError(e.what());
  }
  StateStore& state = *state_store;
  load_server_concept_maps(setup, *connection.client, connection.limits);
  Pipeline pipeline(servers.source.client.get(), servers.target.client.get(), *setup.tables,
                    *setup.thresholds, setup.settings);

  ChangeFeedOptions feed_options;
  feed_options.overlap_s = config.sync.overlap_s;
  feed_options.own_identifier_system = setup.settings.pull.own_identifier_system;
  FhirChangeFeed last_updated_feed(*connection.client, *setup.tables, feed_options, context.clock);
  // Without _lastUpdated, the population is listed whole every cycle: the
  // members of a Group, List or file, or (population `search`) every
  // patient the first-run Condition search finds.
  const PopulationSource population = PopulationSource::parse(config.sync.population);
  const auto epoch_now = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               context.clock->now().time_since_epoch())
        .count();
  };
  PopulationFeed repull_feed(
      [&]() -> std::vector<std::string> {
        if (population.kind == PopulationSource::Kind::kSearch) {
          return last_updated_feed.changed_since(std::nullopt).patient_ids;
        }
        return read_population(population, *connection.client, epoch_now());
      },
      context.clock);
  // Bulk Data $export (docs/operations.md "Bulk export"): a Group
  // population exports the Group, a search population every patient.
  const bool group = population.kind == PopulationSource::Kind::kGroup;
  BulkExportOptions bulk_options;
  if (group) {
    bulk_options.group_id = population.target;
    bulk_options.members = [&] { return read_population(population, *connection.client, epoch_now()); };
  }
  bulk_options.max_wait = std::chrono::seconds(config.sync.bulk_max_wait_s);
  bulk_options.max_poll = std::chrono::seconds(config.sync.bulk_max_poll_s);
  bulk_options.own_identifier_system = feed_options.own_identifier_system;
  BulkExportFeed bulk_feed(*connection.client, bulk_options, context.clock, *setup.log);
  const bool exportable = group || population.kind == PopulationSource::Kind::kSearch;
  AutoChangeFeed auto_feed([&] { return connection.client->capabilities(); },
                           group ? nullptr : &last_updated_feed, exportable ? &bulk_feed : nullptr,
                           group, repull_feed, *setup.log);
  ChangeFeed* feed = &auto_feed;
  if (config.sync.changes == "bulk-export") {
    if (!exportable) {
      throw ConfigError("sync.changes=bulk-export needs sync.population=search or group:<id>: a " +
                        population.describe() + " population is re-pulled (sync.changes=repull)");
    }
    feed = &bulk_feed;
  } else if (population.kind != PopulationSource::Kind::kSearch) {
    if (config.sync.changes == "last-updated") {
      throw ConfigError("sync.changes=last-updated needs sync.population=search: a " +
                        population.describe() + " population is re-pulled (sync.changes=repull)");
    }
    if (config.sync.changes == "repull" || !group) feed = &repull_feed;
  } else if (config.sync.changes == "last-updated") {
    feed = &last_updated_feed;
  } else if (config.sync.changes == "repull") {
    feed = &repull_feed;
  }

  SyncOptions options;
  options.concurrency = config.sync.concurrency;
  options.shard_index = config.sync.shard_index;
  options.shard_count = config.sync.shard_count;
  options.retry = {config.sync.retry_base_s * 1000LL, config.sync.retry_max_s * 1000LL,
                   config.sync.quarantine_after};
  options.progress = ::isatty(STDERR_FILENO) != 0 && config.log_format != "json";
  options.budget = static_cast<std::size_t>(config.sync.repull_budget);
  options.repull_interval_ms = config.sync.repull_interval_s * 1000LL;

  SyncEngine engine(
      state, *feed,
      [&](const std::string& id) {
        const auto started = context.clock->steady_now();
        PatientOutcome o = pipeline.run_safely(id).outcome;
        metrics.observe(
            "mst_patient_duration_seconds",
            std::chrono::duration<double>(context.clock->steady_now() - started).count());
        if (o.kind == OutcomeKind::kWritten) metrics.count("mst_plans_written_total");
        if (o.kind == OutcomeKind::kUnchanged) metrics.count("mst_plans_unchanged_total");
        if (o.kind == OutcomeKind::kSkipped)
          metrics.count("mst_plans_skipped_total", o.skip_reason);
        return o;
      },
      options, *setup.log, metrics, context.clock);

  std::mutex ready_mu;
  Readiness readiness{true, ""};
  std::unique_ptr<OpsServer> ops;
  if (!config.listen.empty()) {
    try {
      ops = std::make_unique<OpsServer>(config.listen, metrics, [&] {
        std::lock_guard lock(ready_mu);
        return readiness;
      });
    } catch (const std::runtime_error& e) {
      throw ConfigError(std::string("service.listen: ") + e.what());  // bad address or port in use
    }
    setup.log->info("ops.listening", {{"port", std::to_string(ops->port())}});
  }

  g_stop = false;
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  const bool once = args.has("once");
  int failed = 0;
  // A failed scan (a server error, or a population that cannot be read
  // whole) skips the cycle with nothing changed; the next one retries.
  auto scan_failed = [&](const std::exception& e) {
    // /readyz answers anyone who can reach the port: the reason is filtered.
    const std::string reason = fhir::safe_text(e.what());
    {
      std::lock_guard lock(ready_mu);
      readiness = {false, reason};
    }
    setup.log->error("sync.scan_failed", {{"error", reason}});
  };
  for (;;) {
    try {
      SyncReport r = engine.run_once(g_stop);
      failed = r.failed;
      std::lock_guard lock(ready_mu);
      readiness = {true, ""};
    } catch (const fhir::ClientError& e) {
      scan_failed(e);
      if (once) throw;
    } catch (const PopulationError& e) {
      scan_failed(e);
      if (once) throw;
    } catch (const BulkExportError& e) {
      scan_failed(e);
      if (once) throw;
    }
    if (once || g_stop) break;
    // Sleep in short steps so a signal ends the wait promptly.
    for (int waited = 0; waited < config.sync.interval_s * 10 && !g_stop; ++waited) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (g_stop) break;
  }
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
  if (g_stop) setup.log->info("sync.stopped", {{"reason", "signal"}});
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
    "runs each through the same pipeline as `run`, and keeps its state in SQLite. The\n"
    "checkpoint moves only when every changed patient was processed; failures retry with\n"
    "backoff and a patient that keeps failing is quarantined without blocking the rest.\n"
    "SIGINT/SIGTERM finish the patients in flight and exit cleanly. Exit 5 when some\n"
    "patients failed.\n"
    "Servers without _lastUpdated: --population group:ID | list:ID | file:PATH names who to\n"
    "look after, re-read every cycle; --changes repull (or auto, by the CapabilityStatement)\n"
    "re-pulls them, least recently checked first, at most --repull-budget per cycle. An\n"
    "unchanged patient's re-pull writes nothing.\n"
    "--changes bulk-export (or auto, when the server declares $export and lacks _lastUpdated)\n"
    "finds changed patients with a Bulk Data export _since the last export's transactionTime.",
    sync_options(),
    run_sync,
});

}  // namespace

}  // namespace mst::adapter::cli
