#include "mst/adapter/ops/instrumented_transport.h"

#include <chrono>

namespace mst::adapter {

fhir::HttpResponse InstrumentedTransport::send(const fhir::HttpRequest& request) {
  return measured([&] { return inner_->send(request); });
}

fhir::HttpResponse InstrumentedTransport::send_streamed(const fhir::HttpRequest& request,
                                                        const fhir::BodySink& sink) {
  return measured([&] { return inner_->send_streamed(request, sink); });
}

fhir::HttpResponse InstrumentedTransport::measured(
    const std::function<fhir::HttpResponse()>& exchange) {
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  try {
    fhir::HttpResponse r = exchange();
    metrics_.observe("mst_fhir_request_duration_seconds", elapsed());
    metrics_.count("mst_fhir_requests_total", std::to_string(r.status / 100) + "xx");
    return r;
  } catch (const fhir::TransportError&) {
    metrics_.observe("mst_fhir_request_duration_seconds", elapsed());
    metrics_.count("mst_fhir_requests_total", "no-response");
    throw;
  }
}

}  // namespace mst::adapter
