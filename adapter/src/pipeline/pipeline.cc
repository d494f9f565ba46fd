#include "mst/adapter/pipeline/pipeline.h"

#include "mst/adapter/careplan/plan_fingerprint.h"
#include "mst/adapter/goals/goal_engine.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/error_kind.h"
#include "mst/fhir/retry_policy.h"
#include "mst/fhir/safe_text.h"
#include "mst/mappings/extract.h"

namespace mst::adapter {

Derivation derive(const mappings::PatientRecord& record, const mappings::CodeTables& tables,
                  const RuleThresholds& thresholds, const fhir::DateTime& as_of,
                  const std::vector<std::string>& pull_warnings) {
  Derivation d;
  d.considerations = mappings::extract(record, tables, as_of);
  for (const auto& w : pull_warnings) {
    d.considerations.data_gaps.push_back({"record", w});
  }
  d.plan = propose(d.considerations, thresholds);
  return d;
}

namespace {

std::string without_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

Pipeline::Pipeline(fhir::Client* client, const mappings::CodeTables& tables,
                   const RuleThresholds& thresholds, PipelineSettings settings)
    : Pipeline(client, client, tables, thresholds, std::move(settings)) {}

Pipeline::Pipeline(fhir::Client* source, fhir::Client* target, const mappings::CodeTables& tables,
                   const RuleThresholds& thresholds, PipelineSettings settings)
    : client_(source),
      target_(target),
      tables_(tables),
      thresholds_(thresholds),
      settings_(std::move(settings)),
      read_mode_(settings_.pull.read_mode) {
  if ((client_ == nullptr) != (target_ == nullptr)) {
    throw std::logic_error("Pipeline needs both a source and a target client, or neither");
  }
  if (client_ && without_slash(client_->base_url()) != without_slash(target_->base_url())) {
    source_base_ = without_slash(client_->base_url());
  }
  if (target_) {
    const std::string base = settings_.canonical_base;
    writer_ = std::make_unique<PlanWriter>(
        *target_,
        [base](fhir::Node care_plan) { return read_fingerprint(care_plan, base).value_or(""); },
        settings_.write);
  }
}

BuildOptions Pipeline::build_options() const {
  BuildOptions o;
  o.canonical_base = settings_.canonical_base;
  o.as_of = settings_.as_of;
  o.source_base = source_base_;
  return o;
}

namespace {

PatientOutcome not_applicable(const std::string& patient_id, const GoalPlan& plan) {
  PatientOutcome o;
  o.kind = OutcomeKind::kSkipped;
  o.patient_id = patient_id;
  o.skip_reason = plan.not_applicable_code;
  o.detail = "no plan: " + plan.not_applicable_reason;
  return o;
}

}  // namespace

PatientRun Pipeline::build_offline(const mappings::PatientRecord& record) {
  PatientRun run;
  run.derivation = derive(record, tables_, thresholds_, settings_.as_of);
  const Derivation& d = *run.derivation;
  if (!d.plan.applicable) {
    run.outcome = not_applicable(record.patient_id(), d.plan);
    return run;
  }
  fhir::JsonValue bundle = build_transaction(d.considerations, d.plan, build_options());
  run.outcome.kind = OutcomeKind::kBuilt;
  run.outcome.patient_id = record.patient_id();
  run.outcome.fingerprint = built_fingerprint(bundle);
  run.outcome.detail = "offline: nothing sent";
  run.transaction = bundle.dump(true);
  return run;
}

PulledRecord Pipeline::pull(const std::string& patient_id) {
  return read_mode_.run(*client_, [&](ReadMode mode) {
    PullOptions options = settings_.pull;
    options.read_mode = mode;
    return pull_record(*client_, patient_id, tables_, options);
  });
}

PatientRun Pipeline::run(const std::string& patient_id) {
  if (!client_) throw std::logic_error("Pipeline::run needs a FHIR client");
  return run_record(pull(patient_id));
}

PatientRun Pipeline::run_record(const PulledRecord& pulled) {
  return write_derived(pulled.record.patient_id(), derive(pulled.record, tables_, thresholds_,
                                                          settings_.as_of, pulled.warnings));
}

PatientRun Pipeline::write_derived(const std::string& patient_id, Derivation derivation) {
  if (!target_) throw std::logic_error("Pipeline::write_derived needs a FHIR client");
  PatientRun run;
  run.derivation = std::move(derivation);
  const Derivation& d = *run.derivation;
  const BuildOptions base_options = build_options();
  const PlanIdentifier ident = careplan_identifier("Patient/" + patient_id, base_options);
  const PlanIdentity identity{patient_id,
                              ident.system,
                              ident.value,
                              plan_member_kinds(base_options),
                              device_identifier_system(base_options),
                              base_options.device_name,
                              source_base_};
  if (!d.plan.applicable) {
    run.outcome = not_applicable(patient_id, d.plan);
    if (d.plan.not_applicable_code == SkipReason::kDeceased) {
      // A draft proposing treatment for someone who has died must not stay
      // in front of the team.
      const auto w = writer_->withdraw(identity, "The patient is recorded as deceased",
                                       settings_.as_of.date_string());
      run.outcome.plan_ref = w.plan_ref;
      if (w.withdrawn > 0) {
        run.outcome.detail += " Withdrew the adapter's draft " + w.plan_ref +
                              " and its untouched proposals (" + std::to_string(w.withdrawn) +
                              " resources).";
      }
      if (!w.left.empty()) {
        std::string left;
        for (const auto& l : w.left) left += (left.empty() ? "" : "; ") + l;
        run.outcome.detail += " Left as a person has them: " + left + ".";
      }
    }
    return run;
  }
  run.outcome = writer_->write(identity, [&](const std::optional<ExistingPlan>& existing) {
    BuildOptions o = base_options;
    if (existing) o.existing = ExistingDraft{existing->id, existing->version};
    fhir::JsonValue bundle = build_transaction(d.considerations, d.plan, o);
    std::string fp = built_fingerprint(bundle);
    run.transaction = bundle.dump(settings_.write.dry_run);
    return BuiltPlan{std::move(bundle), std::move(fp)};
  });
  if (settings_.write.dry_run && run.outcome.kind == OutcomeKind::kBuilt &&
      writer_->mode() == WriteMode::kDocument) {
    // What would be sent is the note, not the CarePlan it was made from.
    run.transaction =
        fhir::JsonValue::from(fhir::JsonDocument::parse(writer_->last_dry_run_bundle()).root())
            .dump(true);
  }
  return run;
}

namespace {

// Runs `f`; an error becomes a failed outcome with its kind and whether a
// retry may help.
template <typename F>
PatientRun without_throwing(const std::string& patient_id, F f) {
  try {
    return f();
  } catch (const std::exception& e) {
    const Classification c = classify(e);
    PatientRun r;
    r.outcome.kind = OutcomeKind::kFailed;
    r.outcome.patient_id = patient_id;
    r.outcome.error_kind = c.kind;
    r.outcome.retryable = c.retryable;
    r.outcome.detail = fhir::safe_text(e.what());
    return r;
  }
}

}  // namespace

PatientRun Pipeline::run_safely(const std::string& patient_id) {
  return without_throwing(patient_id, [&] { return run(patient_id); });
}

PatientRun Pipeline::run_record_safely(const PulledRecord& pulled) {
  return without_throwing(pulled.record.patient_id(), [&] { return run_record(pulled); });
}

}  // namespace mst::adapter
