// Process-wide counters and latency histograms, rendered in the Prometheus
// text exposition format (version 0.0.4). Safe to update from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mst::adapter {

class Metrics {
 public:
  Metrics();

  // Adds `n` to counter `name` with one optional label (e.g. outcome="written").
  void count(const std::string& name, const std::string& label_value = "", std::uint64_t n = 1);
  // Records one observation in seconds into histogram `name`.
  void observe(const std::string& name, double seconds);
  // Sets gauge `name`.
  void set_gauge(const std::string& name, double value);

  std::uint64_t counter(const std::string& name, const std::string& label_value = "") const;
  std::uint64_t histogram_count(const std::string& name) const;

  // The whole registry as Prometheus text, metrics sorted by name.
  std::string render() const;

 private:
  struct Family {
    std::string help;
    std::string type;   // counter | histogram | gauge
    std::string label;  // label name of counters, e.g. "outcome"
  };
  struct Histogram {
    std::vector<std::uint64_t> buckets;  // cumulative at render time
    std::uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::map<std::string, std::map<std::string, std::uint64_t>> counters_;
  std::map<std::string, Histogram> histograms_;
  std::map<std::string, double> gauges_;
};

// Latency bucket bounds in seconds shared by every histogram.
const std::vector<double>& latency_buckets();

}  // namespace mst::adapter
