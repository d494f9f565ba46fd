#include "mst/adapter/serve/jwk_set.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <array>
#include <vector>

#include "mst/fhir/json.h"

namespace mst::adapter {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Bn = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using EcSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

constexpr std::size_t kP384Bytes = 48;

Bn to_bn(std::string_view bytes) {
  return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()), nullptr));
}

std::shared_ptr<EVP_PKEY> from_params(const char* type, OSSL_PARAM* params) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return nullptr;
  }
  std::shared_ptr<EVP_PKEY> owned(key, &EVP_PKEY_free);
  // fromdata does not check that an EC point lies on the curve.
  PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return owned;
}

std::shared_ptr<EVP_PKEY> rsa_key(std::string_view n, std::string_view e) {
  Bn bn_n = to_bn(n), bn_e = to_bn(e);
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), "n", bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), "e", bn_e.get()) != 1) {
    return nullptr;
  }
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  auto key = params ? from_params("RSA", params.get()) : nullptr;
  if (key && EVP_PKEY_get_bits(key.get()) < 2048) return nullptr;
  return key;
}

std::shared_ptr<EVP_PKEY> p384_key(std::string_view x, std::string_view y) {
  if (x.size() != kP384Bytes || y.size() != kP384Bytes) return nullptr;
  std::string point = "\x04" + std::string(x) + std::string(y);
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return nullptr;
  }
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  return params ? from_params("EC", params.get()) : nullptr;
}

std::string member(fhir::Node key, std::string_view name) {
  fhir::Node n = key[name];
  return n.is_string() ? std::string(n.as_string()) : std::string();
}

// The key of one JWKS entry, or nullptr when it cannot verify our algorithms.
std::shared_ptr<EVP_PKEY> usable_key(fhir::Node entry, const std::string& kty) {
  const std::string use = member(entry, "use");
  if (!use.empty() && use != "sig") return nullptr;
  try {
    if (kty == "RSA")
      return rsa_key(base64url_decode(member(entry, "n")), base64url_decode(member(entry, "e")));
    if (kty == "EC" && member(entry, "crv") == "P-384") {
      return p384_key(base64url_decode(member(entry, "x")), base64url_decode(member(entry, "y")));
    }
  } catch (const JwksError&) {
    // A coordinate that is not base64url: the key is left out.
  }
  return nullptr;
}

// R||S as the DER ECDSA-Sig-Value OpenSSL verifies; empty when malformed.
std::string der_signature(std::string_view raw) {
  if (raw.size() != 2 * kP384Bytes) return {};
  Bn r = to_bn(raw.substr(0, kP384Bytes)), s = to_bn(raw.substr(kP384Bytes));
  EcSig sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return {};
  // Owned by sig now.
  static_cast<void>(r.release());
  static_cast<void>(s.release());
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::string base64url_decode(std::string_view text) {
  static const std::array<int, 256> kValue = [] {
    std::array<int, 256> v{};
    v.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(alphabet[i])] = i;
    return v;
  }();
  if (text.size() % 4 == 1) throw JwksError("not base64url");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned bits = 0;
  int count = 0;
  for (char ch : text) {
    const int v = kValue[static_cast<unsigned char>(ch)];
    if (v < 0) throw JwksError("not base64url");
    bits = (bits << 6) | static_cast<unsigned>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xFF));
    }
  }
  return out;
}

JwkSet JwkSet::parse(std::string_view json) {
  JwkSet set;
  try {
    auto doc = fhir::JsonDocument::parse(json);
    fhir::Node keys = doc.root().is_object() ? doc.root()["keys"] : fhir::Node();
    if (!keys.is_array()) throw JwksError("a JWKS is an object with a \"keys\" array");
    for (fhir::Node entry : keys.elements()) {
      if (!entry.is_object()) continue;
      Jwk jwk{member(entry, "kid"), member(entry, "kty"), nullptr};
      if (jwk.kid.empty()) continue;
      jwk.key = usable_key(entry, jwk.kty);
      if (jwk.key) set.keys_.emplace(jwk.kid, std::move(jwk));
    }
  } catch (const JwksError&) {
    throw;
  } catch (const std::exception& e) {
    throw JwksError(std::string("the JWKS is not valid JSON: ") + e.what());
  }
  return set;
}

const Jwk* JwkSet::find(std::string_view kid) const {
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : &it->second;
}

bool verify_jws_signature(const Jwk& key, std::string_view alg, std::string_view signing_input,
                          std::string_view signature) {
  std::string der;
  if (alg == "RS384" && key.kty == "RSA") {
    der.assign(signature);
  } else if (alg == "ES384" && key.kty == "EC") {
    der = der_signature(signature);
  } else {
    return false;
  }
  if (der.empty() || !key.key) return false;
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key.key.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der.data()), der.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

}  // namespace mst::adapter
