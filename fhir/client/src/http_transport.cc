#include "mst/fhir/http_transport.h"

#include <cctype>

namespace mst::fhir {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

HttpResponse HttpTransport::send_streamed(const HttpRequest& request, const BodySink& sink) {
  HttpResponse response = send(request);
  if (response.status >= 200 && response.status < 300) {
    if (!response.body.empty()) sink(response.body);
    response.body.clear();
  }
  return response;
}

const char* to_string(TransportError::Kind kind) {
  switch (kind) {
    case TransportError::Kind::kConnect:
      return "connect";
    case TransportError::Kind::kTimeout:
      return "timeout";
    case TransportError::Kind::kTls:
      return "tls";
    case TransportError::Kind::kProtocol:
      return "protocol";
    case TransportError::Kind::kTooLarge:
      return "too_large";
    case TransportError::Kind::kInvalidRequest:
      return "invalid_request";
  }
  return "unknown";
}

}  // namespace mst::fhir
