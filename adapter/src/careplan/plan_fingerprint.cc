#include "mst/adapter/careplan/plan_fingerprint.h"

#include <openssl/evp.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "mst/adapter/careplan/narrative.h"

namespace mst::adapter {

namespace {

constexpr std::string_view kExtensionPath = "/StructureDefinition/mst-content-fingerprint";

bool is_fingerprint_url(const std::string& url) {
  return url.size() >= kExtensionPath.size() &&
         url.compare(url.size() - kExtensionPath.size(), kExtensionPath.size(), kExtensionPath) ==
             0;
}

// The narrative without its "Prepared on <day> by <device>." paragraph, as
// the text before and the text after it.
std::pair<std::string_view, std::string_view> stable_div(std::string_view div) {
  const auto start = div.rfind(kPreparedParagraphStart);
  if (start == std::string_view::npos) return {div, {}};
  const auto end = div.find("</p>", start);
  if (end == std::string_view::npos) return {div, {}};
  return {div.substr(0, start), div.substr(end + 4)};
}

// SHA-256 (OpenSSL EVP, several times faster than Poco's portable
// SHA2Engine) fed through a buffer, since the encoding below hands it many
// small pieces.
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
    // An empty view may have a null data(), which memcpy must not be given.
    if (bytes.empty()) return;
    if (bytes.size() > sizeof(buf_) - size_) {
      flush();
      if (bytes.size() >= sizeof(buf_)) {
        digest_update(bytes);
        return;
      }
    }
    std::memcpy(buf_ + size_, bytes.data(), bytes.size());
    size_ += bytes.size();
  }
  void tag(char t) { update(std::string_view(&t, 1)); }
  void count(std::uint64_t n) {
    char le[8];
    for (int k = 0; k < 8; ++k) le[k] = static_cast<char>((n >> (8 * k)) & 0xff);
    update(std::string_view(le, 8));
  }
  // Length first, so no two different sequences of strings encode alike.
  void text(std::string_view s) {
    count(s.size());
    update(s);
  }

  std::string hex() {
    flush();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx_, digest, &size) != 1) {
      throw std::runtime_error("OpenSSL SHA-256 final failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * std::size_t{size});
    for (unsigned int k = 0; k < size; ++k) {
      out += kHex[digest[k] >> 4];
      out += kHex[digest[k] & 0xf];
    }
    return out;
  }

 private:
  void flush() {
    digest_update(std::string_view(buf_, size_));
    size_ = 0;
  }
  void digest_update(std::string_view bytes) {
    if (!bytes.empty() && EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) != 1) {
      throw std::runtime_error("OpenSSL SHA-256 update failed");
    }
  }

  EVP_MD_CTX* ctx_;
  char buf_[8192];
  std::size_t size_ = 0;
};

// The value in a prefix-free encoding: a type tag, then for a string its
// length and bytes, for an array or object its size and members (keys as
// strings), for any other scalar its JSON text as a string. Walking the
// tree costs far less than writing (escaping) JSON and hashing that.
void hash_value(const fhir::JsonValue& v, Sha256& sha) {
  if (v.is_string()) {
    sha.tag('s');
    sha.text(v.str());
  } else if (v.is_array()) {
    sha.tag('a');
    sha.count(v.items().size());
    for (const auto& item : v.items()) hash_value(item, sha);
  } else if (v.is_object()) {
    sha.tag('o');
    sha.count(v.members().size());
    for (const auto& [key, value] : v.members()) {
      sha.text(key);
      hash_value(value, sha);
    }
  } else {
    sha.tag('j');  // null, boolean or number: rare in a plan
    sha.text(v.dump());
  }
}

bool is_volatile_key(const std::string& key) {
  return key == "id" || key == "meta" || key == "created" || key == "authoredOn";
}

bool is_fingerprint_extension(const fhir::JsonValue& ext) {
  const auto* url = ext.find("url");
  return url != nullptr && url->is_string() && is_fingerprint_url(url->str());
}

// Hashes `resource` without the members that change when the plan does not,
// encoded as hash_value would encode a copy without them.
void hash_stable_part(const fhir::JsonValue& resource, Sha256& sha) {
  std::vector<const fhir::JsonValue::Member*> kept;
  std::vector<const fhir::JsonValue*> kept_extensions;
  for (const auto& m : resource.members()) {
    if (is_volatile_key(m.first)) continue;
    if (m.first == "extension" && m.second.is_array()) {
      for (const auto& ext : m.second.items()) {
        if (!is_fingerprint_extension(ext)) kept_extensions.push_back(&ext);
      }
      if (kept_extensions.empty()) continue;
    }
    kept.push_back(&m);
  }
  sha.tag('o');
  sha.count(kept.size());
  for (const auto* m : kept) {
    const auto& [key, value] = *m;
    sha.text(key);
    if (key == "extension" && value.is_array()) {
      sha.tag('a');
      sha.count(kept_extensions.size());
      for (const auto* ext : kept_extensions) hash_value(*ext, sha);
    } else if (key == "text" && value.is_object()) {
      sha.tag('o');
      sha.count(value.members().size());
      for (const auto& [text_key, text_value] : value.members()) {
        sha.text(text_key);
        if (text_key == "div" && text_value.is_string()) {
          const auto [before, after] = stable_div(text_value.str());
          sha.tag('s');
          sha.count(before.size() + after.size());
          sha.update(before);
          sha.update(after);
        } else {
          hash_value(text_value, sha);
        }
      }
    } else {
      hash_value(value, sha);
    }
  }
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
      sha.tag('e');
      sha.text(full_url != nullptr && full_url->is_string() ? full_url->str() : "");
      hash_stable_part(*resource, sha);
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
