#include "bench_input.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "record_generator.h"

namespace mst::bench {

const std::string& record_text() {
  static const std::string text = [] {
    if (const char* path = std::getenv("MST_BENCH_RECORD"); path && *path) {
      std::ifstream f(path, std::ios::binary);
      if (!f) throw std::runtime_error(std::string("cannot read MST_BENCH_RECORD ") + path);
      std::ostringstream s;
      s << f.rdbuf();
      return s.str();
    }
    RecordSpec spec;
    if (const char* seed = std::getenv("MST_BENCH_SEED"); seed && *seed) {
      spec.seed = std::strtoull(seed, nullptr, 10);
    }
    return record_json(spec);
  }();
  return text;
}

}  // namespace mst::bench
