#include "mst/adapter/plan_fingerprint.h"

#include <openssl/evp.h>

#include <functional>
#include <stdexcept>

namespace mst::adapter {

namespace {

constexpr std::string_view kExtensionPath = "/StructureDefinition/mst-content-fingerprint";

bool is_fingerprint_url(const std::string& url) {
  return url.size() >= kExtensionPath.size() &&
         url.compare(url.size() - kExtensionPath.size(), kExtensionPath.size(), kExtensionPath) ==
             0;
}

// The narrative without its "Prepared on <day> by <device>." paragraph.
// Escaped text cannot contain a literal "<p>", so the marker is unambiguous.
std::string stable_div(std::string div) {
  constexpr std::string_view kMarker = "<p>Prepared on ";
  const auto start = div.rfind(kMarker);
  if (start == std::string::npos) return div;
  const auto end = div.find("</p>", start);
  if (end == std::string::npos) return div;
  div.erase(start, end + 4 - start);
  return div;
}

// SHA-256 over everything fed to it (OpenSSL EVP: several times faster than
// Poco's portable SHA2Engine).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx_);
      throw std::runtime_error("OpenSSL SHA-256 is not available");
    }
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes) {
    if (EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) != 1) {
      throw std::runtime_error("OpenSSL SHA-256 update failed");
    }
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx_, digest, &size) != 1) {
      throw std::runtime_error("OpenSSL SHA-256 final failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * size);
    for (unsigned int k = 0; k < size; ++k) {
      out += kHex[digest[k] >> 4];
      out += kHex[digest[k] & 0xf];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// Streams the compact JSON of `resource` without the members that change
// when the plan does not: the same bytes as dumping a copy without them,
// without making the copy.
void hash_stable_part(const fhir::JsonValue& resource, Sha256& sha) {
  const std::function<void(std::string_view)> sink = [&sha](std::string_view b) { sha.update(b); };
  bool first = true;
  auto key_of = [&](const std::string& key) {
    sha.update(first ? "{" : ",");
    first = false;
    fhir::JsonValue(std::string_view(key)).dump_to(sink);
    sha.update(":");
  };
  for (const auto& [key, value] : resource.members()) {
    if (key == "id" || key == "meta" || key == "created" || key == "authoredOn") continue;
    if (key == "text" && value.is_object()) {
      const auto* div = value.find("div");
      if (div != nullptr && div->is_string()) {
        fhir::JsonValue text = value;
        text.set("div", stable_div(div->str()));
        key_of(key);
        text.dump_to(sink);
        continue;
      }
    }
    if (key == "extension" && value.is_array()) {
      fhir::JsonValue kept = fhir::JsonValue::array();
      for (const auto& ext : value.items()) {
        const auto* url = ext.find("url");
        if (url != nullptr && url->is_string() && is_fingerprint_url(url->str())) continue;
        kept.push(ext);
      }
      if (!kept.items().empty()) {
        key_of(key);
        kept.dump_to(sink);
      }
      continue;
    }
    key_of(key);
    value.dump_to(sink);
  }
  sha.update(first ? "{}" : "}");
}

}  // namespace

std::string fingerprint_extension_url(const std::string& canonical_base) {
  // The builder drops a trailing '/' from the base; so must the reader, or a
  // base configured with one would never match and every run would rewrite.
  std::string_view base = canonical_base;
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  return std::string(base) + std::string(kExtensionPath);
}

std::string built_fingerprint(const fhir::JsonValue& transaction) {
  const auto* entries = transaction.find("entry");
  if (entries == nullptr || !entries->is_array()) return "";
  for (const auto& entry : entries->items()) {
    const auto* resource = entry.find("resource");
    if (resource == nullptr) continue;
    const auto* type = resource->find("resourceType");
    if (type == nullptr || !type->is_string() || type->str() != "CarePlan") continue;
    const auto* extensions = resource->find("extension");
    if (extensions == nullptr || !extensions->is_array()) return "";
    for (const auto& ext : extensions->items()) {
      const auto* url = ext.find("url");
      const auto* value = ext.find("valueString");
      if (url != nullptr && url->is_string() && is_fingerprint_url(url->str()) &&
          value != nullptr && value->is_string()) {
        return value->str();
      }
    }
    return "";
  }
  return "";
}

std::string content_fingerprint(const fhir::JsonValue& transaction) {
  Sha256 sha;
  const auto* entries = transaction.find("entry");
  if (entries != nullptr && entries->is_array()) {
    for (const auto& entry : entries->items()) {
      const auto* resource = entry.find("resource");
      if (resource == nullptr || !resource->is_object()) continue;
      const auto* type = resource->find("resourceType");
      if (type == nullptr || !type->is_string()) continue;
      if (type->str() == "Device" || type->str() == "Provenance") continue;
      const auto* full_url = entry.find("fullUrl");
      if (full_url != nullptr && full_url->is_string()) sha.update(full_url->str());
      sha.update("\n");
      hash_stable_part(*resource, sha);
      sha.update("\n");
    }
  }
  return "sha256:" + sha.hex();
}

std::optional<std::string> read_fingerprint(fhir::Node careplan,
                                            const std::string& canonical_base) {
  const std::string url = fingerprint_extension_url(canonical_base);
  if (!careplan.is_object()) return std::nullopt;
  try {
    for (fhir::Node ext : careplan.array("extension")) {
      if (!ext.is_object()) continue;
      if (ext.string("url") != std::optional<std::string_view>(url)) continue;
      if (auto v = ext.string("valueString")) return std::string(*v);
    }
  } catch (const fhir::Error&) {
    // A malformed extension array on a server copy: treat as no fingerprint,
    // which makes the write-back rewrite the plan.
  }
  return std::nullopt;
}

}  // namespace mst::adapter
