// The input every benchmark in mst-bench reads: the generated patient record
// (record_generator.h), or the file named by MST_BENCH_RECORD. Built once.
#pragma once

#include <string>

namespace mst::bench {

// The record's JSON text. MST_BENCH_SEED (default 1) picks the generated one.
const std::string& record_text();

}  // namespace mst::bench
