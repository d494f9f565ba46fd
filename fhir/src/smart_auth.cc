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
#include "mst/fhir/url.h"

namespace mst::fhir {

namespace {

using std::chrono::seconds;

AuthError auth_error(const std::string& reason) { return AuthError("", "", 0, "", reason); }

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

 private:
  void discover() {
    std::string base = options_.fhir_base;
    while (!base.empty() && base.back() == '/') base.pop_back();
    HttpRequest request{
        "GET", base + "/.well-known/smart-configuration", {{"Accept", "application/json"}}, "", {}};
    SendResult result;
    try {
      result = sender_->send(request, true, sender_->deadline_from_now());
    } catch (const ClientError& e) {
      throw auth_error(std::string("SMART discovery failed: ") + e.what());
    }
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

  void fetch_token() {
    if (options_.token_endpoint.empty()) discover();
    const std::string jwt = assertion();
    HttpRequest request{
        "POST",
        options_.token_endpoint,
        {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
        encode_query(
            {{"grant_type", "client_credentials"},
             {"scope", options_.scope},
             {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
             {"client_assertion", jwt}}),
        {}};
    SendResult result;
    try {
      // Sent once: a replayed assertion (same jti) would rightly be refused.
      result = sender_->send(request, false, sender_->deadline_from_now());
    } catch (const ClientError& e) {
      throw auth_error(std::string("SMART token request failed: ") + e.what());
    }
    const HttpResponse& response = result.response;
    std::optional<JsonDocument> doc;
    try {
      doc = JsonDocument::parse(response.body);
    } catch (const Error&) {
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
    std::int64_t expires_in = 300;  // SMART requires expires_in; assume its usual value if absent
    try {
      if (!doc || !doc->root().is_object()) throw ElementError("not a JSON object");
      token = std::string(doc->root().string("access_token").value_or(""));
      std::string type(doc->root().string("token_type").value_or("bearer"));
      for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (type != "bearer") throw ElementError("token_type is not bearer");
      if (auto e = doc->root().integer("expires_in")) expires_in = *e;
    } catch (const Error& e) {
      throw AuthError("POST", request.url, 200, "",
                      std::string("unusable token response: ") + e.what());
    }
    if (token.empty())
      throw AuthError("POST", request.url, 200, "", "token response has no access_token");
    if (expires_in <= 0)
      throw AuthError("POST", request.url, 200, "", "token response has expires_in <= 0");
    // Renew `refresh_margin` early, but never spend more than half a short
    // token's life on the margin.
    const auto margin = std::min<std::int64_t>(options_.refresh_margin.count(), expires_in / 2);
    renew_at_ = sender_->clock().steady_now() + seconds(expires_in - margin);
    token_ = std::move(token);
  }

  SmartBackendOptions options_;
  std::shared_ptr<RetryingSender> sender_;
  JwsSigner signer_;
  std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point renew_at_;
};

}  // namespace

std::unique_ptr<AuthProvider> make_smart_backend_auth(SmartBackendOptions options,
                                                      std::shared_ptr<RetryingSender> sender) {
  return std::make_unique<SmartBackendAuth>(std::move(options), std::move(sender));
}

}  // namespace mst::fhir
