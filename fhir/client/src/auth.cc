#include "mst/fhir/auth.h"

#include <Poco/Base64Encoder.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "http_url.h"
#include "mst/fhir/client_errors.h"

namespace mst::fhir {

namespace {

AuthError secret_error(const std::string& reason) { return AuthError("", "", 0, "", reason); }

std::string base64(std::string_view data) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder.write(data.data(), static_cast<std::streamsize>(data.size()));
  encoder.close();
  return out.str();
}

void set_header(HttpRequest& request, std::string name, std::string value) {
  for (auto& [key, existing] : request.headers) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  request.headers.emplace_back(std::move(name), std::move(value));
}

class NoAuth final : public AuthProvider {
 public:
  void authorize(HttpRequest&) override {}
  bool invalidate() override { return false; }
  std::string_view scheme() const override { return "none"; }
};

class BearerAuth final : public AuthProvider {
 public:
  explicit BearerAuth(SecretSource source)
      : source_(std::move(source)), token_(read_secret(source_)) {}

  void authorize(HttpRequest& request) override {
    std::lock_guard lock(mu_);
    set_header(request, "Authorization", "Bearer " + token_);
  }
  bool invalidate() override {
    if (source_.file.empty()) return false;  // an environment variable cannot change under us
    std::string fresh = read_secret(source_);
    std::lock_guard lock(mu_);
    if (fresh == token_) return false;
    token_ = std::move(fresh);
    return true;
  }
  std::string_view scheme() const override { return "bearer"; }

 private:
  SecretSource source_;
  std::mutex mu_;
  std::string token_;
};

class BasicAuth final : public AuthProvider {
 public:
  BasicAuth(const std::string& user, const SecretSource& password) {
    if (user.empty()) throw secret_error("basic auth needs a user name");
    if (user.find(':') != std::string::npos)
      throw secret_error("a basic auth user name cannot contain ':'");
    header_ = "Basic " + base64(user + ":" + read_secret(password));
  }
  void authorize(HttpRequest& request) override { set_header(request, "Authorization", header_); }
  bool invalidate() override { return false; }
  std::string_view scheme() const override { return "basic"; }

 private:
  std::string header_;
};

}  // namespace

std::string read_secret(const SecretSource& source) {
  if (source.env_var.empty() == source.file.empty()) {
    throw secret_error("a secret needs exactly one source: an environment variable or a file");
  }
  std::string value;
  std::string where;
  if (!source.env_var.empty()) {
    where = "environment variable " + source.env_var;
    const char* v = std::getenv(source.env_var.c_str());
    if (v == nullptr) throw secret_error(where + " is not set");
    value = v;
  } else {
    where = "secret file " + source.file;
    std::ifstream in(source.file, std::ios::binary);
    if (!in) throw secret_error("cannot read " + where);
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) throw secret_error("cannot read " + where);
    value = content.str();
  }
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
  if (value.empty()) throw secret_error(where + " is empty");
  for (char c : value) {
    // A header value cannot carry control characters; refusing them also
    // stops header injection through a tampered secret file.
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      throw secret_error(where + " contains control characters");
    }
  }
  return value;
}

bool is_loopback_url(std::string_view url) {
  detail::HttpUrl u;
  try {
    u = detail::HttpUrl::parse(url);
  } catch (const TransportError&) {
    return false;
  }
  if (u.host == "localhost" || u.host == "::1") return true;
  // 127.0.0.0/8, written as a dotted IPv4 literal.
  int parts = 0;
  bool digits_only = true;
  for (std::string_view rest = u.host; digits_only;) {
    const auto dot = rest.find('.');
    const std::string_view part = rest.substr(0, dot);
    digits_only = !part.empty() && part.size() <= 3 &&
                  part.find_first_not_of("0123456789") == std::string_view::npos;
    ++parts;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return digits_only && parts == 4 && u.host.starts_with("127.");
}

bool is_cleartext_remote(std::string_view url) {
  try {
    return detail::HttpUrl::parse(url).scheme == "http" && !is_loopback_url(url);
  } catch (const TransportError&) {
    return false;
  }
}

std::unique_ptr<AuthProvider> make_no_auth() { return std::make_unique<NoAuth>(); }

std::unique_ptr<AuthProvider> make_bearer_auth(SecretSource token) {
  return std::make_unique<BearerAuth>(std::move(token));
}

std::unique_ptr<AuthProvider> make_basic_auth(const std::string& user,
                                              const SecretSource& password) {
  return std::make_unique<BasicAuth>(user, password);
}

}  // namespace mst::fhir
