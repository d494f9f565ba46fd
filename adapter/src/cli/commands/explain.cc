// `mst-adapter explain`: the considerations and the reasoning, readable.
#include <fstream>
#include <sstream>

#include "mst/adapter/cli/command.h"
#include "mst/adapter/cli/exit_codes.h"
#include "mst/adapter/pipeline/record_puller.h"
#include "mst/adapter/pipeline/run_report.h"
#include "pipeline_setup.h"

namespace mst::adapter::cli {

namespace {

std::vector<OptionSpec> explain_options() {
  auto o = server_options();
  for (auto& p : pipeline_options()) o.push_back(p);
  o.push_back(
      {"patient", "ID", "the patient's logical id on the server (or in the --input Bundle)", ""});
  o.push_back({"input", "FILE", "explain offline from a Bundle of the patient's resources", ""});
  return o;
}

int run_explain(const ParsedArgs& args, Context& context) {
  const auto specs = explain_options();
  const auto patient = args.get("patient");
  const auto input = args.get("input");
  if (!patient && !input) throw UsageError("explain needs --patient ID (or --input FILE)");
  if (input && args.has("server")) throw UsageError("--input explains offline; drop --server");
  AdapterConfig config = resolve_config(args, specs, context);
  PipelineSetup setup = load_pipeline_setup(config, context);
  Derivation d;
  if (input) {
    auto record = read_input_record(*input, patient.value_or(""));
    d = derive(record, *setup.tables, *setup.thresholds, setup.as_of);
  } else {
    Connection connection = connect(config, context);
    load_server_concept_maps(setup, *connection.client, connection.limits);
    PulledRecord pulled =
        pull_record(*connection.client, *patient, *setup.tables, setup.settings.pull);
    d = derive(pulled.record, *setup.tables, *setup.thresholds, setup.as_of, pulled.warnings);
  }
  context.out << explain_text(d);
  return d.plan.applicable ? kSuccess : kNothingToDo;
}

const bool registered = register_command({
    "explain",
    "show the considerations and the reasoning for one patient, without writing",
    "explain --patient ID --server URL [--as-of YYYY-MM-DD] | explain --input FILE",
    "",
    "Prints the plan the way the CarePlan narrative shows it: the pathway and the actions now\n"
    "with their urgency, one line per goal, the referrals and the patient's preferences; then\n"
    "the details: the nine considerations as the rules read them (with any site thresholds),\n"
    "each goal's rationale, evidence and targets, the team, notes, data gaps and what could\n"
    "not be used. Writes nothing.",
    explain_options(),
    run_explain,
});

}  // namespace

}  // namespace mst::adapter::cli
