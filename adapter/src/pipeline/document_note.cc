#include "document_note.h"

#include <Poco/Base64Encoder.h>

#include <sstream>
#include <stdexcept>

#include "mst/fhir/code_systems.h"

namespace mst::adapter {

namespace {

constexpr std::string_view kProposalStatus =
    "PROPOSAL - NOT REVIEWED BY A CLINICIAN. Draft plan of care suggested by software from the "
    "patient's record; it is not an order and not a clinical decision.";

std::string base64(std::string_view bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << bytes;
  encoder.close();
  return out.str();
}

const fhir::JsonValue* care_plan_in(const fhir::JsonValue& transaction) {
  const auto* entries = transaction.find("entry");
  if (entries == nullptr || !entries->is_array()) return nullptr;
  for (const auto& e : entries->items()) {
    const auto* r = e.find("resource");
    const auto* type = r ? r->find("resourceType") : nullptr;
    if (type && type->is_string() && type->str() == "CarePlan") return r;
  }
  return nullptr;
}

std::string str(const fhir::JsonValue* v) { return v && v->is_string() ? v->str() : ""; }

fhir::JsonValue attachment(const std::string& content_type, const std::string& data,
                           const std::string& title, const std::string& created) {
  fhir::JsonValue a = fhir::JsonValue::object({{"contentType", content_type}});
  a.set("language", "en");
  a.set("data", base64(data));
  a.set("title", title);
  if (!created.empty()) a.set("creation", created);
  return fhir::JsonValue::object({{"attachment", std::move(a)}});
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

std::string xhtml_to_text(std::string_view xhtml) {
  std::string out;
  std::size_t i = 0;
  while (i < xhtml.size()) {
    const char c = xhtml[i];
    if (c == '<') {
      const std::size_t end = xhtml.find('>', i);
      if (end == std::string_view::npos) break;
      std::string_view tag = xhtml.substr(i + 1, end - i - 1);
      const bool closing = !tag.empty() && tag.front() == '/';
      if (closing) tag.remove_prefix(1);
      const std::string_view name = tag.substr(0, tag.find_first_of(" /"));
      if (name == "br" || (closing && (name == "p" || name == "div" || name == "li" ||
                                       name == "tr" || name == "h1" || name == "h2" ||
                                       name == "h3" || name == "h4" || name == "table")))
        out += '\n';
      else if (name == "li" && !closing)
        out += "- ";
      else if ((name == "td" || name == "th") && closing)
        out += "  ";
      i = end + 1;
    } else if (c == '&') {
      const std::size_t end = xhtml.find(';', i);
      const std::string_view entity =
          end == std::string_view::npos ? "" : xhtml.substr(i, end - i + 1);
      if (entity == "&amp;")
        out += '&';
      else if (entity == "&lt;")
        out += '<';
      else if (entity == "&gt;")
        out += '>';
      else if (entity == "&quot;")
        out += '"';
      else if (entity == "&#39;" || entity == "&apos;")
        out += '\'';
      else {
        out += '&';
        i += 1;
        continue;
      }
      i = end + 1;
    } else {
      out += c;
      ++i;
    }
  }
  // No blank runs: one empty line at most between paragraphs.
  std::string tidy;
  for (char ch : out) {
    if (ch == '\n' && tidy.size() >= 2 && tidy[tidy.size() - 1] == '\n' &&
        tidy[tidy.size() - 2] == '\n')
      continue;
    tidy += ch;
  }
  while (!tidy.empty() && (tidy.back() == '\n' || tidy.back() == ' ')) tidy.pop_back();
  return tidy;
}

fhir::JsonValue build_note(const fhir::JsonValue& transaction, const NoteIdentity& who,
                           const std::string& fingerprint, const std::string& fingerprint_url,
                           const std::string& id) {
  const fhir::JsonValue* plan = care_plan_in(transaction);
  if (plan == nullptr) throw std::invalid_argument("build_note: the bundle holds no CarePlan");
  const fhir::JsonValue* text = plan->find("text");
  const std::string div = text ? str(text->find("div")) : "";
  const std::string created = str(plan->find("created"));
  const std::string title = str(plan->find("title"));

  fhir::JsonValue note = fhir::JsonValue::object({{"resourceType", "DocumentReference"}});
  if (!id.empty()) note.set("id", id);
  note.set("extension", fhir::JsonValue::array({fhir::JsonValue::object(
                            {{"url", fingerprint_url}, {"valueString", fingerprint}})}));
  note.set("identifier",
           fhir::JsonValue::array({fhir::JsonValue::object(
               {{"system", who.identifier_system}, {"value", who.identifier_value}})}));
  note.set("status", "current");
  note.set("docStatus", "preliminary");
  // LOINC 18776-5 "Plan of care note": the C-CDA Care Plan document type
  // (docs/careplan-output.md cites it).
  note.set("type", fhir::JsonValue::object(
                       {{"coding", fhir::JsonValue::array({fhir::JsonValue::object(
                                       {{"system", std::string(fhir::code_system::kLoinc)},
                                        {"code", "18776-5"},
                                        {"display", "Plan of care note"}})})},
                        {"text", "Plan of care note (proposal)"}}));
  // US Core's DocumentReference category for clinical notes.
  note.set("category",
           fhir::JsonValue::array({fhir::JsonValue::object(
               {{"coding", fhir::JsonValue::array({fhir::JsonValue::object(
                               {{"system", std::string(fhir::code_system::kUsCoreDocumentCategory)},
                                {"code", "clinical-note"},
                                {"display", "Clinical Note"}})})}})}));
  note.set("subject", fhir::JsonValue::object({{"reference", "Patient/" + who.patient_id}}));
  if (!created.empty()) note.set("date", created + "T00:00:00Z");
  note.set("author", fhir::JsonValue::array({fhir::JsonValue::object({{"display", who.author}})}));
  note.set("description", "Proposal by " + who.author +
                              ", not reviewed by a clinician: a draft plan of care for review "
                              "by the spine oncology team.");
  const std::string status_line(kProposalStatus);
  // The XHTML keeps the CarePlan's narrative whole, after a status paragraph.
  std::string xhtml = div;
  const std::size_t open_end = xhtml.find('>');
  if (open_end != std::string::npos) {
    xhtml.insert(open_end + 1, "<p><b>" + status_line + "</b></p>");
  } else {
    xhtml = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p><b>" + status_line + "</b></p></div>";
  }
  const std::string plain = status_line + "\n\n" + xhtml_to_text(div) + "\n";
  fhir::JsonValue content = fhir::JsonValue::array();
  content.push(attachment("application/xhtml+xml", xhtml, title, created));
  content.push(attachment("text/plain; charset=utf-8", plain, title, created));
  note.set("content", std::move(content));
  return note;
}

Verdict judge_note(fhir::Node note, const NoteIdentity& who, const std::string& base_url) {
  const std::string subject =
      local_reference(note["subject"].string("reference").value_or(""), base_url);
  if (subject != "Patient/" + who.patient_id) {
    return {Standing::kOtherPatient,
            subject.empty() ? "it has no subject on this server" : "its subject is " + subject};
  }
  bool ours = false;
  std::size_t authors = 0;
  for (fhir::Node a : note.array("author")) {
    ++authors;
    if (a.string("display") == std::optional<std::string_view>(who.author) &&
        !a.string("reference"))
      ours = true;
  }
  if (!ours) return {Standing::kNotOurs, "its author is not the adapter"};
  if (authors > 1) return {Standing::kChanged, "a person is named among its authors"};
  const auto status = note.string("status");
  if (status != std::optional<std::string_view>("current"))
    return {Standing::kChanged, "its status is " + quoted(status.value_or(""))};
  const auto doc_status = note.string("docStatus");
  if (doc_status != std::optional<std::string_view>("preliminary"))
    return {Standing::kChanged, "its docStatus is " + quoted(doc_status.value_or(""))};
  return {};
}

}  // namespace mst::adapter
