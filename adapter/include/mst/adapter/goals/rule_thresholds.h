// The numeric thresholds the goal rules use, in one table with their sources
// (clinical-decision.md sections 1-8). Defaults are compiled in, except that
// the SINS and revised Tokuhashi cut-offs the extractor's bands also use are
// read from the code tables (with_table_cutoffs); a JSON file
// (adapter/rules/thresholds.json) may override any of them by name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/error_kind.h"
#include "mst/mappings/code_tables.h"

namespace mst::adapter {

struct RuleThresholds {
  // Mechanical (SINS, Fisher 2010). These and the three Tokuhashi bands
  // below come from the code tables' thresholds.json in a pipeline
  // (with_table_cutoffs); the values here equal the shipped table, which a
  // unit test holds, for the engine used without tables.
  double sins_consult_min = 7;    // 7-18: surgical consultation
  double sins_unstable_min = 13;  // 13-18: unstable
  // Patchell 2005 eligibility for decompressive surgery.
  double patchell_min_survival_months = 3;
  double paraplegia_window_hours = 48;
  // Prognosis.
  double poor_prognosis_months = 6;        // stated estimate below this = poor prognosis
  double favourable_survival_months = 12;  // stated estimate at or above = favourable
  double tokuhashi_poor_max = 8;           // revised Tokuhashi 0-8: < 6 months
  double tokuhashi_single_vertebra_min = 9;
  double tokuhashi_favourable_min = 12;  // 12-15: >= 1 year
  // Systemic gate (NOMS "S").
  double s_gate_ecog_min = 3;
  double s_gate_kps_below = 50;
  // SBRT selection (CCTG SC.24).
  double sbrt_max_ecog = 2;
  double sbrt_min_kps = 60;
  double sbrt_max_sins = 11;
  double sbrt_max_levels = 3;
  // Pain.
  double pain_goal_min = 4;  // moderate pain: a pain-relief goal even when no row names one
  double severe_pain_min = 7;
  double pain_target_max = 3;
  // Radiotherapy and bone health.
  double rt_min_survival_weeks = 4;
  double bone_agent_min_survival_months = 3;
  // Timing and doses quoted in proposals (NICE NG234, QS56).
  double mscc_mri_hours = 24;
  double rt_start_hours = 24;
  double dexamethasone_mg = 16;
};

// One row of the threshold table: its JSON name, allowed range and source.
struct ThresholdInfo {
  std::string_view name;
  double RuleThresholds::*member;
  double min;
  double max;
  std::string_view source;
};

// Every threshold, in the order of RuleThresholds.
const std::vector<ThresholdInfo>& threshold_table();

// Bad threshold input: not JSON, unknown name, wrong type, out of range.
class ThresholdsError : public ::mst::Error {
 public:
  using ::mst::Error::Error;
  ErrorKind error_kind() const override { return ErrorKind::kConfiguration; }
};

// `base` with the SINS (sins.indeterminate-from, sins.unstable-from) and
// revised Tokuhashi (tokuhashi.six-months-from, tokuhashi.twelve-months-from)
// cut-offs of `tables`: the table a site reviews is the one source of the
// bands the extractor reads and the rules act on. Throws ThresholdsError
// when the table's bands are out of order.
RuleThresholds with_table_cutoffs(const mappings::CodeTables& tables, RuleThresholds base = {});

// `base` overridden by the JSON text. The text is an object with a
// "thresholds" object whose members are numbers or {"value": n, "source": s}.
// Throws ThresholdsError with a one-line reason.
RuleThresholds thresholds_from_json(std::string_view json_text, RuleThresholds base = {});

// Reads and parses a thresholds file over `base`. Throws ThresholdsError.
RuleThresholds load_thresholds_file(const std::string& path, RuleThresholds base = {});

}  // namespace mst::adapter
