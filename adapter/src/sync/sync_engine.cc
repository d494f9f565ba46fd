#include "mst/adapter/sync/sync_engine.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <mutex>
#include <set>
#include <thread>

#include "mst/fhir/safe_text.h"

namespace mst::adapter {

namespace {

std::int64_t epoch_ms(fhir::Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch())
      .count();
}

}  // namespace

int shard_of(const std::string& patient_id, int shard_count) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : patient_id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int>(h % static_cast<std::uint64_t>(std::max(shard_count, 1)));
}

SyncEngine::SyncEngine(StateStore& state, ChangeFeed& feed, PatientProcessor process,
                       SyncOptions options, Logger& log, Metrics& metrics,
                       std::shared_ptr<fhir::Clock> clock)
    : state_(state),
      feed_(feed),
      process_(std::move(process)),
      options_(options),
      log_(log),
      metrics_(metrics),
      clock_(std::move(clock)) {}

SyncReport SyncEngine::run_once(const std::atomic<bool>& stop) {
  SyncReport report;
  // Workers sharing the state scan one at a time, and one whose cycle began
  // before another's scan completed takes that scan's patients rather than
  // queueing them again: workers started together each scanned, and
  // processed a second time the patients the first had finished.
  const std::int64_t cycle_started = state_.cycle_start();
  if (!state_.scan_unless_covered(cycle_started, [&] { scan_and_enqueue(report); })) {
    log_.info("sync.scan_shared", {{"pending", std::to_string(state_.pending_count())}});
  }
  process_due(stop, report);
  report.interrupted = stop.load();
  report.checkpoint_advanced = state_.try_advance_checkpoint();
  const auto now = epoch_ms(*clock_);
  const std::size_t pending = state_.pending_count();
  report.pending = static_cast<int>(pending);
  report.waiting = static_cast<int>(pending - state_.due(now).size());
  metrics_.set_gauge("mst_sync_pending_patients", static_cast<double>(pending));
  metrics_.set_gauge("mst_sync_quarantined_patients",
                     static_cast<double>(state_.quarantined().size()));
  if (!report.interrupted) {
    metrics_.set_gauge("mst_sync_last_success_timestamp_seconds",
                       static_cast<double>(now) / 1000.0);
  }
  log_.info("sync.cycle", {{"processed", std::to_string(report.processed)},
                           {"written", std::to_string(report.written)},
                           {"unchanged", std::to_string(report.unchanged)},
                           {"skipped", std::to_string(report.skipped)},
                           {"failed", std::to_string(report.failed)},
                           {"waiting_retry", std::to_string(report.waiting)},
                           {"pending", std::to_string(report.pending)},
                           {"checkpoint", state_.checkpoint().value_or("(none)")},
                           {"interrupted", report.interrupted ? "true" : "false"}});
  return report;
}

void SyncEngine::scan_and_enqueue(SyncReport& report) {
  // Scan from where the last scan began, not from the checkpoint: every
  // patient that scan found is already in the state file, pending or done.
  // Re-reading from a checkpoint held by a failing patient would report the
  // same changes as new each cycle, resetting that patient's backoff and
  // failure count (so it was never quarantined and held the checkpoint for
  // good) and redoing every patient already finished.
  const auto checkpoint = state_.checkpoint();
  const auto scanned = state_.candidate_checkpoint();
  const auto& since = scanned ? scanned : checkpoint;
  ChangeScan scan = feed_.changed_since(since);
  std::set<std::string> mine = this_shard(scan.patient_ids);
  report.discovered = static_cast<int>(mine.size());
  // Persist what is to be done before doing any of it: a crash from here on
  // resumes with these patients, however far it got.
  if (scan.population) {
    // The scan lists the whole population: members last pulled long ago are
    // pulled again.
    update_population(mine, epoch_ms(*clock_) - options_.repull_interval_ms, report);
    return;
  }
  if (scan.members) {
    // Joiners and leavers only: a member is pulled for a change, not for
    // being listed.
    const std::set<std::string> members = this_shard(*scan.members);
    update_population(members, std::numeric_limits<std::int64_t>::min(), report);
    std::erase_if(mine, [&](const std::string& id) { return !members.contains(id); });
    report.discovered = static_cast<int>(mine.size());
  }
  state_.enqueue({mine.begin(), mine.end()}, scan.scan_time);
  log_.info("sync.scan", {{"since", since.value_or("(first run)")},
                          {"changed_patients", std::to_string(mine.size())},
                          {"pending", std::to_string(state_.pending_count())}});
}

std::set<std::string> SyncEngine::this_shard(const std::vector<std::string>& ids) const {
  std::set<std::string> out;
  for (const auto& id : ids) {
    if (shard_of(id, options_.shard_count) == options_.shard_index) out.insert(id);
  }
  return out;
}

void SyncEngine::update_population(const std::set<std::string>& members,
                                   std::int64_t repull_before_ms, SyncReport& report) {
  const PopulationChange change = state_.enqueue_population({members.begin(), members.end()},
                                                            epoch_ms(*clock_), repull_before_ms);
  report.joined = change.joined;
  report.left = change.left;
  metrics_.set_gauge("mst_sync_population_members", static_cast<double>(members.size()));
  log_.info("sync.population", {{"members", std::to_string(members.size())},
                                {"joined", std::to_string(change.joined)},
                                {"left", std::to_string(change.left)},
                                {"pending", std::to_string(state_.pending_count())}});
}

void SyncEngine::process_due(const std::atomic<bool>& stop, SyncReport& report) {
  // Claims come in batches: on a shared database each is leased to this
  // worker, and a short batch finishes well within its lease. claim_batch
  // 0 claims every due patient at once (one process: SQLite).
  std::set<std::string> seen;
  std::vector<std::string> held;
  std::size_t claimed_total = 0;
  const auto started = clock_->steady_now();
  while (!stop.load()) {
    std::size_t want = options_.claim_batch;
    if (options_.budget > 0) {
      if (claimed_total >= options_.budget) break;
      const std::size_t left = options_.budget - claimed_total;
      want = want == 0 ? left : std::min(want, left);
    }
    std::vector<std::string> due = state_.claim(epoch_ms(*clock_), want);
    // A patient recorded this cycle and claimable again (new data while it
    // was leased, or no retry delay) waits for the next cycle rather than
    // looping here. It stays leased while this cycle claims (given back, it
    // would fill the next claim again and end the cycle early), and its
    // lease goes back when the cycle ends: held, it would wait for
    // sync.lease_s with no worker on it.
    std::erase_if(due, [&](const std::string& id) {
      if (!seen.contains(id)) return false;
      held.push_back(id);
      return true;
    });
    if (due.empty()) break;
    claimed_total += due.size();
    seen.insert(due.begin(), due.end());
    process_batch(due, stop, started, report);
    if (options_.claim_batch == 0) break;
  }
  if (!held.empty()) state_.release(held);
}

void SyncEngine::process_batch(const std::vector<std::string>& due, const std::atomic<bool>& stop,
                               std::chrono::steady_clock::time_point started, SyncReport& report) {
  std::mutex mu;
  std::size_t next = 0;
  auto worker = [&] {
    for (;;) {
      std::string id;
      {
        std::lock_guard lock(mu);
        if (stop.load() || next >= due.size()) return;
        id = due[next++];
      }
      PatientOutcome outcome;
      try {
        outcome = process_(id);
      } catch (const std::exception& e) {
        const Classification c = classify(e);
        outcome.kind = OutcomeKind::kFailed;
        outcome.error_kind = c.kind;
        outcome.detail = e.what();
        outcome.retryable = c.retryable;
      }
      outcome.patient_id = id;
      std::lock_guard lock(mu);
      record(outcome, report);
      if (options_.progress) {
        const double secs = std::chrono::duration<double>(clock_->steady_now() - started).count();
        std::fprintf(stderr, "\rsync: %d patients, %.1f/s, %d failed   ", report.processed,
                     secs > 0 ? report.processed / secs : 0.0, report.failed);
      }
    }
  };
  const int n = std::clamp(options_.concurrency, 1, static_cast<int>(due.size()));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (options_.progress) std::fprintf(stderr, "\n");
}

void SyncEngine::record(const PatientOutcome& o, SyncReport& report) {
  ++report.processed;
  metrics_.count("mst_patients_processed_total", outcome_name(o.kind));
  switch (o.kind) {
    case OutcomeKind::kWritten:
    case OutcomeKind::kBuilt:
      ++report.written;
      break;
    case OutcomeKind::kUnchanged:
      ++report.unchanged;
      break;
    case OutcomeKind::kSkipped:
      ++report.skipped;
      break;
    case OutcomeKind::kFailed:
      ++report.failed;
      break;
  }
  if (o.kind != OutcomeKind::kFailed) {
    try {
      state_.record_success(o.patient_id, outcome_name(o.kind), o.fingerprint, o.plan_ref,
                            o.plan_version, epoch_ms(*clock_));
    } catch (const StateStoreLeaseLost& e) {
      lease_lost(o.patient_id, report);
      return;
    }
    log_.info("patient.done", {{"patient", o.patient_id},
                               {"outcome", outcome_name(o.kind)},
                               {"plan", o.plan_ref},
                               {"version", o.plan_version}});
    return;
  }
  metrics_.count("mst_failures_total", error_kind_name(o.error_kind));
  // The detail lands in the state file and the log: whatever produced it, it
  // passes the same filter as server error text.
  const std::string detail = fhir::safe_text(o.detail);
  // A failure that retrying cannot fix (bad input) is quarantined at once;
  // new data for the patient lifts it.
  RetrySchedule schedule = options_.retry;
  if (!o.retryable) schedule.quarantine_after = 1;
  PatientState st;
  try {
    st = state_.record_failure(o.patient_id, detail, epoch_ms(*clock_), schedule);
  } catch (const StateStoreLeaseLost&) {
    lease_lost(o.patient_id, report);
    return;
  }
  if (st.quarantined) ++report.quarantined;
  log_.warn(st.quarantined ? "patient.quarantined" : "patient.failed",
            {{"patient", o.patient_id},
             {"kind", error_kind_name(o.error_kind)},
             {"failures", std::to_string(st.failures)},
             {"error", detail}});
}

// Another worker took the patient over after this one's lease expired: its
// result stands, and this one's is dropped.
void SyncEngine::lease_lost(const std::string& patient_id, SyncReport& report) {
  ++report.lease_lost;
  metrics_.count("mst_sync_leases_lost_total", "");
  log_.warn("patient.lease_lost", {{"patient", patient_id}});
}

}  // namespace mst::adapter
