// The floor and our parser on the same bytes: (a) RapidJSON alone with the
// flags JsonDocument uses, (b) fhir::JsonDocument::parse (limits checks and
// error reporting on top).
#include <benchmark/benchmark.h>
#include <rapidjson/document.h>

#include "bench_input.h"
#include "mst/fhir/json.h"

namespace {

void BM_RapidJsonParse(benchmark::State& state) {
  const std::string& text = mst::bench::record_text();
  for (auto _ : state) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(),
                                                                                      text.size());
    if (doc.HasParseError()) {
      state.SkipWithError("RapidJSON rejected the record");
      break;
    }
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_RapidJsonParse)->Unit(benchmark::kMillisecond);

void BM_JsonDocumentParse(benchmark::State& state) {
  const std::string& text = mst::bench::record_text();
  for (auto _ : state) {
    auto doc = mst::fhir::JsonDocument::parse(text);
    benchmark::DoNotOptimize(doc.root().raw());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_JsonDocumentParse)->Unit(benchmark::kMillisecond);

}  // namespace
