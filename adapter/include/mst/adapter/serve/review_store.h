// The derivations patient-view showed, kept for the review page: bounded,
// expiring, in memory, each under a random unguessable id that the card's
// link carries. An entry may be written back once.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mst/adapter/pipeline/pipeline.h"
#include "mst/fhir/clock.h"

namespace mst::adapter {

struct ReviewEntry {
  std::string patient_id;
  Derivation derivation;
  fhir::DateTime as_of = fhir::DateTime::from_ymd(1970, 1, 1);
  std::string fhir_base;    // where the record came from, for evidence links; may be empty
  std::string write_token;  // the write form's second secret (CSRF)
  std::chrono::steady_clock::time_point expires;
};

enum class ReviewStatus {
  kFound,
  kUnknown,   // no such id for this patient (or evicted)
  kExpired,   // the link is older than the time to live
  kUsed,      // its one write was made
  kBadToken,  // the write form's token does not match
};

struct ReviewLookup {
  ReviewStatus status = ReviewStatus::kUnknown;
  std::shared_ptr<const ReviewEntry> entry;  // set when kFound
};

class ReviewStore {
 public:
  // At most `capacity` entries; when full, expired ones go first, then the
  // one closest to expiry.
  ReviewStore(std::shared_ptr<fhir::Clock> clock, std::chrono::seconds ttl,
              std::size_t capacity = 1000);

  // Keeps `entry` (its write_token and expiry are set here); returns its id,
  // 32 random bytes in hex.
  std::string put(ReviewEntry entry);

  // The entry of `id` when it is `patient_id`'s and alive (a used one is
  // still readable).
  ReviewLookup get(const std::string& id, const std::string& patient_id);

  // As get(), and claims the entry's one write when `write_token` matches:
  // kFound the first time, kUsed after.
  ReviewLookup claim(const std::string& id, const std::string& patient_id,
                     const std::string& write_token);

  // Whether the entry's one write was claimed.
  bool used(const std::string& id);

 private:
  struct Slot {
    std::shared_ptr<const ReviewEntry> entry;
    bool used = false;
  };
  ReviewLookup find(const std::string& id, const std::string& patient_id, Slot** slot);

  std::shared_ptr<fhir::Clock> clock_;
  std::chrono::seconds ttl_;
  std::size_t capacity_;
  std::mutex mu_;
  std::map<std::string, Slot> slots_;
};

// `bytes` random bytes from the system's CSPRNG, in lower-case hex.
std::string random_hex(std::size_t bytes);

}  // namespace mst::adapter
