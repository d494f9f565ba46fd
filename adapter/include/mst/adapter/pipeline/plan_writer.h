// Idempotent write-back of one patient's draft plan. Finds the adapter's
// earlier plan by its business identifier, proves it is the adapter's
// (subject, author Device, status, notes: see plan_members.h) and then:
// writes nothing when the content is unchanged; never touches a plan or a
// Goal, ServiceRequest or CareTeam a person has changed or that another
// system wrote under the adapter's identifier; updates the adapter's own
// untouched resources by id with If-Match on the version read (re-reading on
// a conflict, a bounded number of times), links the new plan to the ones a
// person changed, and withdraws in the same transaction the untouched
// proposals the revision no longer makes; creates with conditional creates
// so concurrent writers converge on one plan. Each write is one transaction,
// or, for a server without transactions (WriteOptions::mode), batches or
// individual conditional requests with the CarePlan last (staged_write.h),
// or one DocumentReference note for a server that takes no CarePlan writes
// (document_note.h); ownership is judged the same way in every mode.
// Without a transaction it also repairs what a write stopped part-way
// leaves: a missing Provenance (plan_provenance.h), and the new proposals
// of a revision whose plan a clinician took over before its CarePlan.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "mst/adapter/careplan/careplan_builder.h"
#include "mst/adapter/pipeline/patient_outcome.h"
#include "mst/adapter/pipeline/read_mode.h"
#include "mst/adapter/pipeline/write_mode.h"
#include "mst/fhir/client.h"
#include "mst/fhir/json_value.h"

namespace mst::adapter {

struct OwnerMarks;  // plan_members.h

// The adapter's plan as found on the server.
struct ExistingPlan {
  std::string id;
  std::string version;            // meta.versionId
  std::string status;             // CarePlan.status
  std::string fingerprint;        // as stored in the plan by the builder; may be empty
  std::set<std::string> members;  // "Type/id" of the Goals, CareTeams, ServiceRequests it names
};

// What the builder made for this patient.
struct BuiltPlan {
  fhir::JsonValue bundle;  // a transaction Bundle
  std::string fingerprint;
};

struct PlanIdentity {
  std::string patient_id;
  std::string identifier_system;  // the adapter's CarePlan identifier system
  std::string identifier_value;
  // When a revision of a draft drops one of these (plan_member_kinds), the
  // same transaction retires it (Goal cancelled, ServiceRequest revoked,
  // CareTeam inactive).
  std::vector<PlanMemberKind> members;
  // Every Device carrying an identifier in this system is the adapter.
  std::string device_identifier_system;
  // The Annotation.authorString of the adapter's notes.
  std::string note_author;
  // The base URL of the server the patient was read from when the writer
  // writes to another: the subject is then the absolute URL there
  // (BuildOptions::source_base). Empty: the writer's own server.
  std::string subject_base = {};
};

struct WriteOptions {
  int max_conflict_retries = 3;
  bool dry_run = false;  // build and compare, never write
  // kAuto: chosen once from the server's CapabilityStatement (write_mode.h).
  WriteMode mode = WriteMode::kTransaction;
  // How the searches that prove what is the adapter's are read, as the pull
  // reads (server.read_mode): kAuto batches them when the server declares
  // `batch`, kBatch always (a batch refused as a whole falls back to searches).
  ReadMode reads = ReadMode::kAuto;
};

// Builds the transaction for the plan found (or for none).
using PlanBuildFn = std::function<BuiltPlan(const std::optional<ExistingPlan>&)>;
// Reads the fingerprint a CarePlan carries (empty when it has none).
using FingerprintReader = std::function<std::string(fhir::Node care_plan)>;

class PlanWriter {
 public:
  PlanWriter(fhir::Client& client, FingerprintReader read_fingerprint, WriteOptions options);

  // Writes (or not) one patient's plan. Serialised per patient inside this
  // process. Server errors propagate as fhir::ClientError; a duplicate plan
  // made by another writer, and a resource another system wrote under the
  // adapter's identifier (a look-alike), are reported as non-retryable
  // failures and never modified.
  PatientOutcome write(const PlanIdentity& identity, const PlanBuildFn& build);

  // What withdraw() did.
  struct Withdrawal {
    std::string plan_ref;           // the adapter's plan it withdrew, if any
    std::size_t withdrawn = 0;      // resources withdrawn (the plan among them)
    std::vector<std::string> left;  // "CarePlan/7 (its status is 'active')"
  };
  // Withdraws the adapter's untouched draft plan for the patient and its
  // untouched proposals, in one transaction with a Provenance recorded on
  // `as_of_day`, because of `cause` (e.g. "The patient is recorded as
  // deceased"): CarePlan revoked, Goals cancelled, ServiceRequests revoked,
  // CareTeam inactive. What a person took over, or another system wrote, is
  // left as it is and listed.
  Withdrawal withdraw(const PlanIdentity& identity, const std::string& cause,
                      const std::string& as_of_day);

  // The transaction (or, in document mode, the note) the last dry run would
  // have sent (empty before one).
  const std::string& last_dry_run_bundle() const { return last_bundle_; }

  // The mode writes use: options.mode, or for kAuto the one the server's
  // CapabilityStatement allows (read once).
  WriteMode mode();

 private:
  // The target's CapabilityStatement, read once; empty when it cannot be
  // read (the writes then search as they always did).
  const fhir::Capabilities& capabilities();
  std::mutex& patient_lock(const std::string& patient_id);
  // Sends a transaction-shaped bundle in mode(); returns where each written
  // entry went ("Type/id/_history/v"). `progress` as for send_staged()
  // (staged_write.h); a transaction leaves it empty.
  std::vector<std::string> send(fhir::JsonValue& bundle,
                                std::vector<std::string>* progress = nullptr);
  // Withdraws the proposals in `created` ("Type/id") that a failed
  // revision wrote and the plan a clinician took over does not name, while
  // they are still the adapter's untouched proposals; returns how many.
  std::size_t withdraw_orphans(const PlanIdentity& identity, const std::set<std::string>& created,
                               const fhir::JsonValue& built, const std::set<std::string>& named,
                               OwnerMarks marks);
  PatientOutcome write_note(const PlanIdentity& identity, const PlanBuildFn& build);
  // The outcome for a plan a person took over (`why`), after withdrawing
  // what an interrupted revision of it had `created`.
  PatientOutcome taken_over(const PlanIdentity& identity, const ExistingPlan& existing,
                            const std::string& why, const std::set<std::string>& created,
                            const fhir::JsonValue& created_by, const OwnerMarks& marks,
                            PatientOutcome out);
  // The outcome for a draft that already says what `built` says, after
  // recording the Provenance an interrupted write left out.
  PatientOutcome unchanged(const ExistingPlan& existing, BuiltPlan& built, const OwnerMarks& marks,
                           PatientOutcome out);
  // Whether the adapter's Provenance of `plan` with this content
  // fingerprint is on the server (plan_provenance.h); nullopt when the
  // server refuses the search.
  std::optional<bool> plan_provenance_found(const ExistingPlan& plan,
                                            const std::string& fingerprint,
                                            const OwnerMarks& marks);

  fhir::Client& client_;
  FingerprintReader read_fingerprint_;
  WriteOptions options_;
  std::mutex locks_mu_;
  std::unordered_map<std::string, std::unique_ptr<std::mutex>> locks_;
  std::string last_bundle_;
  std::mutex mode_mu_;
  std::optional<WriteMode> resolved_mode_;
  std::optional<fhir::Capabilities> capabilities_;
  // "Device/<id>" of the adapter's Devices, searched once and grown by what
  // this writer creates; searched again when a verdict would refuse or
  // leave something (another process may have added a Device since).
  std::mutex devices_mu_;
  std::optional<std::set<std::string>> devices_;
  std::set<std::string> devices(const PlanIdentity& identity, const std::string& base_url,
                                bool refresh);
  void note_written_devices(const std::vector<std::string>& where);
  OwnerMarks marks_for(const PlanIdentity& identity, const std::string& base_url, bool refresh);
  bool batch_reads();
};

}  // namespace mst::adapter
