// Self-signed certificates made at test time (OpenSSL, EC P-256), so HTTPS
// tests need no files in the repository and no openssl command.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mst::testing {

// A certificate and its key as PEM files in a private temporary directory,
// removed on destruction. The certificate is its own CA: pass
// certificate_file as a client's CA bundle to trust it.
class TestCertificate {
 public:
  // `names` go into subjectAltName: IP literals as iPAddress, others as dNSName.
  explicit TestCertificate(const std::vector<std::string>& names);
  ~TestCertificate();
  TestCertificate(const TestCertificate&) = delete;
  TestCertificate& operator=(const TestCertificate&) = delete;

  const std::string& certificate_file() const { return certificate_file_; }
  const std::string& key_file() const { return key_file_; }

 private:
  std::filesystem::path dir_;
  std::string certificate_file_;
  std::string key_file_;
};

}  // namespace mst::testing
