// The adapter's own work on the record, in the same program as the parse
// benchmarks so ratios come from one run:
//   (c) BM_FullPipeline: parse + PatientRecord + extract + propose + build + dump
//   (d) BM_DeriveAndBuild: extract + propose + build + dump on a prepared record
// and, to show where the time goes, each stage alone (BM_Record: the
// PatientRecord from an already parsed document).
#include <benchmark/benchmark.h>

#include <memory>
#include <optional>
#include <string>

#include "bench_input.h"
#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/goals/goal_engine.h"
#include "mst/fhir/json.h"
#include "mst/mappings/code_tables.h"
#include "mst/mappings/extract.h"
#include "mst/mappings/patient_record.h"
#include "record_generator.h"

namespace {

using mst::adapter::GoalPlan;
using mst::mappings::CodeTables;
using mst::mappings::Considerations;
using mst::mappings::PatientRecord;

const mst::fhir::DateTime kAsOf = mst::bench::RecordSpec{}.as_of;

const CodeTables& tables() {
  static const CodeTables t = CodeTables::load({MST_TABLES_DIR});
  return t;
}

PatientRecord make_record() {
  return PatientRecord::from_bundle(mst::fhir::JsonDocument::parse(mst::bench::record_text()));
}

// The prepared inputs of each stage, built once and checked: a plan that is
// not applicable would time the short "no plan" path instead of the real one.
struct Prepared {
  PatientRecord record = make_record();
  Considerations considerations = mst::mappings::extract(record, tables(), kAsOf);
  GoalPlan plan = mst::adapter::propose(considerations);
};

const Prepared* prepared(benchmark::State& state) {
  static const std::optional<Prepared> p = [] { return std::optional<Prepared>(std::in_place); }();
  if (!p->plan.applicable) {
    state.SkipWithError(("the record gives no plan: " + p->plan.not_applicable_reason).c_str());
    return nullptr;
  }
  return &*p;
}

void set_bytes(benchmark::State& state) {
  state.SetBytesProcessed(
      static_cast<std::int64_t>(state.iterations() * mst::bench::record_text().size()));
}

void BM_FullPipeline(benchmark::State& state) {
  if (!prepared(state)) return;
  const std::string& text = mst::bench::record_text();
  std::size_t out_bytes = 0;
  for (auto _ : state) {
    PatientRecord record = PatientRecord::from_bundle(mst::fhir::JsonDocument::parse(text));
    Considerations c = mst::mappings::extract(record, tables(), kAsOf);
    GoalPlan plan = mst::adapter::propose(c);
    std::string out = mst::adapter::build_transaction(c, plan).dump();
    out_bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state);
  state.counters["output_bytes"] = static_cast<double>(out_bytes);
}
BENCHMARK(BM_FullPipeline)->Unit(benchmark::kMillisecond);

// Parse + PatientRecord: minus BM_JsonDocumentParse, what gathering costs.
void BM_ParseAndRecord(benchmark::State& state) {
  const std::string& text = mst::bench::record_text();
  for (auto _ : state) {
    PatientRecord record = PatientRecord::from_bundle(mst::fhir::JsonDocument::parse(text));
    benchmark::DoNotOptimize(record.observations().data());
  }
  set_bytes(state);
}
BENCHMARK(BM_ParseAndRecord)->Unit(benchmark::kMillisecond);

// PatientRecord alone, over one document parsed before timing starts.
void BM_Record(benchmark::State& state) {
  const auto doc = std::make_shared<const mst::fhir::JsonDocument>(
      mst::fhir::JsonDocument::parse(mst::bench::record_text()));
  for (auto _ : state) {
    PatientRecord record = PatientRecord::Builder().add_document(doc).build();
    benchmark::DoNotOptimize(record.observations().data());
  }
  set_bytes(state);
}
BENCHMARK(BM_Record)->Unit(benchmark::kMillisecond);

void BM_DeriveAndBuild(benchmark::State& state) {
  const Prepared* p = prepared(state);
  if (!p) return;
  for (auto _ : state) {
    Considerations c = mst::mappings::extract(p->record, tables(), kAsOf);
    GoalPlan plan = mst::adapter::propose(c);
    std::string out = mst::adapter::build_transaction(c, plan).dump();
    benchmark::DoNotOptimize(out.data());
  }
  set_bytes(state);
}
BENCHMARK(BM_DeriveAndBuild)->Unit(benchmark::kMillisecond);

void BM_Extract(benchmark::State& state) {
  const Prepared* p = prepared(state);
  if (!p) return;
  for (auto _ : state) {
    Considerations c = mst::mappings::extract(p->record, tables(), kAsOf);
    benchmark::DoNotOptimize(c.as_of);
  }
  set_bytes(state);
}
BENCHMARK(BM_Extract)->Unit(benchmark::kMillisecond);

void BM_Propose(benchmark::State& state) {
  const Prepared* p = prepared(state);
  if (!p) return;
  for (auto _ : state) {
    GoalPlan plan = mst::adapter::propose(p->considerations);
    benchmark::DoNotOptimize(plan.applicable);
  }
}
BENCHMARK(BM_Propose)->Unit(benchmark::kMicrosecond);

void BM_BuildAndDump(benchmark::State& state) {
  const Prepared* p = prepared(state);
  if (!p) return;
  for (auto _ : state) {
    std::string out = mst::adapter::build_transaction(p->considerations, p->plan).dump();
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_BuildAndDump)->Unit(benchmark::kMicrosecond);

}  // namespace
