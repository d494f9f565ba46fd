// One patient's input resources, as the extractor reads them. Owns (shares)
// the parsed documents and holds views of the Patient, Conditions,
// Observations, CarePlans, Procedures, medication orders, administrations and
// statements (and the Medications they name) and any other resources given,
// after removing
// duplicates and resources that cannot be the patient's.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/datatypes.h"
#include "mst/fhir/error_kind.h"
#include "mst/fhir/json.h"
#include "mst/mappings/considerations.h"

namespace mst::mappings {

// The input cannot be one patient's record: several Patients and no patient
// id to choose one, or nothing to build from.
class RecordError : public ::mst::Error {
 public:
  using ::mst::Error::Error;
  ErrorKind error_kind() const override { return ErrorKind::kInput; }
};

// A resource dropped because its content could not be read.
struct UnreadableResource {
  std::string type;
  std::string ref;
};

// A resource of the record. `ref` is "Type/id", else the Bundle fullUrl
// (e.g. "urn:uuid:..."), else where it was found ("entry[3]").
struct RecordResource {
  fhir::Node node;
  std::string type;
  std::string id;
  std::string ref;
  std::string full_url;
};

class PatientRecord {
 public:
  // Collects documents and resources, then build() applies the rules:
  //  - a Bundle of any type contributes entry.resource; entries with
  //    search.mode "outcome" are skipped (they report, they are not data);
  //    a Bundle inside a Bundle is read the same way;
  //  - non-object entries and resources without resourceType go to ignored;
  //    so does a resource holding a number no double can hold (parsed with
  //    ParseLimits::keep_out_of_range_numbers), alone;
  //  - the patient is `patient_id` when given, else the one Patient resource,
  //    else the one Patient every subject names; a resource whose subject or
  //    patient reference names another Patient (or a Group) goes to ignored;
  //    a reference that cannot be compared (contained, bare id) is kept;
  //  - with strict_subjects() (offline input, where nothing else vouches for
  //    the data): a resource counts only when its subject or patient is
  //    Patient/<id> (any version), <base>/Patient/<id> with the base of the
  //    Patient entry's own fullUrl, or the urn:uuid fullUrl of the Patient
  //    entry; anything else (no subject, another host, a malformed or
  //    contained reference) goes to ignored. Resources that have no subject
  //    by definition (Medication, Device, ...) are kept. Subjects naming
  //    several patients, and no Patient or id to choose, is a RecordError;
  //  - resources with the same Type/id are kept once: the highest
  //    meta.versionId (numeric when both are), then the latest
  //    meta.lastUpdated, then a fixed order of their JSON text; each dropped
  //    copy is listed in duplicates() and ignored().
  // Output lists are sorted by ref, so input order does not matter.
  class Builder {
   public:
    explicit Builder(std::string patient_id = {});

    // A parsed resource or Bundle; the document is kept alive.
    Builder& add_document(std::shared_ptr<const fhir::JsonDocument> doc);
    Builder& add_document(fhir::JsonDocument doc);
    // A resource inside a document the builder keeps alive (keep()), or one
    // the caller guarantees outlives the record.
    Builder& add_resource(fhir::Node resource);
    Builder& keep(std::shared_ptr<const fhir::JsonDocument> doc);
    // Requires every subject to name the patient exactly (see above).
    Builder& strict_subjects();

    // Throws RecordError when the patient cannot be decided.
    PatientRecord build();

   private:
    // A resource with a readable identity, read once when it is added (its
    // JSON is then in cache).
    struct Candidate {
      RecordResource r;
      // The reference to the patient (subject, else patient), or why it cannot be read.
      std::optional<fhir::Reference> patient;
      std::optional<std::string> patient_error;
    };
    void add_node(fhir::Node n, std::string origin);
    void add_candidate(fhir::Node n, std::string_view full_url, const std::string& bundle,
                       std::size_t entry);

    // build() in steps, each along the data it produces.
    struct PatientChoice;
    std::string decide_patient_id() const;
    PatientChoice choose_patient() const;
    // Why candidate `c` is not the chosen patient's, or nullopt.
    std::optional<std::string> not_this_patient(const Candidate& c, const PatientChoice& p) const;
    // Indices of the candidates kept; the others are added to rec's ignored.
    std::vector<std::size_t> of_this_patient(const PatientChoice& p, PatientRecord& rec) const;
    std::vector<std::size_t> one_copy_each(const std::vector<std::size_t>& mine,
                                           PatientRecord& rec) const;

    std::string patient_id_;
    bool strict_subjects_ = false;
    std::vector<std::shared_ptr<const fhir::JsonDocument>> docs_;
    std::vector<Candidate> candidates_;
    std::vector<IgnoredResource> ignored_;
    std::vector<UnreadableResource> unreadable_;
    bool check_numbers_ = false;  // a document holds numbers out of range
    int next_origin_ = 0;
  };

  // A Bundle (transaction, collection, searchset, ...) for one patient.
  static PatientRecord from_bundle(fhir::JsonDocument bundle, std::string patient_id = {});

  // Empty when the patient is not known (no Patient, no subject, no id).
  const std::string& patient_id() const { return patient_id_; }
  std::string patient_ref() const { return patient_id_.empty() ? "" : "Patient/" + patient_id_; }
  const std::optional<RecordResource>& patient() const { return patient_; }
  const std::vector<RecordResource>& conditions() const { return conditions_; }
  const std::vector<RecordResource>& observations() const { return observations_; }
  const std::vector<RecordResource>& care_plans() const { return care_plans_; }
  const std::vector<RecordResource>& procedures() const { return procedures_; }
  // MedicationRequest, MedicationAdministration and MedicationStatement.
  const std::vector<RecordResource>& medication_uses() const { return medication_uses_; }
  // Medication resources (named by medicationReference; no subject of their own).
  const std::vector<RecordResource>& medications() const { return medications_; }
  // Every other resource type given (read by nothing yet; listed as unused).
  const std::vector<RecordResource>& others() const { return others_; }
  // Refs of resources that arrived more than once (one line each).
  const std::vector<std::string>& duplicates() const { return duplicates_; }
  // What could not be part of the record, and why; sorted by ref.
  const std::vector<IgnoredResource>& ignored() const { return ignored_; }
  // The ignored resources whose content could not be read (a subject of
  // the wrong shape, a number no double holds): they may hold the patient's
  // data, so the record is incomplete. Also in ignored().
  const std::vector<UnreadableResource>& unreadable() const { return unreadable_; }

 private:
  std::vector<std::shared_ptr<const fhir::JsonDocument>> docs_;
  std::string patient_id_;
  std::optional<RecordResource> patient_;
  std::vector<RecordResource> conditions_;
  std::vector<RecordResource> observations_;
  std::vector<RecordResource> care_plans_;
  std::vector<RecordResource> procedures_;
  std::vector<RecordResource> medication_uses_;
  std::vector<RecordResource> medications_;
  std::vector<RecordResource> others_;
  std::vector<std::string> duplicates_;
  std::vector<IgnoredResource> ignored_;
  std::vector<UnreadableResource> unreadable_;
};

}  // namespace mst::mappings
