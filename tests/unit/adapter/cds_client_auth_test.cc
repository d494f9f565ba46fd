// The CDS Hooks client-authentication rules, each shown able to refuse: keys
// are generated here (RSA 2048, EC P-384), tokens signed here, the clock fake.
#include "mst/adapter/serve/cds_client_auth.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "mst/adapter/serve/jwk_set.h"
#include "mst/adapter/serve/jwks_cache.h"
#include "mst/fhir/json_value.h"
#include "support/fake_clock.h"

namespace mst::adapter {
namespace {

using fhir::JsonValue;
using fhir::testing::FakeClock;

std::string b64url(std::string_view data) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned bits = 0;
  int count = 0;
  for (unsigned char c : data) {
    bits = (bits << 8) | c;
    count += 8;
    while (count >= 6) {
      count -= 6;
      out.push_back(kAlphabet[(bits >> count) & 63]);
    }
  }
  if (count > 0) out.push_back(kAlphabet[(bits << (6 - count)) & 63]);
  return out;
}

std::string bn_bytes(const BIGNUM* bn, int width = 0) {
  std::string out(static_cast<std::size_t>(width ? width : BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  return out;
}

// A generated key pair, its public JWK and a signer of JWS compact tokens.
struct TestKey {
  std::string kid;
  std::string alg;
  std::shared_ptr<EVP_PKEY> key;

  static TestKey make(std::string kid, std::string alg) {
    EVP_PKEY* k = alg == "RS384" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                                 : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
    return TestKey{std::move(kid), std::move(alg), std::shared_ptr<EVP_PKEY>(k, &EVP_PKEY_free)};
  }

  JsonValue jwk() const {
    if (alg == "RS384") {
      BIGNUM *n = nullptr, *e = nullptr;
      EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &n);
      EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &e);
      JsonValue j = JsonValue::object(
          {{"kty", "RSA"}, {"kid", kid}, {"n", b64url(bn_bytes(n))}, {"e", b64url(bn_bytes(e))}});
      BN_free(n);
      BN_free(e);
      return j;
    }
    BIGNUM *x = nullptr, *y = nullptr;
    EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x);
    EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y);
    JsonValue j = JsonValue::object({{"kty", "EC"},
                                     {"crv", "P-384"},
                                     {"kid", kid},
                                     {"x", b64url(bn_bytes(x, 48))},
                                     {"y", b64url(bn_bytes(y, 48))}});
    BN_free(x);
    BN_free(y);
    return j;
  }

  std::string sign(const JsonValue& header, const JsonValue& claims) const {
    const std::string input = b64url(header.dump()) + "." + b64url(claims.dump());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha384(), nullptr, key.get());
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    if (alg == "ES384") {  // DER to the JWS's R||S
      const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
      ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
      sig = bn_bytes(ECDSA_SIG_get0_r(s), 48) + bn_bytes(ECDSA_SIG_get0_s(s), 48);
      ECDSA_SIG_free(s);
    }
    return input + "." + b64url(sig);
  }
};

constexpr const char* kIss = "https://ehr.example.org";
constexpr const char* kJwksUrl = "https://ehr.example.org/.well-known/jwks.json";
constexpr const char* kAud = "https://cds.example.org/cds-services/mst-spine-careplan";

class CdsClientAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ec_ = new TestKey(TestKey::make("ec-1", "ES384"));
    rsa_ = new TestKey(TestKey::make("rsa-1", "RS384"));
    JsonValue keys = JsonValue::array({ec_->jwk(), rsa_->jwk()});
    jwks_ = new JwkSet(JwkSet::parse(JsonValue::object({{"keys", keys}}).dump()));
  }

  CdsClientAuthTest()
      : clock_(std::make_shared<FakeClock>()),
        auth_(
            {{kIss, kJwksUrl}},
            [this](const TrustedIssuer& issuer, bool refresh) {
              EXPECT_EQ(issuer.iss, kIss);
              ++(refresh ? refreshes_ : lookups_);
              return std::shared_ptr<const JwkSet>(jwks_, [](const JwkSet*) {});
            },
            clock_) {}

  std::int64_t now() const { return FakeClock::kStartEpochSeconds; }

  JsonValue header(const TestKey& k) const {
    return JsonValue::object({{"alg", k.alg}, {"kid", k.kid}, {"typ", "JWT"}});
  }
  JsonValue claims(const std::string& jti = "jti-1") const {
    return JsonValue::object({{"iss", kIss},
                              {"sub", "ehr-client"},
                              {"aud", kAud},
                              {"iat", now()},
                              {"exp", now() + 120},
                              {"jti", jti}});
  }
  CdsCaller check(const std::string& token, const std::string& aud = kAud) {
    return auth_.verify("Bearer " + token, aud);
  }

  static TestKey* ec_;
  static TestKey* rsa_;
  static JwkSet* jwks_;
  std::shared_ptr<FakeClock> clock_;
  int lookups_ = 0;
  int refreshes_ = 0;
  CdsClientAuth auth_;
};
TestKey* CdsClientAuthTest::ec_ = nullptr;
TestKey* CdsClientAuthTest::rsa_ = nullptr;
JwkSet* CdsClientAuthTest::jwks_ = nullptr;

TEST_F(CdsClientAuthTest, AcceptsEs384AndRs384) {
  ASSERT_EQ(jwks_->size(), 2u);
  auto es = check(ec_->sign(header(*ec_), claims("a")));
  EXPECT_TRUE(es.trusted) << es.reason;
  EXPECT_EQ(es.iss, kIss);
  EXPECT_EQ(es.sub, "ehr-client");
  auto rs = check(rsa_->sign(header(*rsa_), claims("b")));
  EXPECT_TRUE(rs.trusted) << rs.reason;
  // The header's scheme is case-insensitive; aud may be an array.
  JsonValue c = claims("c");
  c.set("aud", JsonValue::array({"https://other.example.org", kAud}));
  EXPECT_TRUE(auth_.verify("bearer " + ec_->sign(header(*ec_), c), kAud).trusted);
}

TEST_F(CdsClientAuthTest, RefusesAWrongSignature) {
  const std::string good = ec_->sign(header(*ec_), claims());
  // The claims of one token with the signature of another.
  JsonValue other = claims();
  other.set("sub", "someone-else");
  const std::string signed_other = ec_->sign(header(*ec_), other);
  const std::string forged =
      good.substr(0, good.rfind('.')) + signed_other.substr(signed_other.rfind('.'));
  auto r = check(forged);
  EXPECT_FALSE(r.trusted);
  EXPECT_NE(r.reason.find("signature"), std::string::npos) << r.reason;
  // An RSA signature presented as ES384 under the EC key's kid.
  JsonValue h = header(*ec_);
  EXPECT_FALSE(check(rsa_->sign(h, claims("x"))).trusted);
  // Truncated signature.
  EXPECT_FALSE(check(good.substr(0, good.size() - 4)).trusted);
}

TEST_F(CdsClientAuthTest, RefusesAnUnknownKidAfterOneRefresh) {
  JsonValue h = header(*ec_);
  h.set("kid", "ec-2");
  auto r = check(ec_->sign(h, claims()));
  EXPECT_FALSE(r.trusted);
  EXPECT_NE(r.reason.find("no key 'ec-2'"), std::string::npos) << r.reason;
  EXPECT_EQ(refreshes_, 1);
}

TEST_F(CdsClientAuthTest, RefusesAnUnknownIssuer) {
  JsonValue c = claims();
  c.set("iss", "https://evil.example.org");
  auto r = check(ec_->sign(header(*ec_), c));
  EXPECT_FALSE(r.trusted);
  EXPECT_NE(r.reason.find("not in serve.issuers"), std::string::npos) << r.reason;
  EXPECT_EQ(lookups_, 0);
}

TEST_F(CdsClientAuthTest, RefusesAlgNoneAndHs256) {
  JsonValue none = JsonValue::object({{"alg", "none"}, {"kid", "ec-1"}});
  const std::string unsigned_token =
      ec_->sign(none, claims()).substr(0, ec_->sign(none, claims()).rfind('.') + 1);
  auto r = check(unsigned_token);
  EXPECT_FALSE(r.trusted);
  EXPECT_NE(r.reason.find("alg"), std::string::npos) << r.reason;
  JsonValue hs = JsonValue::object({{"alg", "HS256"}, {"kid", "ec-1"}});
  EXPECT_FALSE(check(ec_->sign(hs, claims())).trusted);
  // ES384 named in the header but the key is RSA: the alg must fit the key.
  JsonValue mixed = header(*rsa_);
  mixed.set("alg", "ES384");
  EXPECT_FALSE(check(rsa_->sign(mixed, claims())).trusted);
}

TEST_F(CdsClientAuthTest, RefusesAWrongAudience) {
  auto r = check(ec_->sign(header(*ec_), claims()),
                 "https://cds.example.org/cds-services/another-service");
  EXPECT_FALSE(r.trusted);
  EXPECT_NE(r.reason.find("aud"), std::string::npos) << r.reason;
}

TEST_F(CdsClientAuthTest, RefusesAnExpiredToken) {
  JsonValue c = claims();
  c.set("iat", now() - 200);
  c.set("exp", now() - 61);
  auto r = check(ec_->sign(header(*ec_), c));
  EXPECT_FALSE(r.trusted);
  EXPECT_NE(r.reason.find("expired"), std::string::npos) << r.reason;
  // Within the 60 s skew it still passes.
  c.set("exp", now() - 30);
  c.set("jti", "skewed");
  EXPECT_TRUE(check(ec_->sign(header(*ec_), c)).trusted);
}

TEST_F(CdsClientAuthTest, RefusesAnIatInTheFuture) {
  JsonValue c = claims();
  c.set("iat", now() + 61);
  c.set("exp", now() + 120);
  auto r = check(ec_->sign(header(*ec_), c));
  EXPECT_FALSE(r.trusted);
  EXPECT_NE(r.reason.find("future"), std::string::npos) << r.reason;
}

TEST_F(CdsClientAuthTest, RefusesALifetimeOverFiveMinutes) {
  JsonValue c = claims();
  c.set("exp", now() + 301);
  auto r = check(ec_->sign(header(*ec_), c));
  EXPECT_FALSE(r.trusted);
  EXPECT_NE(r.reason.find("5 minutes"), std::string::npos) << r.reason;
  c.set("exp", now() + 300);
  EXPECT_TRUE(check(ec_->sign(header(*ec_), c)).trusted);
}

TEST_F(CdsClientAuthTest, RefusesAMissingJti) {
  JsonValue c = claims();
  c.set("jti", "");
  auto r = check(ec_->sign(header(*ec_), c));
  EXPECT_FALSE(r.trusted);
  EXPECT_NE(r.reason.find("jti"), std::string::npos) << r.reason;
}

TEST_F(CdsClientAuthTest, RefusesAReplayedJtiUntilItExpires) {
  const std::string token = ec_->sign(header(*ec_), claims("once"));
  EXPECT_TRUE(check(token).trusted);
  auto r = check(token);
  EXPECT_FALSE(r.trusted);
  EXPECT_NE(r.reason.find("replay"), std::string::npos) << r.reason;
  // The same jti in a fresh token later, after the first could no longer be used.
  clock_->advance(std::chrono::minutes(4));
  JsonValue c = claims("once");
  c.set("iat", now() + 240);
  c.set("exp", now() + 300);
  EXPECT_TRUE(check(ec_->sign(header(*ec_), c)).trusted);
}

TEST_F(CdsClientAuthTest, RefusesAJkuOtherThanTheConfiguredOne) {
  JsonValue h = header(*ec_);
  h.set("jku", "https://evil.example.org/jwks.json");
  EXPECT_FALSE(check(ec_->sign(h, claims())).trusted);
  h.set("jku", kJwksUrl);
  EXPECT_TRUE(check(ec_->sign(h, claims())).trusted);
}

TEST_F(CdsClientAuthTest, RefusesWhatIsNotABearerJwt) {
  EXPECT_FALSE(auth_.verify("", kAud).trusted);
  EXPECT_FALSE(auth_.verify("Basic dXNlcjpwdw==", kAud).trusted);
  EXPECT_FALSE(auth_.verify("Bearer a.b", kAud).trusted);
  EXPECT_FALSE(auth_.verify("Bearer !!.??.**", kAud).trusted);
  EXPECT_FALSE(auth_.verify("Bearer e30.W10.", kAud).trusted);  // {} and []
}

TEST_F(CdsClientAuthTest, AFullReplayCacheRefusesRatherThanForgets) {
  CdsClientAuth small(
      {{kIss, kJwksUrl}},
      [](const TrustedIssuer&, bool) {
        return std::shared_ptr<const JwkSet>(jwks_, [](const JwkSet*) {});
      },
      clock_, 2);
  EXPECT_TRUE(small.verify("Bearer " + ec_->sign(header(*ec_), claims("1")), kAud).trusted);
  EXPECT_TRUE(small.verify("Bearer " + ec_->sign(header(*ec_), claims("2")), kAud).trusted);
  EXPECT_FALSE(small.verify("Bearer " + ec_->sign(header(*ec_), claims("3")), kAud).trusted);
}

TEST(JwkSetTest, LeavesOutKeysItCannotUse) {
  auto set = JwkSet::parse(R"({"keys": [
      {"kty": "EC", "crv": "P-256", "kid": "p256", "x": "AA", "y": "AA"},
      {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
      {"kty": "RSA", "kid": "short", "n": "AQAB", "e": "AQAB"},
      {"kty": "EC", "crv": "P-384", "kid": "offcurve",
       "x": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
       "y": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"}]})");
  EXPECT_EQ(set.size(), 0u);
  EXPECT_THROW(JwkSet::parse("[]"), JwksError);
  EXPECT_THROW(JwkSet::parse("{"), JwksError);
}

TEST(JwksCacheTest, ReadsAFileAgainOnlyAfterMaxAgeOrAMissingKid) {
  const std::string path = ::testing::TempDir() + "cds_client_auth_jwks.json";
  auto write = [&](const std::string& text) { std::ofstream(path, std::ios::trunc) << text; };
  const std::string one_key =
      R"({"keys": [{"kty": "RSA", "kid": "short", "n": "AQAB", "e": "AQAB"}]})";
  write(one_key);
  auto clock = std::make_shared<FakeClock>();
  JwksCache cache(nullptr, clock, std::chrono::seconds(300), std::chrono::seconds(30));
  const TrustedIssuer issuer{"iss", path};
  auto first = cache.get(issuer, false);
  write("not json");
  EXPECT_EQ(cache.get(issuer, false), first);  // cached
  EXPECT_EQ(cache.get(issuer, true), first);   // refreshed too recently
  clock->advance(std::chrono::seconds(31));
  EXPECT_THROW(cache.get(issuer, true), JwksError);  // a refresh reads the file
  EXPECT_EQ(cache.get(issuer, false), first);        // a failed refresh keeps the fresh set
  write(one_key);
  EXPECT_NE(cache.get(issuer, true), first);
  clock->advance(std::chrono::seconds(301));
  std::remove(path.c_str());
  EXPECT_THROW(cache.get(issuer, false), JwksError);  // past max_age: never the stale set
  EXPECT_THROW(cache.get({"iss", "https://ehr.example.org/jwks"}, false),
               JwksError);  // no transport
}

TEST(ServiceAudienceTest, IsTheServiceUrlAndForFeedbackItsOwnToo) {
  using V = std::vector<std::string>;
  EXPECT_EQ(service_audiences("https://cds.example.org/", "/cds-services/mst-spine-careplan"),
            V{kAud});
  EXPECT_EQ(
      service_audiences("https://cds.example.org", "/cds-services/mst-spine-careplan/feedback"),
      (V{kAud, std::string(kAud) + "/feedback"}));
  EXPECT_TRUE(service_audiences("https://cds.example.org", "/cds-services").empty());
  EXPECT_TRUE(service_audiences("https://cds.example.org", "/cds-services/a/b").empty());
  EXPECT_TRUE(service_audiences("https://cds.example.org", "/healthz").empty());
}

}  // namespace
}  // namespace mst::adapter
