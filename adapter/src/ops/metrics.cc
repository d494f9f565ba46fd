#include "mst/adapter/ops/metrics.h"

#include <charconv>
#include <sstream>

namespace mst::adapter {

namespace {

// Every metric the adapter exports, declared once so /metrics shows them all
// from the start (a zero is information; a missing series is not).
struct Declared {
  const char* name;
  const char* type;
  const char* label;
  const char* help;
};

constexpr Declared kDeclared[] = {
    {"mst_patients_processed_total", "counter", "outcome",
     "Patients processed, by outcome (written, unchanged, skipped, failed)."},
    {"mst_plans_written_total", "counter", "", "Draft CarePlans created or updated."},
    {"mst_plans_unchanged_total", "counter", "",
     "Runs whose inputs gave the plan already written."},
    {"mst_plans_skipped_total", "counter", "reason",
     "Patients given no plan, by reason (no-spinal-metastasis, unreadable-conditions, deceased, "
     "not-draft, edited)."},
    {"mst_failures_total", "counter", "kind", "Patient runs that failed, by error kind."},
    {"mst_fhir_retries_total", "counter", "", "FHIR requests retried after a retryable failure."},
    {"mst_fhir_requests_total", "counter", "status", "FHIR HTTP exchanges, by status class."},
    {"mst_fhir_request_duration_seconds", "histogram", "", "Duration of one FHIR HTTP exchange."},
    {"mst_patient_duration_seconds", "histogram", "", "Duration of one patient's whole run."},
    {"mst_sync_pending_patients", "gauge", "", "Patients waiting in the sync's pending set."},
    {"mst_sync_quarantined_patients", "gauge", "", "Patients quarantined after repeated failures."},
    {"mst_sync_leases_lost_total", "counter", "",
     "Results dropped because another worker took the patient's expired lease."},
    {"mst_sync_last_success_timestamp_seconds", "gauge", "", "When a sync cycle last completed."},
    {"mst_bulk_records_total", "counter", "source",
     "sync.bulk_data=records: patients whose record came from the export, or was pulled because "
     "the export could not vouch for it (export, pulled)."},
    {"mst_serve_requests_total", "counter", "endpoint",
     "Requests `serve` answered, by endpoint (discovery, patient-view, feedback, review, healthz, "
     "readyz, metrics, other)."},
    {"mst_serve_discovery_duration_seconds", "histogram", "", "Duration of one CDS discovery."},
    {"mst_serve_patient_view_duration_seconds", "histogram", "",
     "Duration of one CDS patient-view call, fetch included."},
    {"mst_serve_feedback_duration_seconds", "histogram", "", "Duration of one CDS feedback call."},
    {"mst_serve_review_duration_seconds", "histogram", "",
     "Duration of one review page or review write request, the write included."},
    {"mst_serve_ops_duration_seconds", "histogram", "",
     "Duration of one /healthz, /readyz or /metrics request of `serve`."},
    {"mst_cds_feedback_total", "counter", "outcome",
     "CDS card feedback received, by outcome (accepted, overridden)."},
};

std::string format_double(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

const std::vector<double>& latency_buckets() {
  static const std::vector<double> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                               0.5,   1,    2.5,   5,    10,  30};
  return kBuckets;
}

Metrics::Metrics() {
  for (const auto& d : kDeclared) {
    families_[d.name] = Family{d.help, d.type, d.label};
    if (std::string(d.type) == "histogram") {
      histograms_[d.name].buckets.assign(latency_buckets().size(), 0);
    } else if (std::string(d.type) == "gauge") {
      gauges_[d.name] = 0;
    } else if (std::string(d.label).empty()) {
      counters_[d.name][""] = 0;
    } else {
      counters_[d.name];
    }
  }
}

void Metrics::count(const std::string& name, const std::string& label_value, std::uint64_t n) {
  std::lock_guard lock(mu_);
  counters_[name][label_value] += n;
}

void Metrics::observe(const std::string& name, double seconds) {
  std::lock_guard lock(mu_);
  Histogram& h = histograms_[name];
  if (h.buckets.empty()) h.buckets.assign(latency_buckets().size(), 0);
  const auto& bounds = latency_buckets();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (seconds <= bounds[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::set_gauge(const std::string& name, double value) {
  std::lock_guard lock(mu_);
  gauges_[name] = value;
}

std::uint64_t Metrics::counter(const std::string& name, const std::string& label_value) const {
  std::lock_guard lock(mu_);
  auto it = counters_.find(name);
  if (it == counters_.end()) return 0;
  auto v = it->second.find(label_value);
  return v == it->second.end() ? 0 : v->second;
}

std::uint64_t Metrics::histogram_count(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = histograms_.find(name);
  return it == histograms_.end() ? 0 : it->second.count;
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::ostringstream out;
  auto header = [&](const std::string& name, const char* fallback_type) {
    auto f = families_.find(name);
    if (f != families_.end()) {
      out << "# HELP " << name << ' ' << f->second.help << '\n';
      out << "# TYPE " << name << ' ' << f->second.type << '\n';
    } else {
      out << "# TYPE " << name << ' ' << fallback_type << '\n';
    }
  };
  for (const auto& [name, series] : counters_) {
    header(name, "counter");
    auto f = families_.find(name);
    const std::string label =
        f != families_.end() && !f->second.label.empty() ? f->second.label : "label";
    for (const auto& [value, n] : series) {
      out << name;
      if (!value.empty()) out << '{' << label << "=\"" << escape_label(value) << "\"}";
      out << ' ' << n << '\n';
    }
  }
  for (const auto& [name, h] : histograms_) {
    header(name, "histogram");
    std::uint64_t cumulative = 0;
    const auto& bounds = latency_buckets();
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      cumulative += h.buckets[i];
      out << name << "_bucket{le=\"" << format_double(bounds[i]) << "\"} " << cumulative << '\n';
    }
    out << name << "_bucket{le=\"+Inf\"} " << h.count << '\n';
    out << name << "_sum " << format_double(h.sum) << '\n';
    out << name << "_count " << h.count << '\n';
  }
  for (const auto& [name, v] : gauges_) {
    header(name, "gauge");
    out << name << ' ' << format_double(v) << '\n';
  }
  return out.str();
}

}  // namespace mst::adapter
