// A CapabilityStatement for the CLI tests, built from the adapter's own
// interaction table (server_interactions.cc), so a type the adapter starts
// using is offered here without a second list to update.
#pragma once

#include <string>

#include "mst/adapter/pipeline/server_interactions.h"

namespace mst::adapter::testing {

// Every type the adapter uses, with read, search, create and update, minus
// `skip_type`; `conditional_create`, `transaction` and the FHIR version as
// given.
inline std::string capability_statement(const std::string& version = "4.0.1",
                                        bool conditional_create = true, bool transaction = true,
                                        const std::string& skip_type = "") {
  std::string resources;
  for (const auto& row : server_interactions(false)) {
    if (row.type == skip_type) continue;
    if (!resources.empty()) resources += ",";
    resources +=
        R"({"type":")" + row.type +
        R"(","interaction":[{"code":"read"},{"code":"search-type"},{"code":"create"},{"code":"update"}],)" +
        R"("conditionalUpdate":true,"conditionalCreate":)" +
        (conditional_create ? "true" : "false") + "}";
  }
  return R"({"resourceType":"CapabilityStatement","fhirVersion":")" + version +
         R"(","software":{"name":"HAPI FHIR Server","version":"8.8.0"},"rest":[{"mode":"server","interaction":[)" +
         (transaction ? R"({"code":"transaction"})" : "") + R"(],"resource":[)" + resources +
         "]}]}";
}

}  // namespace mst::adapter::testing
