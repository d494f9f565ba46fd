#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "mst/adapter/cli/app.h"

extern char** environ;

int main(int argc, char** argv) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    if (auto eq = entry.find('='); eq != std::string::npos)
      env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  mst::adapter::cli::Context context{
      std::cout, std::cerr, std::move(env), [](const mst::fhir::TransportOptions& options) {
        return std::shared_ptr<mst::fhir::HttpTransport>(mst::fhir::make_poco_transport(options));
      }};
  return mst::adapter::cli::run_cli(std::vector<std::string>(argv + 1, argv + argc), context);
}
