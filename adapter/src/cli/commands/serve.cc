// `mst-adapter serve`: the adapter on demand inside the EHR, as a CDS Hooks
// 2.0 service (docs/cds-hooks.md) beside /healthz, /readyz and /metrics.
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "mst/adapter/cli/command.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/adapter/ops/metrics.h"
#include "mst/adapter/ops/ops_server.h"
#include "mst/adapter/pipeline/record_puller.h"
#include "mst/adapter/serve/cds_client_auth.h"
#include "mst/adapter/serve/cds_cors.h"
#include "mst/adapter/serve/cds_service.h"
#include "mst/adapter/serve/jwks_cache.h"
#include "mst/adapter/serve/prefetch_fetch.h"
#include "mst/adapter/serve/review_service.h"
#include "mst/adapter/serve/review_store.h"
#include "mst/adapter/serve/serve_server.h"
#include "mst/fhir/auth.h"
#include "mst/fhir/rest_client.h"
#include "mst/fhir/retry_policy.h"
#include "mst/fhir/safe_text.h"
#include "pipeline_setup.h"
#include "stop_signal.h"

namespace mst::adapter::cli {

namespace {

std::vector<OptionSpec> serve_options() {
  auto o = server_options();
  for (auto& p : pipeline_options()) o.push_back(p);
  o.push_back({"listen", "HOST:PORT",
               "serve CDS Hooks, /healthz, /readyz and /metrics here (loopback only unless "
               "serve.issuers authenticates the EHR)",
               "service.listen"});
  return o;
}

// The EHR's own token for the EHR's own server, as the call gave it: never
// read from the adapter's configuration, never sent anywhere else.
class CallerToken final : public fhir::AuthProvider {
 public:
  explicit CallerToken(std::string token) : token_(std::move(token)) {}
  void authorize(fhir::HttpRequest& request) override {
    request.headers.emplace_back("Authorization", "Bearer " + token_);
  }
  bool invalidate() override { return false; }
  std::string_view scheme() const override { return "bearer"; }

 private:
  std::string token_;
};

// Whether the configured FHIR server answers, checked at most every 15 s so
// probes cannot load it. The service is ready either way: a call with full
// prefetch needs no server.
class ServerProbe {
 public:
  ServerProbe(fhir::Client* client, std::shared_ptr<fhir::Clock> clock)
      : client_(client), clock_(std::move(clock)) {}

  std::string line() {
    if (!client_) return "fhir-server: not configured";
    std::lock_guard lock(mu_);
    const auto now = clock_->steady_now();
    if (!checked_ || now - *checked_ > std::chrono::seconds(15)) {
      try {
        client_->capabilities();
        last_ = "fhir-server: reachable";
      } catch (const std::exception& e) {
        last_ = std::string("fhir-server: unreachable (") + error_kind_name(classify(e).kind) + ")";
      }
      checked_ = now;
    }
    return last_;
  }

 private:
  fhir::Client* client_;
  std::shared_ptr<fhir::Clock> clock_;
  std::mutex mu_;
  std::optional<std::chrono::steady_clock::time_point> checked_;
  std::string last_;
};

// server.read_mode for each EHR server a call names: what auto resolved to
// (its CapabilityStatement, read once) and whether it refused a batch, kept
// across calls. Bounded: a full table starts again, at one more statement
// read per server.
class ReadModes {
 public:
  explicit ReadModes(ReadMode configured) : configured_(configured) {}
  std::shared_ptr<ReadModeChoice> of(const std::string& server) {
    std::lock_guard lock(mu_);
    if (choices_.size() >= kMostServers && !choices_.contains(server)) choices_.clear();
    auto& choice = choices_[server];
    if (!choice) choice = std::make_shared<ReadModeChoice>(configured_);
    return choice;
  }

 private:
  static constexpr std::size_t kMostServers = 64;
  const ReadMode configured_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ReadModeChoice>> choices_;
};

EhrFetch ehr_fetch(const PipelineSetup& setup, Context& context) {
  // One transport for all calls: its keep-alive pool (per origin) spares each
  // call a new connection, or TLS handshake, per request. The token stays per
  // call, added to each request by that call's own client.
  fhir::TransportOptions options;
  options.request_timeout = std::chrono::seconds(20);
  options.max_idle_per_origin = 64;  // 8 calls at once, ~16 searches each
  auto sender = std::make_shared<fhir::RetryingSender>(
      context.make_transport(options), fhir::RetryPolicy{.max_attempts = 2}, context.clock);
  auto modes = std::make_shared<ReadModes>(setup.settings.pull.read_mode);
  return
      [&setup, sender, modes](const std::string& server, const std::string& token,
                              const std::string& patient, const std::vector<std::string>& missing) {
        fhir::RestClient client(fhir::RestClientOptions{server}, sender,
                                std::make_shared<CallerToken>(token));
        // The pull's reads, with its fallback: one batch when the EHR takes one.
        return modes->of(server)->run(client, [&](ReadMode mode) {
          return fetch_prefetch(client, patient, missing, *setup.tables, setup.settings.pull, mode);
        });
      };
}

// The EHRs of serve.issuers, their JWKS read through the project's transport
// (https, TLS verified as for the FHIR server) or from files.
std::unique_ptr<CdsClientAuth> client_auth(const AdapterConfig& config, Context& context) {
  std::vector<TrustedIssuer> issuers;
  bool any_url = false;
  for (const auto& i : config.serve.issuers) {
    issuers.push_back({i.iss, i.jwks});
    any_url = any_url || jwks_is_url(i.jwks);
  }
  std::shared_ptr<fhir::HttpTransport> transport;
  if (any_url) {
    fhir::TransportOptions options;
    options.request_timeout = std::chrono::seconds(10);
    options.max_response_bytes = 1u << 20;
    options.verify_tls = config.server.tls_verify;
    options.ca_file = config.server.ca_file;
    transport = context.make_transport(options);
  }
  auto cache = std::make_shared<JwksCache>(transport, context.clock,
                                           std::chrono::seconds(config.serve.jwks_cache_s));
  return std::make_unique<CdsClientAuth>(
      std::move(issuers),
      [cache](const TrustedIssuer& issuer, bool refresh) { return cache->get(issuer, refresh); },
      context.clock);
}

int run_serve(const ParsedArgs& args, Context& context) {
  const auto specs = serve_options();
  AdapterConfig config = resolve_config(args, specs, context);
  if (config.listen.empty()) {
    throw UsageError("serve needs --listen HOST:PORT (or service.listen in --config)");
  }
  const bool authenticated = !config.serve.issuers.empty();
  if (!authenticated && !is_loopback_listen(config.listen)) {
    throw ConfigError("serve: refusing to listen on " + config.listen +
                      " without EHR authentication: configure serve.issuers (and "
                      "serve.public_url), or listen on a loopback address (127.0.0.1, ::1, "
                      "localhost)");
  }
  if (authenticated && config.serve.public_url.empty()) {
    throw ConfigError(
        "serve.issuers needs serve.public_url: the URL the EHR calls, which its JWTs' aud names");
  }
  PipelineSetup setup = load_pipeline_setup(config, context);
  std::unique_ptr<CdsClientAuth> auth;
  if (authenticated) auth = client_auth(config, context);
  std::optional<Connections> servers;
  if (!config.server.base_url.empty()) servers = connect_source_and_target(config, context);

  Metrics metrics;
  CdsServiceOptions options;
  options.settings = setup.settings;
  if (config.as_of.empty()) {
    options.today = [clock = context.clock] {
      const auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(clock->now().time_since_epoch())
              .count();
      return *fhir::DateTime::parse(fhir::DateTime::from_epoch_ms(ms).date_string());
    };
  }
  options.source.url = setup.settings.canonical_base;
  options.source.canonical_base = setup.settings.canonical_base;
  const ServeLimits limits;
  options.max_body_bytes = limits.max_body_bytes;
  // The review page (docs/cds-hooks.md "The review page"): what patient-view
  // derived, kept under an unguessable id the card's link carries, and
  // written once through run's write-back with the adapter's own server.
  ReviewStore reviews(context.clock, std::chrono::seconds(config.serve.review_ttl_s));
  ReviewWrite review_write;
  std::string no_write =
      "This service has no FHIR server configured (server.base_url) to write to.";
  if (servers) {
    no_write.clear();
    try {
      require_own_canonical_base(config);
    } catch (const std::exception& e) {
      no_write = std::string("Writing is off: ") + e.what();
    }
  }
  if (servers && no_write.empty()) {
    review_write = [&](const ReviewEntry& entry) {
      PipelineSettings settings = setup.settings;
      settings.as_of = entry.as_of;
      Pipeline pipeline(servers->source.client.get(), servers->target.client.get(), *setup.tables,
                        *setup.thresholds, std::move(settings));
      return pipeline.write_derived(entry.patient_id, entry.derivation).outcome;
    };
  }
  const std::string public_url =
      config.serve.public_url.empty() ? "http://" + config.listen : config.serve.public_url;
  ReviewService review(reviews, public_url, review_write, no_write, *setup.log);
  options.review_link = [&](const std::string& patient_id, const PatientRun& run,
                            const fhir::DateTime& as_of, const std::string& fhir_server) {
    ReviewEntry entry;
    entry.patient_id = patient_id;
    entry.derivation = *run.derivation;
    entry.as_of = as_of;
    entry.fhir_base = fhir_server.empty() ? config.server.base_url : fhir_server;
    const std::string id = reviews.put(std::move(entry));
    return review.link(patient_id, id);
  };
  CdsService cds(*setup.tables, *setup.thresholds, std::move(options), ehr_fetch(setup, context),
                 metrics, *setup.log);
  ServerProbe probe(servers ? servers->source.client.get() : nullptr, context.clock);

  auto handler = [&](std::string_view method, std::string_view path, std::string_view body,
                     std::string_view authorization, const BrowserHeaders& browser) -> ServeReply {
    const std::string_view p = path.substr(0, path.find('?'));
    if (auth) {
      if (const auto auds = service_audiences(config.serve.public_url, p); !auds.empty()) {
        const CdsCaller caller = auth->verify(authorization, auds);
        if (!caller.trusted) {
          // The reason names the rule, never the token.
          setup.log->warn("serve.unauthorized", {{"path", fhir::safe_text(p, 200)},
                                                 {"reason", fhir::safe_text(caller.reason)}});
          ServeReply r = error_reply(401, "login", caller.reason);
          r.www_authenticate = "Bearer error=\"invalid_token\"";
          return r;
        }
      }
    }
    if (p == "/readyz" && (method == "GET" || method == "HEAD")) {
      return {200, "text/plain", "ready\n" + fhir::safe_text(probe.line()) + "\n", "", "", {}};
    }
    if (p == "/healthz" || p == "/metrics" || p == "/readyz") {
      const OpsReply r = ops_reply(method, path, metrics, nullptr);
      return {r.status, r.content_type, r.body, r.allow, "", {}};
    }
    if (ReviewService::owns(p)) return review.handle(method, path, body, browser);
    return cds.handle(method, path, body);
  };
  const StopOnSignal stop_on_signal;
  std::unique_ptr<ServeServer> server;
  try {
    server = std::make_unique<ServeServer>(config.listen, limits,
                                           with_cors(config.serve.cors_origins, handler), metrics);
  } catch (const std::runtime_error& e) {
    throw ConfigError(std::string("service.listen: ") + e.what());
  }
  if (!auth) {
    setup.log->warn("serve.unauthenticated",
                    {{"listen", config.listen},
                     {"why", "serve.issuers is empty: any local process may call the service"}});
  }
  setup.log->info("serve.listening",
                  {{"port", std::to_string(server->port())}, {"service", kCdsServiceId}});
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  setup.log->info("serve.stopping", {});
  server.reset();  // finishes the requests in flight
  return kSuccess;
}

const bool registered = register_command({
    "serve",
    "answer CDS Hooks patient-view calls from the EHR with the proposed plan as a card",
    "serve --listen HOST:PORT [--server URL] [--as-of YYYY-MM-DD]",
    "",
    "A long-running HTTP service: GET /cds-services (discovery: the patient-view service and\n"
    "its prefetch templates, the pull's own searches), POST /cds-services/mst-spine-careplan\n"
    "(the same pure pipeline as `run --dry-run` on the prefetched record, or on the record read\n"
    "from the call's fhirServer with the call's own token; a card whose suggestion creates the\n"
    "draft, and a link to the review page), POST .../feedback, GET /review/<patient>?t=<id>\n"
    "(the card's reasoning as a printable page, opened from the card's link) and its write\n"
    "button (with --server: the draft written once, as `run` writes it), /healthz, /readyz,\n"
    "/metrics.\n"
    "With serve.issuers, service calls need the EHR's signed JWT (CDS Hooks \"Trusting CDS\n"
    "Clients\"); without, it listens on loopback only. SIGINT/SIGTERM finish\n"
    "the requests in flight and exit 0. See docs/cds-hooks.md.",
    serve_options(),
    run_serve,
});

}  // namespace

}  // namespace mst::adapter::cli
