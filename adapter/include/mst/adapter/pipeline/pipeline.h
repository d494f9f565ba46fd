// One patient's run from record to written plan: derive the considerations,
// propose goals, build the transaction, write it back idempotently. The
// derivation is pure; only pull and write touch the server.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/goals/goal_plan.h"
#include "mst/adapter/goals/rule_thresholds.h"
#include "mst/adapter/pipeline/patient_outcome.h"
#include "mst/adapter/pipeline/plan_writer.h"
#include "mst/adapter/pipeline/record_puller.h"
#include "mst/fhir/client.h"
#include "mst/fhir/datetime.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/considerations.h"
#include "mst/mappings/patient_record.h"

namespace mst::adapter {

// What the adapter concluded for one patient, before any write.
struct Derivation {
  mappings::Considerations considerations;
  GoalPlan plan;
};

// Pure: the same record, tables, thresholds and as-of day give the same
// Derivation. `pull_warnings` (bounds hit, server warnings) become data gaps.
Derivation derive(const mappings::PatientRecord& record, const mappings::CodeTables& tables,
                  const RuleThresholds& thresholds, const fhir::DateTime& as_of,
                  const std::vector<std::string>& pull_warnings = {});

struct PipelineSettings {
  std::string canonical_base;
  fhir::DateTime as_of = fhir::DateTime::from_ymd(1970, 1, 1);
  PullOptions pull;
  WriteOptions write;
};

struct PatientRun {
  PatientOutcome outcome;
  std::optional<Derivation> derivation;  // absent when the pull failed
  std::string transaction;               // the Bundle sent or, in a dry run, not sent
};

// Runs the whole pipeline for one patient: reads the record from the
// source, writes the plan (and makes the searches that prove what is the
// adapter's) on the target. Server and input errors propagate as
// exceptions; run_safely maps them.
class Pipeline {
 public:
  // `client` reads and writes; it may be null for offline use
  // (build_offline only).
  Pipeline(fhir::Client* client, const mappings::CodeTables& tables,
           const RuleThresholds& thresholds, PipelineSettings settings);
  // Reads from `source`, writes to `target`. When their base URLs differ the
  // plan refers to the record by absolute URLs on the source
  // (BuildOptions::source_base); otherwise as with one client.
  Pipeline(fhir::Client* source, fhir::Client* target, const mappings::CodeTables& tables,
           const RuleThresholds& thresholds, PipelineSettings settings);

  PatientRun run(const std::string& patient_id);
  // As run(), but never throws: errors become a failed outcome with the
  // error kind and whether a retry may help.
  PatientRun run_safely(const std::string& patient_id);

  // As run() and run_safely(), for a record read elsewhere (a Bulk Data
  // export): the same derivation and the same write-back on the target.
  PatientRun run_record(const PulledRecord& pulled);
  PatientRun run_record_safely(const PulledRecord& pulled);

  // The write-back half of run(): writes (or withdraws, for a deceased
  // patient) the plan of a derivation already made, e.g. the one a CDS Hooks
  // card showed, so what is written is exactly what was reviewed.
  PatientRun write_derived(const std::string& patient_id, Derivation derivation);

  // The plan for an already-pulled record, without a server (offline runs).
  PatientRun build_offline(const mappings::PatientRecord& record);

  // The builder's options for this pipeline (canonical base, as-of day).
  BuildOptions build_options() const;

  const PipelineSettings& settings() const { return settings_; }

 private:
  fhir::Client* client_;  // the source
  fhir::Client* target_;
  std::string source_base_;  // set when the target is another server
  const mappings::CodeTables& tables_;
  const RuleThresholds& thresholds_;
  PipelineSettings settings_;
  std::unique_ptr<PlanWriter> writer_;
  // pull_record() in the read mode settings_.pull asks for, resolved (and,
  // under auto, given up for searches) against the source.
  PulledRecord pull(const std::string& patient_id);
  ReadModeChoice read_mode_;
};

}  // namespace mst::adapter
