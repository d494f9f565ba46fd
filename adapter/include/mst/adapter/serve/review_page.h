// The clinician review page of `serve`: the `explain` report of one
// derivation as a self-contained, printable HTML page (inline CSS, no
// scripts, fonts or other requests). Pure; every value from the chart is
// escaped.
#pragma once

#include <string>
#include <string_view>

#include "mst/adapter/pipeline/pipeline.h"

namespace mst::adapter {

struct ReviewPageInput {
  const Derivation* derivation = nullptr;  // must outlive the call
  std::string patient_id;
  // Evidence "Type/id" links to <fhir_base>/Type/id; empty (or not http(s)):
  // the references are shown as text.
  std::string fhir_base;
  // The write form: shown when `write_action` is set, posting `review_id`
  // and `write_token`. Otherwise `no_write_reason` says why there is none.
  std::string write_action;
  std::string review_id;
  std::string write_token;
  std::string no_write_reason;
};

std::string review_page_html(const ReviewPageInput& in);

// A short page of the same style: a title and one paragraph (a refusal, or
// the outcome of a write).
std::string review_message_html(std::string_view title, std::string_view message);

// The CSS class of an urgency ("u-stat" ...), so tests can read its colours.
std::string urgency_class(Urgency u);

}  // namespace mst::adapter
