// mst-generate-record: writes the benchmark patient record (record_generator.h)
// to a file or stdout, e.g. for the Java peer benchmark.
//
//   mst-generate-record [--seed N] [--patient-id ID] [--observations N]
//                       [--conditions N] [--care-plans N] [--years N]
//                       [--collection] [--out FILE]
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "record_generator.h"

namespace {

int usage(const char* why) {
  std::cerr << "mst-generate-record: " << why
            << "\nusage: mst-generate-record [--seed N] [--patient-id ID] [--observations N] "
               "[--conditions N]"
               " [--care-plans N] [--years N] [--collection] [--out FILE]\n";
  return 2;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

int main(int argc, char** argv) {
  mst::bench::RecordSpec spec;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--collection") {
      spec.transaction = false;
      continue;
    }
    if (i + 1 >= argc) return usage(("missing value after " + std::string(arg)).c_str());
    std::string_view value = argv[++i];
    bool ok = true;
    if (arg == "--seed") {
      ok = parse_number(value, spec.seed);
    } else if (arg == "--patient-id") {
      spec.patient_id = value;
      ok = !value.empty();
    } else if (arg == "--observations") {
      ok = parse_number(value, spec.observations) && spec.observations >= 0;
    } else if (arg == "--conditions") {
      ok = parse_number(value, spec.conditions) && spec.conditions >= 0;
    } else if (arg == "--care-plans") {
      ok = parse_number(value, spec.care_plans) && spec.care_plans >= 0;
    } else if (arg == "--years") {
      ok = parse_number(value, spec.years) && spec.years >= 1 && spec.years <= 50;
    } else if (arg == "--out") {
      out = value;
    } else {
      return usage(("unknown option " + std::string(arg)).c_str());
    }
    if (!ok)
      return usage(("bad value for " + std::string(arg) + ": " + std::string(value)).c_str());
  }
  std::string json = mst::bench::record_json(spec);
  if (out.empty()) {
    std::cout << json << '\n';
    return std::cout.good() ? 0 : 1;
  }
  std::ofstream f(out, std::ios::binary);
  f << json;
  f.close();
  if (!f) {
    std::cerr << "mst-generate-record: cannot write " << out << ": " << std::strerror(errno)
              << '\n';
    return 1;
  }
  std::cerr << "mst-generate-record: wrote " << json.size() << " bytes to " << out << '\n';
  return 0;
}
