// SMART Backend Services (SMART App Launch 2.x, "Backend Services"): the
// client proves its identity with a JWT signed by its private key and trades
// it for a short-lived access token at the server's token endpoint.
#include <Poco/Base64Encoder.h>
#include <Poco/Crypto/ECDSADigestEngine.h>
#include <Poco/Crypto/ECKey.h>
#include <Poco/Crypto/EVPPKey.h>
#include <Poco/Crypto/RSADigestEngine.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/Exception.h>
#include <Poco/UUIDGenerator.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cctype>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>

#include "mst/fhir/auth.h"
#include "mst/fhir/client_errors.h"
#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"
#include "mst/fhir/retry_policy.h"
#include "mst/fhir/url.h"

namespace mst::fhir {

namespace {

using std::chrono::seconds;

AuthError auth_error(const std::string& reason) { return AuthError("", "", 0, "", reason); }

// A token's `expires_in` as a lifetime we can add to a clock: a number
// (fractions dropped) or a string of digits, within [0 s, 1 day]; 60 s when
// absent or neither. SMART requires the field, but servers send strings,
// negatives and absurd values, and none of them may overflow a time_point.
seconds token_lifetime(Node expires_in) {
  constexpr std::int64_t kMax = 86'400;
  constexpr seconds kDefault{60};
  double value = 0;
  if (expires_in.present() && expires_in.raw()->IsNumber()) {
    value = expires_in.as_number();
  } else if (expires_in.is_string()) {
    std::string_view text = expires_in.as_string();
    if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos)
      return kDefault;
    value = text.size() > 9 ? static_cast<double>(kMax) : std::stod(std::string(text));
  } else {
    return kDefault;
  }
  if (!(value > 0)) return seconds(0);  // also NaN
  if (value >= static_cast<double>(kMax)) return seconds(kMax);
  return seconds(static_cast<std::int64_t>(value));
}

std::string base64url(std::string_view data) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  encoder.rdbuf()->setLineLength(0);
  encoder.write(data.data(), static_cast<std::streamsize>(data.size()));
  encoder.close();
  return out.str();
}

// Never prompts: without this OpenSSL asks the terminal for the passphrase
// of an encrypted key.
int no_passphrase(char*, int, int, void*) { return 0; }

using PrivateKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// Read with OpenSSL rather than Poco's EVPPKey(istream), which in Poco 1.11
// leaks the key it allocated whenever the PEM text does not parse.
PrivateKey read_private_key(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  PrivateKey key(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, &no_passphrase, nullptr) : nullptr,
      &EVP_PKEY_free);
  if (!key) throw Poco::Exception("unreadable private key");
  return key;
}

// Signs JWS compact serializations. ECDSA is done here rather than through
// Poco::JWT::Signer because Poco 1.11 does not left-pad R and S to the P-384
// coordinate size, so about one ES384 signature in a hundred came out 95
// bytes long and was invalid (RFC 7518 section 3.4 wants exactly 96).
class JwsSigner {
 public:
  JwsSigner(const std::string& pem, std::string algorithm) : algorithm_(std::move(algorithm)) {
    if (algorithm_ != "RS384" && algorithm_ != "ES384") {
      throw auth_error("unsupported signing algorithm '" + algorithm_ + "' (use RS384 or ES384)");
    }
    try {
      Poco::Crypto::EVPPKey key(read_private_key(pem).get());
      if (algorithm_ == "RS384") {
        rsa_.emplace(key);
        // RSAKey::size() is in bytes.
        if (rsa_->size() * 8 < 2048)
          throw auth_error("RS384 needs an RSA key of at least 2048 bits");
      } else {
        ec_.emplace(key);
        if (ec_->size() != 384) {
          throw auth_error("ES384 needs an EC key on curve P-384, got a " +
                           std::to_string(ec_->size()) + "-bit key");
        }
      }
    } catch (const AuthError&) {
      throw;
    } catch (const Poco::Exception&) {
      // Poco's message may quote key material: say only what kind of failure it was.
      throw auth_error("the private key is not a readable " +
                       std::string(algorithm_ == "RS384" ? "RSA" : "EC") +
                       " private key in PEM form");
    }
  }

  const std::string& algorithm() const { return algorithm_; }

  std::string sign(const std::string& header_json, const std::string& claims_json) const {
    const std::string input = base64url(header_json) + "." + base64url(claims_json);
    std::string signature;
    if (rsa_) {
      Poco::Crypto::RSADigestEngine engine(*rsa_, "SHA384");
      engine.update(input);
      const auto& sig = engine.signature();
      signature.assign(sig.begin(), sig.end());
    } else {
      Poco::Crypto::ECDSADigestEngine engine(*ec_, "SHA384");
      engine.update(input);
      Poco::Crypto::ECDSASignature der(engine.signature());
      signature = fixed_width(der.rawR(), 48) + fixed_width(der.rawS(), 48);
    }
    return input + "." + base64url(signature);
  }

 private:
  static std::string fixed_width(const std::vector<unsigned char>& v, std::size_t width) {
    std::size_t skip = 0;  // a DER-style leading zero, if any
    while (v.size() - skip > width && v[skip] == 0) ++skip;
    std::string out(width - std::min(width, v.size() - skip), '\0');
    out.append(v.begin() + static_cast<std::ptrdiff_t>(skip), v.end());
    return out;
  }

  std::string algorithm_;
  std::optional<Poco::Crypto::RSAKey> rsa_;
  std::optional<Poco::Crypto::ECKey> ec_;
};

class SmartBackendAuth final : public AuthProvider {
 public:
  SmartBackendAuth(SmartBackendOptions options, std::shared_ptr<RetryingSender> sender)
      : options_(std::move(options)),
        sender_(std::move(sender)),
        signer_(options_.private_key_pem, options_.algorithm) {
    options_.private_key_pem.clear();  // the signer holds the key; keep no second copy
    if (options_.client_id.empty()) throw auth_error("SMART backend auth needs a client id");
    if (options_.key_id.empty()) throw auth_error("SMART backend auth needs a key id (kid)");
    if (options_.assertion_lifetime > seconds(300) || options_.assertion_lifetime <= seconds(0)) {
      throw auth_error("the client assertion lifetime must be between 1 and 300 seconds");
    }
    if (options_.token_endpoint.empty() && !is_http_url(options_.fhir_base)) {
      throw auth_error("SMART backend auth needs the FHIR base URL to discover the token endpoint");
    }
    if (!options_.token_endpoint.empty()) {
      if (!is_http_url(options_.token_endpoint))
        throw auth_error("the SMART token endpoint is not an http(s) URL");
      if (refused_in_clear(options_.token_endpoint)) throw auth_error(in_clear_message());
    }
  }

  void authorize(HttpRequest& request) override {
    std::lock_guard lock(mu_);
    const auto now = sender_->clock().steady_now();
    if (token_.empty() || now >= renew_at_) fetch_token();
    request.headers.emplace_back("Authorization", "Bearer " + token_);
  }

  bool invalidate() override {
    std::lock_guard lock(mu_);
    token_.clear();
    return true;
  }

  std::string_view scheme() const override { return "smart"; }

  std::optional<std::string> granted_scope() const override {
    std::lock_guard lock(mu_);
    return granted_scope_;
  }

 private:
  bool refused_in_clear(const std::string& url) const {
    return !options_.allow_insecure_http && is_cleartext_remote(url);
  }

  std::string in_clear_message() const {
    return "refusing to send the client assertion over plain http to the token endpoint " +
           redact_url(options_.token_endpoint) +
           ": use https (allow it on a test network with --allow-insecure-http, "
           "auth.allow_insecure_http)";
  }

  void discover() {
    std::string base = options_.fhir_base;
    while (!base.empty() && base.back() == '/') base.pop_back();
    HttpRequest request{
        "GET", base + "/.well-known/smart-configuration", {{"Accept", "application/json"}}, "", {}};
    // An unreachable server is reported as such (exit 3), not as a refusal.
    SendResult result = sender_->send(request, true, sender_->deadline_from_now());
    if (result.response.status != 200) {
      throw AuthError(
          "GET", request.url, result.response.status, "",
          "SMART discovery failed (no smart-configuration; give the token endpoint explicitly)");
    }
    std::string endpoint;
    try {
      auto doc = JsonDocument::parse(result.response.body);
      endpoint = std::string(doc.root().string("token_endpoint").value_or(""));
      if (Node algs = doc.root()["token_endpoint_auth_signing_alg_values_supported"];
          algs.is_array()) {
        bool found = false;
        std::string offered;
        for (Node a : algs.elements()) {
          if (!a.is_string()) continue;
          if (a.as_string() == signer_.algorithm()) found = true;
          offered += (offered.empty() ? "" : ", ") + std::string(a.as_string());
        }
        if (!found) {
          throw AuthError("GET", request.url, 0, "",
                          "the server does not accept " + signer_.algorithm() +
                              " client assertions (it offers " + offered + ")");
        }
      }
    } catch (const AuthError&) {
      throw;
    } catch (const Error&) {
      throw AuthError("GET", request.url, 200, "",
                      "smart-configuration is not a valid JSON object");
    }
    if (!is_http_url(endpoint)) {
      throw AuthError("GET", request.url, 200, "",
                      "smart-configuration has no usable token_endpoint");
    }
    options_.token_endpoint = endpoint;
    if (refused_in_clear(endpoint)) {
      const std::string message = in_clear_message();
      options_.token_endpoint.clear();
      throw AuthError("GET", request.url, 200, "", message);
    }
  }

  std::string assertion() const {
    const auto now = sender_->clock().now();
    const auto exp =
        std::chrono::duration_cast<seconds>((now + options_.assertion_lifetime).time_since_epoch());
    JsonValue header =
        JsonValue::object({{"alg", signer_.algorithm()}, {"kid", options_.key_id}, {"typ", "JWT"}});
    JsonValue claims = JsonValue::object(
        {{"iss", options_.client_id},
         {"sub", options_.client_id},
         {"aud", options_.token_endpoint},
         {"exp", static_cast<std::int64_t>(exp.count())},
         {"jti", Poco::UUIDGenerator::defaultGenerator().createRandom().toString()}});
    return signer_.sign(header.dump(), claims.dump());
  }

  // A token request carrying a fresh assertion; `jwt` receives it so that
  // an error echoing it can be redacted.
  HttpRequest token_request(std::string& jwt) const {
    jwt = assertion();
    return HttpRequest{
        "POST",
        options_.token_endpoint,
        {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
        encode_query(
            {{"grant_type", "client_credentials"},
             {"scope", options_.scope},
             {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
             {"client_assertion", jwt}}),
        {}};
  }

  void fetch_token() {
    if (options_.token_endpoint.empty()) discover();
    std::string jwt;
    HttpRequest request = token_request(jwt);
    // Retried like any request, but each attempt with a new assertion: one
    // the server already saw (same jti) would rightly be refused. Transport
    // failures and deadlines propagate as themselves (exit 3).
    SendResult result = sender_->send_renewed(
        request, [&] { return token_request(jwt); }, sender_->deadline_from_now());
    const HttpResponse& response = result.response;
    std::optional<JsonDocument> doc;
    try {
      doc = JsonDocument::parse(response.body);
    } catch (const Error&) {
    }
    if (response.status != 200 && is_retryable_status(response.status)) {
      // Still overloaded or down after the retries: not a verdict on our
      // credentials.
      throw HttpStatusError("POST", request.url, response.status, "",
                            "token endpoint unavailable (" + result.gave_up + ")");
    }
    if (response.status != 200) {
      std::string reason = "token endpoint refused the client";
      if (doc && doc->root().is_object()) {
        try {
          if (auto code = doc->root().string("error")) reason += " (" + std::string(*code);
          if (auto text = doc->root().string("error_description"))
            reason += ": " + std::string(*text);
          if (doc->root().string("error")) reason += ")";
        } catch (const Error&) {
        }
      }
      throw AuthError("POST", request.url, response.status, "", redact_secret(reason, jwt));
    }
    std::string token;
    std::optional<std::string> scope;
    try {
      if (!doc || !doc->root().is_object()) throw ElementError("not a JSON object");
      token = std::string(doc->root().string("access_token").value_or(""));
      std::string type(doc->root().string("token_type").value_or("bearer"));
      for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (type != "bearer") throw ElementError("token_type is not bearer");
      if (Node s = doc->root()["scope"]; s.is_string()) scope = std::string(s.as_string());
    } catch (const Error& e) {
      throw AuthError("POST", request.url, 200, "",
                      std::string("unusable token response: ") + e.what());
    }
    if (token.empty())
      throw AuthError("POST", request.url, 200, "", "token response has no access_token");
    const std::int64_t expires_in = token_lifetime(doc->root()["expires_in"]).count();
    // Renew `refresh_margin` early, but never spend more than half a short
    // token's life on the margin.
    const auto margin = std::min<std::int64_t>(options_.refresh_margin.count(), expires_in / 2);
    renew_at_ = sender_->clock().steady_now() + seconds(expires_in - margin);
    token_ = std::move(token);
    granted_scope_ = std::move(scope);
  }

  SmartBackendOptions options_;
  std::shared_ptr<RetryingSender> sender_;
  JwsSigner signer_;
  mutable std::mutex mu_;
  std::string token_;
  std::optional<std::string> granted_scope_;
  std::chrono::steady_clock::time_point renew_at_;
};

}  // namespace

std::unique_ptr<AuthProvider> make_smart_backend_auth(SmartBackendOptions options,
                                                      std::shared_ptr<RetryingSender> sender) {
  return std::make_unique<SmartBackendAuth>(std::move(options), std::move(sender));
}

}  // namespace mst::fhir
