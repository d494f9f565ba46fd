// `mst-adapter run`: one patient, on demand (from a server) or offline (from
// a Bundle file).
#include <fstream>
#include <sstream>

#include "mst/adapter/cli/command.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/adapter/pipeline/run_report.h"
#include "mst/fhir/json.h"
#include "pipeline_setup.h"

namespace mst::adapter::cli {

namespace {

std::vector<OptionSpec> run_options() {
  auto o = server_options();
  for (auto& p : pipeline_options()) o.push_back(p);
  o.push_back(
      {"patient", "ID", "the patient's logical id on the server (or in the --input Bundle)", ""});
  o.push_back(
      {"input", "FILE", "run offline on a Bundle of the patient's resources; no server", ""});
  o.push_back({"dry-run", "", "write nothing; print the transaction Bundle on stdout", ""});
  o.push_back({"output", "FILE", "also save the transaction Bundle to FILE", ""});
  o.push_back({"format", "FORMAT", "text | json: the summary for people or machines", ""});
  return o;
}

// The exit code a finished run earns.
int exit_code_of(const PatientOutcome& o) {
  switch (o.kind) {
    case OutcomeKind::kWritten:
    case OutcomeKind::kBuilt:
    case OutcomeKind::kUnchanged:
      return kSuccess;
    case OutcomeKind::kSkipped:
      return kNothingToDo;
    case OutcomeKind::kFailed:
      return exit_code(o.error_kind);
  }
  return kInternal;
}

int run_run(const ParsedArgs& args, Context& context) {
  const auto specs = run_options();
  const auto patient = args.get("patient");
  const auto input = args.get("input");
  const std::string format = args.get("format").value_or("text");
  if (format != "text" && format != "json") throw UsageError("--format must be text or json");
  if (!patient && !input) throw UsageError("run needs --patient ID (or --input FILE)");
  if (input && (args.has("server") || args.has("target"))) {
    throw UsageError(
        "--input runs offline; drop --server and --target (or drop --input to use the server)");
  }
  AdapterConfig config = resolve_config(args, specs, context);
  PipelineSetup setup = load_pipeline_setup(config, context);
  const bool dry_run = args.has("dry-run");
  setup.settings.write.dry_run = dry_run;

  PatientRun run;
  if (input) {
    auto record = read_input_record(*input, patient.value_or(""));
    Pipeline pipeline(nullptr, *setup.tables, *setup.thresholds, setup.settings);
    run = pipeline.build_offline(record);
  } else {
    if (!dry_run) require_own_canonical_base(config);
    Connections servers = connect_source_and_target(config, context);
    load_server_concept_maps(setup, *servers.source.client, servers.source.limits);
    Pipeline pipeline(servers.source.client.get(), servers.target.client.get(), *setup.tables,
                      *setup.thresholds, setup.settings);
    setup.log->info("run.start", {{"patient", *patient}, {"as_of", setup.as_of.to_string()}});
    run = pipeline.run_safely(*patient);
    setup.log->info("run.done", {{"patient", *patient},
                                 {"outcome", outcome_name(run.outcome.kind)},
                                 {"plan", run.outcome.plan_ref},
                                 {"version", run.outcome.plan_version}});
  }
  if (auto out_path = args.get("output"); out_path && !run.transaction.empty()) {
    std::ofstream out(*out_path, std::ios::binary);
    out << run.transaction << "\n";
    if (!out) throw UsageError("cannot write output file " + *out_path);
  }
  // A dry run's stdout is the Bundle alone, so it can be piped; the summary
  // goes to stderr then.
  const bool bundle_on_stdout = dry_run && !run.transaction.empty();
  if (bundle_on_stdout) context.out << run.transaction << "\n";
  std::ostream& summary = bundle_on_stdout ? context.err : context.out;
  if (format == "json") {
    summary << summary_json(run).dump() << "\n";
  } else {
    summary << summary_text(run);
  }
  if (run.outcome.kind == OutcomeKind::kFailed) {
    context.err << "mst-adapter: run failed for Patient/" << run.outcome.patient_id << ": "
                << run.outcome.detail << "\n";
  }
  return exit_code_of(run.outcome);
}

const bool registered = register_command({
    "run",
    "propose and write the draft plan for one patient",
    "run --patient ID --server URL [--dry-run] [--as-of YYYY-MM-DD] | run --input FILE",
    "",
    "Pulls the patient's Patient, Conditions, relevant Observations and CarePlans, derives the\n"
    "treatment considerations, proposes goals and writes back ONE transaction with the draft\n"
    "CarePlan (status draft, intent proposal). A re-run with unchanged inputs writes nothing; a\n"
    "plan a clinician took out of draft is never modified. --input runs offline on a Bundle.\n"
    "Exit 0: plan written or already up to date; 1: no plan (no spinal metastasis, or a\n"
    "clinician owns the plan); see docs/exit-codes.md for failures.",
    run_options(),
    run_run,
});

}  // namespace

}  // namespace mst::adapter::cli
