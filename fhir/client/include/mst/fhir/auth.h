// Credentials for requests to the FHIR server: none, a static bearer token,
// HTTP Basic, or SMART Backend Services (client_credentials with a signed
// private_key_jwt assertion). Secrets come from environment variables or
// files, never from command-line arguments, and never appear in errors.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mst/fhir/http_transport.h"
#include "mst/fhir/retry_policy.h"

namespace mst::fhir {

// Where a secret is read from: exactly one of the two is set.
struct SecretSource {
  std::string env_var;
  std::string file;
};

// The secret's value: the variable's value, or the file's content without
// trailing whitespace. Throws AuthError naming the source (not the value)
// when it is unset, unreadable or empty.
std::string read_secret(const SecretSource& source);

class AuthProvider {
 public:
  virtual ~AuthProvider() = default;
  // Adds credentials to a request bound for the FHIR server; may fetch a
  // token first. Throws AuthError when no credentials can be had.
  virtual void authorize(HttpRequest& request) = 0;
  // Called once after a 401: drops cached credentials. True when fresh ones
  // may differ, so repeating the request is worthwhile.
  virtual bool invalidate() = 0;
  // "none", "bearer", "basic" or "smart", for messages.
  virtual std::string_view scheme() const = 0;
  // The scopes granted with the current credentials when the server said
  // (a SMART token response's `scope`); nullopt when it did not, or before
  // the first authorize().
  virtual std::optional<std::string> granted_scope() const { return std::nullopt; }
};

// True for an http(s) URL whose host is loopback (127.0.0.0/8, ::1,
// localhost); false for anything else, including what does not parse.
bool is_loopback_url(std::string_view url);

// True when `url` is plain http:// to a host that is not loopback
// (127.0.0.0/8, ::1, localhost): credentials sent there cross the network
// readable by anyone on the path. False for https and for what does not parse.
bool is_cleartext_remote(std::string_view url);

std::unique_ptr<AuthProvider> make_no_auth();
// `Authorization: Bearer <token>`. A token from a file is read again after a
// 401, so a rotated token is picked up.
std::unique_ptr<AuthProvider> make_bearer_auth(SecretSource token);
// `Authorization: Basic base64(user:password)`.
std::unique_ptr<AuthProvider> make_basic_auth(const std::string& user,
                                              const SecretSource& password);

struct SmartBackendOptions {
  std::string fhir_base;       // where .well-known/smart-configuration lives
  std::string token_endpoint;  // empty = discover from fhir_base
  std::string client_id;
  std::string private_key_pem;  // RSA (>= 2048 bits) for RS384, EC P-384 for ES384
  std::string key_id;           // JWS `kid`: which of the client's JWKS keys signed
  std::string algorithm = "RS384";
  std::string scope = "system/*.rs";
  // A token endpoint (configured or discovered) that is_cleartext_remote()
  // is refused unless this is set.
  bool allow_insecure_http = false;
  // Assertion lifetime. SMART caps it at five minutes; the margin keeps a
  // token endpoint whose clock runs a minute ahead from refusing it.
  std::chrono::seconds assertion_lifetime{240};
  // An access token is renewed this long before it expires.
  std::chrono::seconds refresh_margin{60};
};

// SMART Backend Services. The token endpoint is discovered on first use,
// the access token cached until `refresh_margin` before `expires_in`
// (read within [0 s, 1 day]; 60 s when absent or unreadable). Discovery and
// the token request are retried under `sender`'s policy (429, 5xx, network
// failures; never 400 or 401), each token attempt with a fresh assertion.
// Throws AuthError at construction when the key or options are unusable.
std::unique_ptr<AuthProvider> make_smart_backend_auth(SmartBackendOptions options,
                                                      std::shared_ptr<RetryingSender> sender);

}  // namespace mst::fhir
