// A JSON Web Key Set (RFC 7517) read for verifying CDS Hooks JWTs: the RSA
// (2048 bits or more) and EC P-384 public keys by kid, and the RS384 and
// ES384 signature checks (RFC 7518) against one of them.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

using EVP_PKEY = struct evp_pkey_st;  // as <openssl/types.h> declares it

namespace mst::adapter {

class JwksError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One public key of the set. `kty` is "RSA" or "EC" (always P-384).
struct Jwk {
  std::string kid;
  std::string kty;
  std::shared_ptr<EVP_PKEY> key;
};

class JwkSet {
 public:
  // Reads {"keys": [...]}. Throws JwksError when the text is not such an
  // object; a key that cannot verify RS384 or ES384 (another kty or curve,
  // a short RSA modulus, a point off the curve, no kid, a private-only use)
  // is left out, so one odd key does not lock out its neighbours.
  static JwkSet parse(std::string_view json);

  // The key named `kid`; nullptr when the set has none.
  const Jwk* find(std::string_view kid) const;
  std::size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, Jwk, std::less<>> keys_;
};

// True when `signature` (the JWS's raw bytes: PKCS#1 v1.5 for RS384, R||S of
// 48 bytes each for ES384) signs `signing_input` with `key` under `alg`;
// false for any other alg or a key of the wrong type.
bool verify_jws_signature(const Jwk& key, std::string_view alg, std::string_view signing_input,
                          std::string_view signature);

// RFC 4648 base64url without padding; nullopt-like failure is a JwksError.
std::string base64url_decode(std::string_view text);

}  // namespace mst::adapter
