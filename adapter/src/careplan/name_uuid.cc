#include "name_uuid.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace mst::adapter::detail {

namespace {

using Uuid = std::array<unsigned char, 16>;

// RFC 4122 appendix C: the namespace for URLs, 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
constexpr Uuid kUrlNamespace = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

// RFC 4122 section 4.3: SHA-1 of the namespace and the name, then the
// version (5) and variant bits set.
Uuid v5(const Uuid& ns, std::string_view name) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, ns.data(), ns.size()) == 1 &&
                  EVP_DigestUpdate(ctx, name.data(), name.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, digest, &size) == 1 && size >= 16;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("OpenSSL SHA-1 failed while naming a resource");
  Uuid out;
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = digest[k];
  out[6] = static_cast<unsigned char>((out[6] & 0x0f) | 0x50);
  out[8] = static_cast<unsigned char>((out[8] & 0x3f) | 0x80);
  return out;
}

std::string text(const Uuid& u) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t k = 0; k < u.size(); ++k) {
    if (k == 4 || k == 6 || k == 8 || k == 10) out += '-';
    out += kHex[u[k] >> 4];
    out += kHex[u[k] & 0x0f];
  }
  return out;
}

}  // namespace

NameUuids::NameUuids(std::string_view canonical_base)
    : namespace_(v5(kUrlNamespace, canonical_base)) {}

std::string NameUuids::operator()(std::string_view name) const {
  return text(v5(namespace_, name));
}

}  // namespace mst::adapter::detail
