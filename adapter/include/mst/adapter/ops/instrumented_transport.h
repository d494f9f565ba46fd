// An HttpTransport decorator that counts every exchange by status class and
// records its latency in the metrics registry: the sync's view of the server.
#pragma once

#include <functional>
#include <memory>

#include "mst/adapter/ops/metrics.h"
#include "mst/fhir/http_transport.h"

namespace mst::adapter {

class InstrumentedTransport : public fhir::HttpTransport {
 public:
  InstrumentedTransport(std::shared_ptr<fhir::HttpTransport> inner, Metrics& metrics)
      : inner_(std::move(inner)), metrics_(metrics) {}

  fhir::HttpResponse send(const fhir::HttpRequest& request) override;
  // Forwarded as a stream: the default would read the whole body first.
  fhir::HttpResponse send_streamed(const fhir::HttpRequest& request,
                                   const fhir::BodySink& sink) override;

 private:
  fhir::HttpResponse measured(const std::function<fhir::HttpResponse()>& exchange);

  std::shared_ptr<fhir::HttpTransport> inner_;
  Metrics& metrics_;
};

}  // namespace mst::adapter
