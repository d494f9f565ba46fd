// How a patient's reads reach the server (server.read_mode): one request per
// search, or every search in one batch Bundle (one request where there were
// ~15; R4 http.html#brules). The pull and the plan writer's ownership
// searches read the same way.
#pragma once

#include <optional>
#include <string_view>

#include "mst/fhir/client.h"
#include "mst/fhir/client_errors.h"

namespace mst::adapter {

// `kAuto` is resolved by the caller: batch when the server declares the
// `batch` interaction.
enum class ReadMode { kAuto, kBatch, kSearches };
// "auto", "batch", "searches".
std::optional<ReadMode> parse_read_mode(std::string_view name);
// kBatch when `caps` declare the system `batch` interaction, else kSearches.
ReadMode auto_read_mode(const fhir::Capabilities& caps);

// True when a batch of reads was refused as a request the server does not
// take (a 4xx other than auth and throttling): a server that declares batch
// for writes only. The reads then go as searches.
bool batch_refused(const fhir::ClientError& e);

}  // namespace mst::adapter
