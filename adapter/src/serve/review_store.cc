#include "mst/adapter/serve/review_store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace mst::adapter {

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    throw std::runtime_error("no random bytes from the system");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (unsigned char b : raw) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

ReviewStore::ReviewStore(std::shared_ptr<fhir::Clock> clock, std::chrono::seconds ttl,
                         std::size_t capacity)
    : clock_(std::move(clock)), ttl_(ttl), capacity_(capacity < 1 ? 1 : capacity) {}

std::string ReviewStore::put(ReviewEntry entry) {
  const auto now = clock_->steady_now();
  entry.write_token = random_hex(32);
  entry.expires = now + ttl_;
  std::string id = random_hex(32);
  std::lock_guard lock(mu_);
  if (slots_.size() >= capacity_) {
    std::erase_if(slots_, [&](const auto& s) { return s.second.entry->expires <= now; });
  }
  while (slots_.size() >= capacity_) {
    auto oldest = slots_.begin();
    for (auto it = slots_.begin(); it != slots_.end(); ++it) {
      if (it->second.entry->expires < oldest->second.entry->expires) oldest = it;
    }
    slots_.erase(oldest);
  }
  slots_[id] = Slot{std::make_shared<const ReviewEntry>(std::move(entry)), false};
  return id;
}

ReviewLookup ReviewStore::find(const std::string& id, const std::string& patient_id, Slot** slot) {
  const auto it = slots_.find(id);
  // Another patient's id is answered as unknown: the link names both.
  if (it == slots_.end() || it->second.entry->patient_id != patient_id) return {};
  if (it->second.entry->expires <= clock_->steady_now()) return {ReviewStatus::kExpired, nullptr};
  *slot = &it->second;
  return {ReviewStatus::kFound, it->second.entry};
}

ReviewLookup ReviewStore::get(const std::string& id, const std::string& patient_id) {
  std::lock_guard lock(mu_);
  Slot* slot = nullptr;
  return find(id, patient_id, &slot);
}

ReviewLookup ReviewStore::claim(const std::string& id, const std::string& patient_id,
                                const std::string& write_token) {
  std::lock_guard lock(mu_);
  Slot* slot = nullptr;
  ReviewLookup found = find(id, patient_id, &slot);
  if (found.status != ReviewStatus::kFound) return found;
  const std::string& want = found.entry->write_token;
  if (write_token.size() != want.size() ||
      CRYPTO_memcmp(write_token.data(), want.data(), want.size()) != 0) {
    return {ReviewStatus::kBadToken, nullptr};
  }
  if (slot->used) return {ReviewStatus::kUsed, nullptr};
  slot->used = true;
  return found;
}

bool ReviewStore::used(const std::string& id) {
  std::lock_guard lock(mu_);
  const auto it = slots_.find(id);
  return it != slots_.end() && it->second.used;
}

}  // namespace mst::adapter
