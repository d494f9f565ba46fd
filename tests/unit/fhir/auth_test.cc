#include "mst/fhir/auth.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Crypto/ECKey.h>
#include <Poco/Crypto/RSAKey.h>
#include <Poco/JWT/Signer.h>
#include <Poco/URI.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "mst/fhir/client_errors.h"
#include "mst/fhir/rest_client.h"
#include "support/mock_transport.h"

namespace mst::fhir {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::_;
using testing::FakeClock;
using testing::header_of;
using ::testing::Invoke;
using testing::MockTransport;
using testing::response;

struct KeyPair {
  std::string public_pem;
  std::string private_pem;
};

KeyPair rsa_key(Poco::Crypto::RSAKey::KeyLength bits = Poco::Crypto::RSAKey::KL_2048) {
  Poco::Crypto::RSAKey key(bits, Poco::Crypto::RSAKey::EXP_LARGE);
  std::ostringstream pub, priv;
  key.save(&pub, &priv);
  return {pub.str(), priv.str()};
}

KeyPair ec_key(const std::string& curve = "secp384r1") {
  Poco::Crypto::ECKey key(curve);
  std::ostringstream pub, priv;
  key.save(&pub, &priv);
  return {pub.str(), priv.str()};
}

std::map<std::string, std::string> form_fields(const std::string& body) {
  std::map<std::string, std::string> out;
  std::istringstream in(body);
  std::string pair;
  while (std::getline(in, pair, '&')) {
    auto eq = pair.find('=');
    std::string name, value;
    Poco::URI::decode(pair.substr(0, eq), name);
    Poco::URI::decode(pair.substr(eq + 1), value);
    out[name] = value;
  }
  return out;
}

std::string decode_base64(const std::string& text) {
  std::istringstream in(text);
  Poco::Base64Decoder decoder(in);
  return std::string(std::istreambuf_iterator<char>(decoder), {});
}

// A temporary file removed at scope end.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = (std::filesystem::temp_directory_path() /
             ("mst-auth-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++)))
                .string();
    write(content);
  }
  ~TempFile() { std::filesystem::remove(path_); }
  void write(const std::string& content) const { std::ofstream(path_, std::ios::trunc) << content; }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

// ---- secrets ----

TEST(ReadSecret, ReadsAnEnvironmentVariable) {
  ::setenv("MST_TEST_SECRET", "s3cret-value\n", 1);
  EXPECT_EQ(read_secret({"MST_TEST_SECRET", ""}), "s3cret-value");
  ::setenv("MST_TEST_SECRET", "", 1);
  EXPECT_EQ(message_of([] {
              read_secret({"MST_TEST_SECRET", ""});
            }),
            "environment variable MST_TEST_SECRET is empty");
  ::unsetenv("MST_TEST_SECRET");
  EXPECT_THROW(read_secret({"MST_TEST_SECRET", ""}), AuthError);
}

TEST(ReadSecret, ReadsAFileWithoutItsTrailingNewline) {
  TempFile f("tok-123\n");
  EXPECT_EQ(read_secret({"", f.path()}), "tok-123");
  f.write("\n");
  EXPECT_THROW(read_secret({"", f.path()}), AuthError);
  f.write("line1\nline2");
  std::string m = message_of([&] { read_secret({"", f.path()}); });
  EXPECT_NE(m.find("control characters"), std::string::npos) << m;
  EXPECT_EQ(m.find("line1"), std::string::npos) << m;
  EXPECT_THROW(read_secret({"", "/nonexistent/mst/secret"}), AuthError);
}

TEST(ReadSecret, NeedsExactlyOneSource) {
  EXPECT_THROW(read_secret({"", ""}), AuthError);
  EXPECT_THROW(read_secret({"A", "/b"}), AuthError);
}

// ---- static credentials ----

TEST(BearerAuth, AddsTheTokenAndRereadsAFileAfter401) {
  TempFile f("token-one\n");
  auto auth = make_bearer_auth({"", f.path()});
  HttpRequest r;
  auth->authorize(r);
  EXPECT_EQ(header_of(r, "Authorization"), "Bearer token-one");
  EXPECT_FALSE(auth->invalidate());  // unchanged file: repeating would not help
  f.write("token-two");
  EXPECT_TRUE(auth->invalidate());
  HttpRequest r2;
  auth->authorize(r2);
  EXPECT_EQ(header_of(r2, "Authorization"), "Bearer token-two");
  EXPECT_EQ(auth->scheme(), "bearer");
}

TEST(BearerAuth, FromTheEnvironmentIsNotRetried) {
  ::setenv("MST_TEST_TOKEN", "env-token", 1);
  auto auth = make_bearer_auth({"MST_TEST_TOKEN", ""});
  HttpRequest r;
  auth->authorize(r);
  EXPECT_EQ(header_of(r, "Authorization"), "Bearer env-token");
  EXPECT_FALSE(auth->invalidate());
  ::unsetenv("MST_TEST_TOKEN");
}

TEST(BasicAuth, EncodesUserAndPassword) {
  ::setenv("MST_TEST_PASSWORD", "pa:ss word", 1);
  auto auth = make_basic_auth("adapter", {"MST_TEST_PASSWORD", ""});
  HttpRequest r;
  auth->authorize(r);
  const std::string h = header_of(r, "Authorization");
  ASSERT_TRUE(h.starts_with("Basic "));
  EXPECT_EQ(decode_base64(h.substr(6)), "adapter:pa:ss word");
  EXPECT_THROW(make_basic_auth("bad:user", {"MST_TEST_PASSWORD", ""}), AuthError);
  EXPECT_THROW(make_basic_auth("", {"MST_TEST_PASSWORD", ""}), AuthError);
  ::unsetenv("MST_TEST_PASSWORD");
}

TEST(NoAuth, AddsNothing) {
  auto auth = make_no_auth();
  HttpRequest r;
  auth->authorize(r);
  EXPECT_TRUE(r.headers.empty());
  EXPECT_FALSE(auth->invalidate());
}

// ---- SMART Backend Services ----

constexpr const char* kBase = "https://ehr.example/fhir";
constexpr const char* kTokenUrl = "https://auth.example/oauth2/token";

class SmartAuthTest : public ::testing::Test {
 protected:
  std::unique_ptr<AuthProvider> make(const KeyPair& key, const std::string& alg) {
    SmartBackendOptions o;
    o.fhir_base = kBase;
    o.client_id = "mst-adapter-client";
    o.private_key_pem = key.private_pem;
    o.key_id = "key-2026-03";
    o.algorithm = alg;
    o.scope = "system/Patient.read system/CarePlan.write";
    return make_smart_backend_auth(o, sender);
  }

  // Discovery once, then token responses numbered at-1, at-2, ...
  void serve(int expires_in = 300, const std::string& algs = R"(["RS384","ES384"])") {
    ON_CALL(*transport, send(_))
        .WillByDefault(Invoke([this, expires_in, algs](const HttpRequest& r) {
          sent.push_back(r);
          if (r.method == "GET") {
            return response(200, R"({"token_endpoint":")" + std::string(kTokenUrl) +
                                     R"(","token_endpoint_auth_signing_alg_values_supported":)" +
                                     algs + "}");
          }
          ++tokens;
          return response(200, R"({"access_token":"at-)" + std::to_string(tokens) +
                                   R"(","token_type":"Bearer","expires_in":)" +
                                   std::to_string(expires_in) +
                                   R"(,"scope":"system/Patient.read"})");
        }));
    EXPECT_CALL(*transport, send(_)).Times(::testing::AnyNumber());
  }

  std::vector<std::string> assertions() const {
    std::vector<std::string> out;
    for (const auto& r : sent) {
      if (r.method == "POST") out.push_back(form_fields(r.body).at("client_assertion"));
    }
    return out;
  }

  std::shared_ptr<MockTransport> transport =
      std::make_shared<::testing::StrictMock<MockTransport>>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::shared_ptr<RetryingSender> sender =
      std::make_shared<RetryingSender>(transport, RetryPolicy{}, clock, [] { return 0.0; });
  std::vector<HttpRequest> sent;
  int tokens = 0;
};

Poco::JWT::Token verify(const std::string& jwt, const KeyPair& key, const std::string& alg) {
  std::istringstream pub(key.public_pem);
  Poco::JWT::Signer verifier;
  if (alg == "RS384") {
    verifier.setRSAKey(new Poco::Crypto::RSAKey(&pub));
  } else {
    verifier.setECKey(new Poco::Crypto::ECKey(&pub));
  }
  verifier.setAlgorithms({alg});
  return verifier.verify(jwt);  // throws SignatureVerificationException
}

TEST_F(SmartAuthTest, DiscoversTheTokenEndpointAndSignsAnRs384Assertion) {
  const KeyPair key = rsa_key();
  serve();
  auto auth = make(key, "RS384");
  HttpRequest request;
  auth->authorize(request);
  EXPECT_EQ(header_of(request, "Authorization"), "Bearer at-1");

  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].url, "https://ehr.example/fhir/.well-known/smart-configuration");
  EXPECT_EQ(sent[1].method, "POST");
  EXPECT_EQ(sent[1].url, kTokenUrl);
  EXPECT_EQ(header_of(sent[1], "Content-Type"), "application/x-www-form-urlencoded");
  auto form = form_fields(sent[1].body);
  EXPECT_EQ(form["grant_type"], "client_credentials");
  EXPECT_EQ(form["scope"], "system/Patient.read system/CarePlan.write");
  EXPECT_EQ(form["client_assertion_type"],
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");

  Poco::JWT::Token token = verify(form["client_assertion"], key, "RS384");
  EXPECT_EQ(token.getAlgorithm(), "RS384");
  EXPECT_EQ(token.header().getValue<std::string>("kid"), "key-2026-03");
  EXPECT_EQ(token.getType(), "JWT");
  EXPECT_EQ(token.getIssuer(), "mst-adapter-client");
  EXPECT_EQ(token.getSubject(), "mst-adapter-client");
  EXPECT_EQ(token.payload().getValue<std::string>("aud"), kTokenUrl);
  const auto exp = token.payload().getValue<std::int64_t>("exp");
  EXPECT_GT(exp, FakeClock::kStartEpochSeconds);
  EXPECT_LE(exp, FakeClock::kStartEpochSeconds + 300);
  EXPECT_FALSE(token.getId().empty());
}

TEST_F(SmartAuthTest, Es384SignaturesAreAlwaysFixedWidthAndValid) {
  const KeyPair key = ec_key();
  serve();
  auto auth = make(key, "ES384");
  // Enough signatures that a short R or S (about 1 in 128 each) would show.
  for (int i = 0; i < 300; ++i) {
    HttpRequest r;
    auth->authorize(r);
    auth->invalidate();
  }
  std::set<std::string> jtis;
  for (const std::string& jwt : assertions()) {
    const std::string signature = jwt.substr(jwt.rfind('.') + 1);
    ASSERT_EQ(signature.size(), 128u) << "ES384 signatures are 96 bytes: " << jwt;
    Poco::JWT::Token token = verify(jwt, key, "ES384");
    EXPECT_EQ(token.getAlgorithm(), "ES384");
    EXPECT_EQ(token.header().getValue<std::string>("kid"), "key-2026-03");
    jtis.insert(token.getId());
  }
  EXPECT_EQ(jtis.size(), 300u) << "every assertion needs a unique jti";
}

TEST_F(SmartAuthTest, CachesTheTokenUntilShortlyBeforeItExpires) {
  serve(300);
  auto auth = make(rsa_key(), "RS384");
  HttpRequest r1, r2, r3;
  auth->authorize(r1);
  clock->advance(seconds(239));
  auth->authorize(r2);
  EXPECT_EQ(header_of(r2, "Authorization"), "Bearer at-1");
  EXPECT_EQ(tokens, 1);
  clock->advance(seconds(1));  // 240 s = 300 s - 60 s margin
  auth->authorize(r3);
  EXPECT_EQ(header_of(r3, "Authorization"), "Bearer at-2");
  EXPECT_EQ(tokens, 2);
  ASSERT_EQ(sent.size(), 3u) << "discovery happens once";
  const auto a = assertions();
  EXPECT_NE(a[0], a[1]);
}

TEST_F(SmartAuthTest, AShortLivedTokenKeepsHalfItsLife) {
  serve(60);
  auto auth = make(rsa_key(), "RS384");
  HttpRequest r;
  auth->authorize(r);
  clock->advance(seconds(29));
  auth->authorize(r);
  EXPECT_EQ(tokens, 1);
  clock->advance(seconds(1));
  auth->authorize(r);
  EXPECT_EQ(tokens, 2);
}

TEST_F(SmartAuthTest, InvalidateForcesANewToken) {
  serve();
  auto auth = make(rsa_key(), "RS384");
  HttpRequest r;
  auth->authorize(r);
  EXPECT_TRUE(auth->invalidate());
  HttpRequest r2;
  auth->authorize(r2);
  EXPECT_EQ(header_of(r2, "Authorization"), "Bearer at-2");
}

TEST_F(SmartAuthTest, RefusesAnAlgorithmTheServerDoesNotOffer) {
  serve(300, R"(["RS384"])");
  auto auth = make(ec_key(), "ES384");
  HttpRequest r;
  std::string m = message_of([&] { auth->authorize(r); });
  EXPECT_NE(m.find("does not accept ES384"), std::string::npos) << m;
}

TEST_F(SmartAuthTest, ReportsATokenRefusalWithoutTheAssertion) {
  const KeyPair key = rsa_key();
  EXPECT_CALL(*transport, send(_)).WillRepeatedly(Invoke([this](const HttpRequest& r) {
    sent.push_back(r);
    if (r.method == "GET")
      return response(200, R"({"token_endpoint":")" + std::string(kTokenUrl) + R"("})");
    // A careless server echoing the assertion back in its description.
    const std::string jwt = form_fields(r.body).at("client_assertion");
    return response(
        401, R"({"error":"invalid_client","error_description":"bad assertion )" + jwt + R"("})");
  }));
  auto auth = make(key, "RS384");
  HttpRequest r;
  try {
    auth->authorize(r);
    FAIL();
  } catch (const AuthError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("invalid_client"), std::string::npos) << m;
    EXPECT_EQ(e.status(), 401);
    const std::string jwt = assertions().at(0);
    EXPECT_EQ(m.find(jwt), std::string::npos) << m;
    EXPECT_EQ(m.find(jwt.substr(jwt.rfind('.') + 1)), std::string::npos)
        << "signature leaked: " << m;
  }
}

TEST_F(SmartAuthTest, ReportsMissingDiscovery) {
  EXPECT_CALL(*transport, send(_)).WillOnce(::testing::Return(response(404)));
  auto auth = make(rsa_key(), "RS384");
  HttpRequest r;
  std::string m = message_of([&] { auth->authorize(r); });
  EXPECT_NE(m.find("SMART discovery failed"), std::string::npos) << m;
}

TEST_F(SmartAuthTest, RefusesUnusableKeysWithoutQuotingThem) {
  const KeyPair rsa = rsa_key();
  const KeyPair p256 = ec_key("prime256v1");
  std::string broken = rsa.private_pem;
  broken[broken.size() / 2] = '!';
  for (const auto& [pem, alg] :
       std::vector<std::pair<std::string, std::string>>{{"not a key", "RS384"},
                                                        {broken, "RS384"},
                                                        {p256.private_pem, "ES384"},
                                                        {rsa.private_pem, "ES256"}}) {
    std::string m = message_of([&] { make({"", pem}, alg); });
    EXPECT_NE(m, "(no exception)") << alg;
    EXPECT_EQ(m.find("PRIVATE KEY"), std::string::npos) << m;
    if (pem.size() > 60) {
      EXPECT_EQ(m.find(pem.substr(40, 20)), std::string::npos) << m;
    }
  }
  EXPECT_THROW(make(rsa_key(Poco::Crypto::RSAKey::KL_1024), "RS384"), AuthError);
}

// ---- the token request under load, and odd token responses (issue #12) ----

class SmartTokenTest : public SmartAuthTest {
 protected:
  // Discovery, then the token endpoint answers `statuses` in turn (a
  // TransportError for 0), then a token that expires in `expires_in` (raw JSON).
  void serve_after(std::vector<int> statuses, std::string expires_in = "300",
                   std::string endpoint = kTokenUrl) {
    ON_CALL(*transport, send(_))
        .WillByDefault(Invoke([this, statuses, expires_in, endpoint](const HttpRequest& r) {
          sent.push_back(r);
          if (r.method == "GET") {
            return response(200, R"({"token_endpoint":")" + endpoint + R"("})");
          }
          const std::size_t i = assertions().size() - 1;
          if (i < statuses.size()) {
            if (statuses[i] == 0)
              throw TransportError(TransportError::Kind::kConnect, "connection refused");
            return response(statuses[i], R"({"error":"temporarily_unavailable"})");
          }
          ++tokens;
          return response(200, R"({"access_token":"at-)" + std::to_string(tokens) +
                                   R"(","token_type":"bearer","expires_in":)" + expires_in +
                                   R"(,"scope":"system/Patient.r"})");
        }));
    EXPECT_CALL(*transport, send(_)).Times(::testing::AnyNumber());
  }

  // How long a token with this `expires_in` is used before a new one is fetched.
  seconds reuse_time(const std::string& expires_in) {
    serve_after({}, expires_in);
    auto auth = make(rsa_key(), "RS384");
    HttpRequest r;
    auth->authorize(r);
    const int first = tokens;
    seconds waited{0};
    while (tokens == first && waited < seconds(200'000)) {
      clock->advance(seconds(10));
      waited += seconds(10);
      auth->authorize(r);
    }
    return waited;
  }
};

TEST_F(SmartTokenTest, RetriesThrottlingServerErrorsAndNetworkFailuresWithFreshAssertions) {
  serve_after({503, 429, 0});
  auto auth = make(rsa_key(), "RS384");
  HttpRequest r;
  auth->authorize(r);
  EXPECT_EQ(header_of(r, "Authorization"), "Bearer at-1");
  const auto a = assertions();
  ASSERT_EQ(a.size(), 4u);
  // The same assertion twice would be refused as a replay (its jti).
  EXPECT_EQ(std::set<std::string>(a.begin(), a.end()).size(), 4u);
  EXPECT_EQ(auth->granted_scope(), "system/Patient.r");
}

TEST_F(SmartTokenTest, ARefusalIsNotRetried) {
  for (int status : {400, 401}) {
    sent.clear();
    serve_after({status});
    auto auth = make(rsa_key(), "RS384");
    HttpRequest r;
    try {
      auth->authorize(r);
      FAIL() << status;
    } catch (const AuthError& e) {
      EXPECT_EQ(e.status(), status);
    }
    EXPECT_EQ(assertions().size(), 1u) << status;
  }
}

TEST_F(SmartTokenTest, AnEndpointThatStaysDownIsNotAnAuthFailure) {
  serve_after({503, 503, 503, 503, 503, 503});
  auto auth = make(rsa_key(), "RS384");
  HttpRequest r;
  try {
    auth->authorize(r);
    FAIL();
  } catch (const AuthError& e) {
    FAIL() << "a 503 is not a refusal of our credentials: " << e.what();
  } catch (const HttpStatusError& e) {
    EXPECT_EQ(e.status(), 503);
    EXPECT_NE(std::string(e.what()).find("token endpoint unavailable"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(assertions().size(), static_cast<std::size_t>(RetryPolicy{}.max_attempts));
}

TEST_F(SmartTokenTest, AnUnreachableEndpointIsUnreachable) {
  serve_after({0, 0, 0, 0, 0, 0});
  auto auth = make(rsa_key(), "RS384");
  HttpRequest r;
  EXPECT_THROW(auth->authorize(r), ServerUnreachable);
}

TEST_F(SmartTokenTest, ExpiresInIsBoundedAndNeverOverflows) {
  // 300 s less the 60 s margin.
  EXPECT_EQ(reuse_time("300"), seconds(240));
  // Huge values are a day at most (less the margin), never an overflow.
  EXPECT_EQ(reuse_time("9223372036854775807"), seconds(86'340));
  EXPECT_EQ(reuse_time("1e300"), seconds(86'340));
  EXPECT_EQ(reuse_time(R"("99999999999999999999")"), seconds(86'340));
  // Digits in a string are read; anything else is a short default (60 s, renewed at half).
  EXPECT_EQ(reuse_time(R"("3600")"), seconds(3540));
  EXPECT_EQ(reuse_time(R"("soon")"), seconds(30));
  EXPECT_EQ(reuse_time("null"), seconds(30));
  EXPECT_EQ(reuse_time("{}"), seconds(30));
  // Zero or negative: the token is used for the request at hand only.
  EXPECT_EQ(reuse_time("-5"), seconds(10));
  EXPECT_EQ(reuse_time("0"), seconds(10));
}

TEST_F(SmartTokenTest, TheAssertionExpiresWithAMarginUnderFiveMinutes) {
  serve_after({});
  const KeyPair key = rsa_key();
  auto auth = make(key, "RS384");
  HttpRequest r;
  auth->authorize(r);
  Poco::JWT::Token token = verify(assertions().at(0), key, "RS384");
  // SMART caps exp at now + 300 s; a token endpoint whose clock runs ahead
  // would refuse exactly 300 s.
  EXPECT_EQ(token.payload().getValue<std::int64_t>("exp"), FakeClock::kStartEpochSeconds + 240);
}

TEST_F(SmartTokenTest, ADiscoveredPlainHttpTokenEndpointIsRefused) {
  serve_after({}, "300", "http://auth.example/token");
  auto auth = make(rsa_key(), "RS384");
  HttpRequest r;
  const std::string m = message_of([&] { auth->authorize(r); });
  EXPECT_NE(m.find("plain http to the token endpoint http://auth.example/token"), std::string::npos)
      << m;
  EXPECT_NE(m.find("--allow-insecure-http"), std::string::npos) << m;
  EXPECT_TRUE(assertions().empty()) << "the assertion must not have been sent";
}

TEST_F(SmartTokenTest, APlainHttpTokenEndpointOnLoopbackOrAllowedIsUsed) {
  serve_after({}, "300", "http://127.0.0.1:8180/realms/mst/token");
  auto auth = make(rsa_key(), "RS384");
  HttpRequest r;
  auth->authorize(r);
  EXPECT_EQ(header_of(r, "Authorization"), "Bearer at-1");

  SmartBackendOptions o;
  o.fhir_base = kBase;
  o.client_id = "c";
  o.key_id = "k";
  o.private_key_pem = rsa_key().private_pem;
  o.token_endpoint = "http://auth.example/token";
  EXPECT_THROW(make_smart_backend_auth(o, sender), AuthError);
  o.allow_insecure_http = true;
  EXPECT_NO_THROW(make_smart_backend_auth(o, sender));
}

TEST(CleartextRemote, OnlyPlainHttpToANonLoopbackHost) {
  for (const char* url :
       {"http://ehr.example/fhir", "http://10.1.2.3:8080/fhir", "http://127.example.org/",
        "http://127.0.0.1.evil.example/", "http://localhost.evil.example/", "http://[::2]/"}) {
    EXPECT_TRUE(is_cleartext_remote(url)) << url;
  }
  for (const char* url :
       {"https://ehr.example/fhir", "http://127.0.0.1/fhir", "http://127.8.9.10:8080/",
        "http://localhost:8080/fhir", "http://LOCALHOST/", "http://[::1]:8080/fhir", "not a url"}) {
    EXPECT_FALSE(is_cleartext_remote(url)) << url;
  }
}

TEST(LoopbackUrl, OnlyThisMachineWhateverTheScheme) {
  for (const char* url : {"http://127.0.0.1/fhir", "https://127.8.9.10:8443/", "http://LOCALHOST/",
                          "https://[::1]:8080/fhir"}) {
    EXPECT_TRUE(is_loopback_url(url)) << url;
  }
  for (const char* url : {"https://ehr.example/fhir", "http://127.0.0.1.evil.example/",
                          "http://localhost.evil.example/", "http://[::2]/", "not a url"}) {
    EXPECT_FALSE(is_loopback_url(url)) << url;
  }
}

// ---- secrets never appear in errors ----

TEST(SecretsInErrors, NoCredentialAppearsInAnyClientError) {
  const std::string token = "tok-SECRET-4f2a9";
  const std::string password = "pw-SECRET-77c1";
  ::setenv("MST_TEST_TOKEN", token.c_str(), 1);
  ::setenv("MST_TEST_PASSWORD", password.c_str(), 1);
  auto transport = std::make_shared<::testing::StrictMock<MockTransport>>();
  auto clock = std::make_shared<FakeClock>();
  auto sender =
      std::make_shared<RetryingSender>(transport, RetryPolicy{}, clock, [] { return 0.0; });
  // Every request fails in a way that quotes as much as a server might.
  EXPECT_CALL(*transport, send(_)).WillRepeatedly(Invoke([](const HttpRequest& r) {
    std::string echoed;
    for (const auto& [k, v] : r.headers) echoed += k + ": " + v + " ";
    return response(
        401, R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login",
      "diagnostics":"rejected )" +
                 echoed + R"("}]})");
  }));
  std::vector<std::shared_ptr<AuthProvider>> auths{
      make_bearer_auth({"MST_TEST_TOKEN", ""}),
      make_basic_auth("adapter", {"MST_TEST_PASSWORD", ""})};
  for (const auto& auth : auths) {
    HttpRequest probe;
    auth->authorize(probe);
    const std::string credential = header_of(probe, "Authorization").substr(6);
    RestClient client(RestClientOptions{kBase}, sender, auth);
    const std::string m = message_of([&] { client.read("Patient", "p1"); });
    EXPECT_NE(m, "(no exception)");
    // The outcome is summarized to its code; the server's text, with the
    // credential it echoed, is not repeated.
    EXPECT_EQ(m.find(token), std::string::npos) << m;
    EXPECT_EQ(m.find(password), std::string::npos) << m;
    EXPECT_EQ(m.find(credential), std::string::npos) << m;
    EXPECT_EQ(m.find("rejected"), std::string::npos) << m;
    EXPECT_NE(m.find("[error (login)]"), std::string::npos) << m;
  }
  ::unsetenv("MST_TEST_TOKEN");
  ::unsetenv("MST_TEST_PASSWORD");
}

}  // namespace
}  // namespace mst::fhir
