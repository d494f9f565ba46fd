#include "record_generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string_view>
#include <vector>

namespace mst::bench {
namespace {

using fhir::JsonValue;

constexpr const char* kSnomed = "http://snomed.info/sct";
constexpr const char* kLoinc = "http://loinc.org";
constexpr const char* kIcd = "http://hl7.org/fhir/sid/icd-10-cm";
constexpr const char* kUcum = "http://unitsofmeasure.org";
constexpr const char* kMstObs = "http://mst-adapter.example.org/fhir/CodeSystem/mst-observation";
constexpr const char* kObsCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
constexpr const char* kBase = "http://mst-adapter.example.org/bench/fhir/";
constexpr std::int64_t kDayMs = 86'400'000;

// SplitMix64: tiny, portable and fully specified, so records are identical
// on every platform and standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  int between(int lo, int hi) {
    return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  double real(double lo, double hi) { return lo + (hi - lo) * unit(); }
  bool chance(double p) { return unit() < p; }

 private:
  std::uint64_t s_;
};

struct Code {
  const char* system;
  const char* code;
  const char* display;
};

JsonValue coding(const Code& c) {
  return JsonValue::object({{"system", c.system}, {"code", c.code}, {"display", c.display}});
}

JsonValue concept_of(std::initializer_list<Code> codes, std::string_view text = {}) {
  JsonValue cc = JsonValue::object();
  JsonValue list = JsonValue::array();
  for (const Code& c : codes) list.push(coding(c));
  cc.set("coding", std::move(list));
  if (!text.empty()) cc.set("text", text);
  return cc;
}

JsonValue text_concept(std::string_view text) { return JsonValue::object({{"text", text}}); }

JsonValue reference(std::string ref) { return JsonValue::object({{"reference", std::move(ref)}}); }

JsonValue status_concept(const char* system, const char* code) {
  return JsonValue::object(
      {{"coding", JsonValue::array({JsonValue::object({{"system", system}, {"code", code}})})}});
}

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

JsonValue quantity(double v, int decimals, const char* unit) {
  return JsonValue::object({{"value", JsonValue::decimal(fixed(v, decimals))},
                            {"unit", unit},
                            {"system", kUcum},
                            {"code", unit}});
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

JsonValue narrative(std::string_view text) {
  return JsonValue::object({{"status", "generated"},
                            {"div", "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>" +
                                        html_escape(text) + "</p></div>"}});
}

JsonValue test_tag() {
  return JsonValue::object(
      {{"tag", JsonValue::array({coding({"http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                         "HTEST", "test health data"})})}});
}

std::string day_text(std::int64_t ms) {
  return fhir::DateTime::from_epoch_ms(ms, fhir::Precision::kDay).to_string();
}
std::string instant_text(std::int64_t ms) {
  return fhir::DateTime::from_epoch_ms(ms, fhir::Precision::kSecond).to_string();
}

// ---- what the record is about ---------------------------------------------

struct Primary {
  Code icd;
  Code snomed;
  const char* text;
  const char* gender;  // "" = either
  const char* therapy_kind;
  const char* therapy_product;
  Code marker;  // LOINC tumour marker
  const char* marker_unit;
  double marker_lo, marker_hi;
};

const std::array<Primary, 5> kPrimaries = {{
    {{kIcd, "C64.1", "Malignant neoplasm of right kidney, except renal pelvis"},
     {kSnomed, "363518003", "Malignant tumor of kidney (disorder)"},
     "Clear cell renal cell carcinoma, right kidney",
     "",
     "Targeted therapy",
     "Cabozantinib 60 mg orally once daily",
     {kLoinc, "2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma"},
     "U/L",
     140,
     420},
    {{kIcd, "C61", "Malignant neoplasm of prostate"},
     {kSnomed, "399068003", "Malignant tumor of prostate (disorder)"},
     "Adenocarcinoma of prostate",
     "male",
     "Androgen deprivation therapy",
     "Abiraterone 1000 mg daily with prednisone",
     {kLoinc, "2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma"},
     "ng/mL",
     0.5,
     60},
    {{kIcd, "C50.912", "Malignant neoplasm of unspecified site of left female breast"},
     {kSnomed, "254837009", "Malignant neoplasm of breast (disorder)"},
     "Invasive ductal carcinoma, left breast",
     "female",
     "Endocrine therapy",
     "Letrozole 2.5 mg daily (aromatase inhibitor)",
     {kLoinc, "6875-9", "Cancer Ag 15-3 [Units/volume] in Serum or Plasma"},
     "U/mL",
     20,
     180},
    {{kIcd, "C34.11", "Malignant neoplasm of upper lobe, right bronchus or lung"},
     {kSnomed, "254637007", "Non-small cell lung cancer (disorder)"},
     "Non-small cell lung cancer, right upper lobe",
     "",
     "Immunotherapy",
     "Pembrolizumab 200 mg every 3 weeks (checkpoint inhibitor)",
     {kLoinc, "2039-6", "Carcinoembryonic Ag [Mass/volume] in Serum or Plasma"},
     "ng/mL",
     2,
     45},
    {{kIcd, "C18.7", "Malignant neoplasm of sigmoid colon"},
     {kSnomed, "363406005", "Malignant tumor of colon (disorder)"},
     "Adenocarcinoma of sigmoid colon",
     "",
     "Chemotherapy",
     "FOLFIRI every 2 weeks",
     {kLoinc, "2039-6", "Carcinoembryonic Ag [Mass/volume] in Serum or Plasma"},
     "ng/mL",
     2,
     80},
}};

// Vertebrae C1..S1 with their SNOMED CT body structure codes (spine-sites.json).
struct Vertebra {
  const char* name;
  const char* snomed;
};
const std::array<Vertebra, 25> kVertebrae = {{
    {"C1", "14806007"},  {"C2", "39976000"},  {"C3", "91116008"},   {"C4", "14705001"},
    {"C5", "67479001"},  {"C6", "88298007"},  {"C7", "16126006"},   {"T1", "56094003"},
    {"T2", "50060007"},  {"T3", "73138009"},  {"T4", "86197001"},   {"T5", "6105006"},
    {"T6", "32430008"},  {"T7", "71737002"},  {"T8", "77435000"},   {"T9", "33766003"},
    {"T10", "48405002"}, {"T11", "52120002"}, {"T12", "280849005"}, {"L1", "61032001"},
    {"L2", "53983007"},  {"L3", "55492004"},  {"L4", "71996003"},   {"L5", "21799000"},
    {"S1", "65985001"},
}};

Code region_metastasis(const Vertebra& v) {
  switch (v.name[0]) {
    case 'C':
      return {kSnomed, "94250008", "Secondary malignant neoplasm of cervical vertebral column"};
    case 'T':
      return {kSnomed, "94274006", "Secondary malignant neoplasm of thoracic vertebral column"};
    case 'L':
      return {kSnomed, "94389000", "Secondary malignant neoplasm of lumbar vertebral column"};
    default:
      return {kSnomed, "94527001", "Secondary malignant neoplasm of sacrum"};
  }
}

JsonValue vertebra_site(const Vertebra& v) {
  std::string display = std::string("Vertebra ") + v.name;
  return concept_of({{kSnomed, v.snomed, display.c_str()}});
}

// Conditions unrelated to the spine: the bulk of a long problem list.
const std::array<Code, 40> kUnrelatedConditions = {{
    {kIcd, "J06.9", "Acute upper respiratory infection, unspecified"},
    {kIcd, "K21.9", "Gastro-esophageal reflux disease without esophagitis"},
    {kIcd, "E78.5", "Hyperlipidemia, unspecified"},
    {kIcd, "F41.1", "Generalized anxiety disorder"},
    {kIcd, "M17.11", "Unilateral primary osteoarthritis, right knee"},
    {kIcd, "H52.4", "Presbyopia"},
    {kIcd, "L40.0", "Psoriasis vulgaris"},
    {kIcd, "K57.30",
     "Diverticulosis of large intestine without perforation or abscess without bleeding"},
    {kIcd, "I48.91", "Unspecified atrial fibrillation"},
    {kIcd, "E03.9", "Hypothyroidism, unspecified"},
    {kIcd, "G47.33", "Obstructive sleep apnea (adult) (pediatric)"},
    {kIcd, "J30.9", "Allergic rhinitis, unspecified"},
    {kIcd, "K29.70", "Gastritis, unspecified, without bleeding"},
    {kIcd, "R51.9", "Headache, unspecified"},
    {kIcd, "Z87.891", "Personal history of nicotine dependence"},
    {kIcd, "H25.9", "Unspecified age-related cataract"},
    {kIcd, "M79.7", "Fibromyalgia"},
    {kIcd, "B35.1", "Tinea unguium"},
    {kIcd, "L57.0", "Actinic keratosis"},
    {kIcd, "N39.0", "Urinary tract infection, site not specified"},
    {kIcd, "R53.83", "Other fatigue"},
    {kIcd, "K59.00", "Constipation, unspecified"},
    {kIcd, "R11.0", "Nausea"},
    {kIcd, "G62.9", "Polyneuropathy, unspecified"},
    {kIcd, "F32.A", "Depression, unspecified"},
    {kIcd, "I83.90", "Asymptomatic varicose veins of unspecified lower extremity"},
    {kIcd, "M25.511", "Pain in right shoulder"},
    {kIcd, "J20.9", "Acute bronchitis, unspecified"},
    {kIcd, "R05.9", "Cough, unspecified"},
    {kIcd, "E55.9", "Vitamin D deficiency, unspecified"},
    {kSnomed, "195967001", "Asthma (disorder)"},
    {kSnomed, "40055000", "Chronic sinusitis (disorder)"},
    {kSnomed, "68566005", "Urinary tract infectious disease (disorder)"},
    {kSnomed, "271737000", "Anemia (disorder)"},  // a second anaemia record, coded differently
    {kSnomed, "36971009", "Sinusitis (disorder)"},
    {kSnomed, "10509002", "Acute bronchitis (disorder)"},
    {kSnomed, "422587007", "Nausea (finding)"},
    {kSnomed, "62315008", "Diarrhea (finding)"},
    {kSnomed, "84229001", "Fatigue (finding)"},
    {kSnomed, "267036007", "Dyspnea (finding)"},
}};

struct Lab {
  const char* loinc;
  const char* display;
  const char* unit;
  double lo, hi;  // reference range
  double spread;  // how far results wander outside it
  int decimals;
};

const std::array<Lab, 11> kVisitLabs = {{
    {"2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.7, 1.3, 0.4, 2},
    {"2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 135, 145, 4, 0},
    {"2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.5, 5.1, 0.4, 1},
    {"2345-7", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", 70, 140, 60, 0},
    {"6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 4.0, 11.0, 2, 1},
    {"777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 150, 400, 60, 0},
    {"1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 7,
     56, 20, 0},
    {"1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "U/L",
     10, 40, 15, 0},
    {"6768-6", "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma", "U/L", 44,
     147, 80, 0},
    {"17861-6", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", 8.6, 10.3, 0.8, 1},
    {"1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", 0, 10, 25, 1},
}};

// Between-visit results of codes the extractor does not read.
const std::array<Lab, 8> kFillerLabs = {{
    {"2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 70, 140, 70, 0},
    {"2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 120, 200, 50, 0},
    {"2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", 40, 150, 80, 0},
    {"3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L", 0.4, 4.0, 1.5, 2},
    {"1989-3", "25-Hydroxyvitamin D3+25-Hydroxyvitamin D2 [Mass/volume] in Serum or Plasma",
     "ng/mL", 30, 100, 20, 0},
    {"19123-9", "Magnesium [Mass/volume] in Serum or Plasma", "mg/dL", 1.7, 2.2, 0.4, 1},
    {"3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "mg/dL", 7, 20, 10, 0},
    {"29463-7", "Body weight", "kg", 60, 85, 5, 1},
}};

constexpr int kSinsParts = 6;
const std::array<const char*, kSinsParts> kSinsCodes = {"sins-location",    "sins-pain",
                                                        "sins-bone-lesion", "sins-alignment",
                                                        "sins-collapse",    "sins-posterolateral"};

class Generator {
 public:
  explicit Generator(const RecordSpec& spec)
      : spec_(spec),
        rng_(spec.seed),
        primary_(kPrimaries[spec.seed % kPrimaries.size()]),
        patient_ref_("Patient/" + spec.patient_id),
        now_ms_(spec.as_of.start_ms()),
        start_ms_(now_ms_ - static_cast<std::int64_t>(spec.years) * 365 * kDayMs) {
    int count = rng_.between(4, 6);
    std::vector<int> picked;
    while (static_cast<int>(picked.size()) < count) {
      int i = rng_.between(2, static_cast<int>(kVertebrae.size()) - 1);
      if (std::find(picked.begin(), picked.end(), i) == picked.end()) picked.push_back(i);
    }
    std::sort(picked.begin(), picked.end());
    for (int i : picked) lesions_.push_back(&kVertebrae[static_cast<std::size_t>(i)]);
    index_lesion_ = lesions_[lesions_.size() / 2];
  }

  JsonValue run() {
    entries_ = JsonValue::array();
    add_organization();
    add_patient();
    add_conditions();
    add_observations();
    add_care_plans();
    JsonValue bundle =
        JsonValue::object({{"resourceType", "Bundle"},
                           {"id", spec_.patient_id + "-record"},
                           {"meta", test_tag()},
                           {"type", spec_.transaction ? "transaction" : "collection"}});
    if (!spec_.transaction) bundle.set("timestamp", instant_text(now_ms_));
    bundle.set("entry", std::move(entries_));
    return bundle;
  }

 private:
  std::string id(std::string_view kind, int n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%05d", n);
    return spec_.patient_id + "-" + std::string(kind) + "-" + buf;
  }

  void add_entry(const std::string& type, const std::string& rid, JsonValue resource) {
    JsonValue e = JsonValue::object({{"fullUrl", std::string(kBase) + type + "/" + rid}});
    e.set("resource", std::move(resource));
    if (spec_.transaction) {
      e.set("request", JsonValue::object({{"method", "PUT"}, {"url", type + "/" + rid}}));
    }
    entries_.push(std::move(e));
  }

  JsonValue resource_head(const char* type, const std::string& rid, std::string_view text) {
    return JsonValue::object(
        {{"resourceType", type}, {"id", rid}, {"meta", test_tag()}, {"text", narrative(text)}});
  }

  void add_organization() {
    org_ref_ = "Organization/" + spec_.patient_id + "-org";
    JsonValue o =
        resource_head("Organization", spec_.patient_id + "-org",
                      "Synthetic Benchmark Hospital: fictitious organisation for test data.");
    o.set("active", true);
    o.set("name", "Synthetic Benchmark Hospital (test data)");
    add_entry("Organization", spec_.patient_id + "-org", std::move(o));
  }

  void add_patient() {
    std::string gender =
        primary_.gender[0] ? primary_.gender : (rng_.chance(0.5) ? "male" : "female");
    int year = rng_.between(1945, 1968);
    char birth[16];
    std::snprintf(birth, sizeof birth, "%04d-%02d-%02d", year, rng_.between(1, 12),
                  rng_.between(1, 28));
    JsonValue p = resource_head("Patient", spec_.patient_id,
                                "Benchmark patient: synthetic, not a real person.");
    p.set("identifier", JsonValue::array({JsonValue::object(
                            {{"system", "http://mst-adapter.example.org/fhir/sid/bench-mrn"},
                             {"value", "MRN-" + std::to_string(spec_.seed)}})}));
    p.set("active", true);
    p.set("name",
          JsonValue::array({JsonValue::object({{"use", "official"},
                                               {"family", "Benchmark"},
                                               {"given", JsonValue::array({"Synthetic"})}})}));
    p.set("telecom",
          JsonValue::array({JsonValue::object({{"system", "phone"}, {"value", "+1-555-0100"}})}));
    p.set("gender", gender);
    p.set("birthDate", std::string(birth));
    p.set("address",
          JsonValue::array({JsonValue::object({{"line", JsonValue::array({"1 Example Street"})},
                                               {"city", "Springfield"},
                                               {"postalCode", "00000"},
                                               {"country", "US"}})}));
    p.set("managingOrganization", reference(org_ref_));
    add_entry("Patient", spec_.patient_id, std::move(p));
  }

  // ---- Conditions ----------------------------------------------------------

  struct ConditionArgs {
    std::initializer_list<Code> codes;
    std::string text;
    const char* clinical = "active";  // nullptr: none (entered-in-error)
    const char* verification = "confirmed";
    const char* category = "problem-list-item";
    std::int64_t onset_ms = 0;
    std::int64_t abatement_ms = 0;  // 0: none
    const Vertebra* site = nullptr;
    bool related_to_primary = false;
  };

  std::string add_condition(const ConditionArgs& a) {
    std::string rid = id("cond", ++condition_count_);
    JsonValue c = resource_head("Condition", rid, a.text);
    if (a.related_to_primary) {
      c.set("extension", JsonValue::array({JsonValue::object(
                             {{"url", "http://hl7.org/fhir/StructureDefinition/condition-related"},
                              {"valueReference", reference(primary_ref_)}})}));
    }
    if (a.clinical) {
      c.set("clinicalStatus",
            status_concept("http://terminology.hl7.org/CodeSystem/condition-clinical", a.clinical));
    }
    c.set("verificationStatus",
          status_concept("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                         a.verification));
    c.set("category",
          JsonValue::array({status_concept(
              "http://terminology.hl7.org/CodeSystem/condition-category", a.category)}));
    c.set("code", concept_of(a.codes, a.text));
    if (a.site) c.set("bodySite", JsonValue::array({vertebra_site(*a.site)}));
    c.set("subject", reference(patient_ref_));
    c.set("onsetDateTime", day_text(a.onset_ms));
    if (a.abatement_ms) c.set("abatementDateTime", day_text(a.abatement_ms));
    c.set("recordedDate", day_text(a.onset_ms + kDayMs * rng_.between(0, 6)));
    add_entry("Condition", rid, std::move(c));
    return "Condition/" + rid;
  }

  std::int64_t days_ago(int d) const { return now_ms_ - static_cast<std::int64_t>(d) * kDayMs; }

  void add_conditions() {
    const int history_days = spec_.years * 365;
    primary_ref_ = "Condition/" + id("cond", condition_count_ + 1);
    add_condition({.codes = {primary_.icd, primary_.snomed},
                   .text = primary_.text,
                   .onset_ms = days_ago(history_days - 20)});
    // Spinal metastases: one Condition per level, the newest found last week.
    for (std::size_t i = 0; i < lesions_.size(); ++i) {
      const Vertebra& v = *lesions_[i];
      int age = lesions_[i] == index_lesion_ ? 8 : rng_.between(60, 400);
      add_condition({.codes = {region_metastasis(v),
                               {kIcd, "C79.51", "Secondary malignant neoplasm of bone"}},
                     .text = std::string("Metastasis to ") + v.name + " vertebral body",
                     .onset_ms = days_ago(age),
                     .site = &v,
                     .related_to_primary = true});
    }
    add_condition({.codes = {{kIcd, "C79.51", "Secondary malignant neoplasm of bone"}},
                   .text = "Metastasis to left femur",
                   .onset_ms = days_ago(rng_.between(100, 300)),
                   .related_to_primary = true});
    add_condition({.codes = {{kIcd, "C78.7",
                              "Secondary malignant neoplasm of liver and intrahepatic bile duct"}},
                   .text = "Liver metastases",
                   .onset_ms = days_ago(rng_.between(100, 500)),
                   .related_to_primary = true});
    add_condition(
        {.codes = {{kIcd, "C77.2",
                    "Secondary and unspecified malignant neoplasm of intra-abdominal lymph nodes"}},
         .text = "Intra-abdominal nodal metastases",
         .onset_ms = days_ago(rng_.between(300, 700)),
         .related_to_primary = true});
    // Spine findings: new back pain and radiculopathy, a fracture at the index lesion.
    add_condition({.codes = {{kIcd, "M54.50", "Low back pain, unspecified"},
                             {kSnomed, "279039007", "Low back pain (finding)"}},
                   .text = "New low back pain",
                   .category = "encounter-diagnosis",
                   .onset_ms = days_ago(9)});
    add_condition({.codes = {{kIcd, "M54.16", "Radiculopathy, lumbar region"}},
                   .text = "Lumbar radiculopathy",
                   .category = "encounter-diagnosis",
                   .onset_ms = days_ago(40)});
    add_condition({.codes = {{kIcd, "M84.58XA",
                              "Pathological fracture in neoplastic disease, other specified site"}},
                   .text = std::string("Pathological fracture of ") + index_lesion_->name,
                   .category = "encounter-diagnosis",
                   .onset_ms = days_ago(8),
                   .site = index_lesion_});
    add_condition({.codes = {{kIcd, "G89.3", "Neoplasm related pain (acute) (chronic)"}},
                   .text = "Cancer-related pain",
                   .onset_ms = days_ago(120)});
    // Comorbidities the general-condition derivation reads.
    add_condition({.codes = {{kIcd, "E11.9", "Type 2 diabetes mellitus without complications"}},
                   .text = "Type 2 diabetes mellitus",
                   .onset_ms = days_ago(history_days - 5)});
    add_condition({.codes = {{kIcd, "I10", "Essential (primary) hypertension"}},
                   .text = "Essential hypertension",
                   .onset_ms = days_ago(history_days - 3)});
    add_condition({.codes = {{kIcd, "D63.0", "Anemia in neoplastic disease"}},
                   .text = "Anaemia in neoplastic disease",
                   .onset_ms = days_ago(90)});
    add_condition({.codes = {{kIcd, "N18.30", "Chronic kidney disease, stage 3 unspecified"}},
                   .text = "Chronic kidney disease stage 3",
                   .onset_ms = days_ago(600)});
    add_condition({.codes = {{kIcd, "J44.9", "Chronic obstructive pulmonary disease, unspecified"}},
                   .text = "COPD",
                   .onset_ms = days_ago(history_days - 1)});
    add_condition({.codes = {{kIcd, "M81.0",
                              "Age-related osteoporosis without current pathological fracture"}},
                   .text = "Osteoporosis",
                   .onset_ms = days_ago(800)});
    // Records a careful reader must not count.
    add_condition({.codes = {{kIcd, "M54.50", "Low back pain, unspecified"}},
                   .text = "Back pain, resolved",
                   .clinical = "resolved",
                   .category = "encounter-diagnosis",
                   .onset_ms = days_ago(700),
                   .abatement_ms = days_ago(600)});
    add_condition({.codes = {region_metastasis(kVertebrae[3])},
                   .text = "Entered in error: metastasis to C4",
                   .clinical = nullptr,
                   .verification = "entered-in-error",
                   .onset_ms = days_ago(200),
                   .site = &kVertebrae[3]});
    add_condition({.codes = {{kIcd, "M84.58XA",
                              "Pathological fracture in neoplastic disease, other specified site"}},
                   .text = "Refuted: pathological fracture of C5",
                   .verification = "refuted",
                   .category = "encounter-diagnosis",
                   .onset_ms = days_ago(150),
                   .site = &kVertebrae[4]});
    // The long tail of an ordinary problem list, episodes over the years.
    for (std::size_t i = 0; condition_count_ < spec_.conditions; ++i) {
      const Code& code = kUnrelatedConditions[i % kUnrelatedConditions.size()];
      int onset = rng_.between(20, history_days);
      bool resolved = rng_.chance(0.6);
      add_condition(
          {.codes = {code},
           .text = code.display,
           .clinical = resolved ? "resolved" : (rng_.chance(0.2) ? "inactive" : "active"),
           .verification = rng_.chance(0.05) ? "provisional" : "confirmed",
           .category = rng_.chance(0.5) ? "encounter-diagnosis" : "problem-list-item",
           .onset_ms = days_ago(onset),
           .abatement_ms = resolved ? days_ago(std::max(1, onset - rng_.between(5, 60))) : 0});
    }
  }

  // ---- Observations --------------------------------------------------------

  // Observations one visit writes; fixed per visit index so the total can be
  // planned exactly.
  int visit_size(int i, int visits) const {
    int n =
        7 + 1 + 1 + 2 + static_cast<int>(kVisitLabs.size());  // vitals, pain, PS, Hb, albumin, labs
    if (i % 3 == 0) ++n;                                      // HbA1c
    if (i % 2 == 0) ++n;                                      // tumour marker
    if (i % 4 == 0) n += 2;                                   // ambulation, neurological deficit
    ++n;                                                      // one result of a code nobody reads
    if (imaging_visit(i, visits))
      n += static_cast<int>(lesions_.size()) * (kSinsParts + 1) + 1;  // SINS, ESCC
    return n;
  }
  // Spine imaging is reported every few months, not at every visit.
  static bool imaging_visit(int i, int visits) { return i % 12 == 11 || i == visits - 1; }

  struct ObsArgs {
    const char* category;
    Code code;
    std::string text;
    std::int64_t when_ms;
    const Vertebra* site = nullptr;
  };

  // The common part of an Observation; the caller adds the value.
  JsonValue observation(const ObsArgs& a, std::string& rid) {
    rid = id("obs", ++observation_count_);
    JsonValue o = resource_head("Observation", rid, a.text);
    const char* status = "final";
    double roll = rng_.unit();
    if (roll < 0.015) {
      status = "preliminary";
    } else if (roll < 0.02) {
      status = "entered-in-error";
    } else if (roll < 0.025) {
      status = "amended";
    }
    o.set("status", status);
    o.set("category", JsonValue::array({concept_of({{kObsCategory, a.category, a.category}})}));
    o.set("code", concept_of({a.code}));
    o.set("subject", reference(patient_ref_));
    o.set("effectiveDateTime", instant_text(a.when_ms));
    if (std::string_view(a.category) == "laboratory")
      o.set("issued", instant_text(a.when_ms + 3 * 3600 * 1000));
    o.set("performer", JsonValue::array({reference(org_ref_)}));
    return o;
  }

  void finish(const std::string& rid, JsonValue o, const Vertebra* site = nullptr) {
    if (site) o.set("bodySite", vertebra_site(*site));
    add_entry("Observation", rid, std::move(o));
  }

  void add_quantity(const char* category, const Lab& lab, double value, std::int64_t when) {
    std::string rid;
    std::string text =
        std::string(lab.display) + ": " + fixed(value, lab.decimals) + " " + lab.unit;
    JsonValue o = observation({category, {kLoinc, lab.loinc, lab.display}, text, when}, rid);
    o.set("valueQuantity", quantity(value, lab.decimals, lab.unit));
    const char* flag = value < lab.lo ? "L" : value > lab.hi ? "H" : "N";
    o.set("interpretation",
          JsonValue::array({concept_of(
              {{"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", flag,
                flag[0] == 'L'   ? "Low"
                : flag[0] == 'H' ? "High"
                                 : "Normal"}})}));
    o.set("referenceRange", JsonValue::array({JsonValue::object(
                                {{"low", quantity(lab.lo, lab.decimals, lab.unit)},
                                 {"high", quantity(lab.hi, lab.decimals, lab.unit)}})}));
    finish(rid, std::move(o));
  }

  double wander(const Lab& lab) {
    return rng_.real(lab.lo - lab.spread * 0.3, lab.hi + lab.spread);
  }

  void add_score(const char* category, Code code, std::string text, std::int64_t when, int value,
                 const Vertebra* site = nullptr) {
    std::string rid;
    JsonValue o = observation({category, code, std::move(text), when}, rid);
    o.set("valueInteger", value);
    finish(rid, std::move(o), site);
  }

  void add_blood_pressure(std::int64_t when, double t) {
    int sys = static_cast<int>(std::lround(126 + 22 * t + rng_.real(-8, 8)));
    int dia = static_cast<int>(std::lround(78 + 10 * t + rng_.real(-6, 6)));
    std::string rid;
    JsonValue o =
        observation({"vital-signs",
                     {kLoinc, "85354-9", "Blood pressure panel with all children optional"},
                     "Blood pressure " + std::to_string(sys) + "/" + std::to_string(dia) + " mmHg",
                     when},
                    rid);
    auto component = [](const char* code, const char* display, int v) {
      JsonValue c = JsonValue::object({{"code", concept_of({{kLoinc, code, display}})}});
      c.set("valueQuantity",
            JsonValue::object(
                {{"value", v}, {"unit", "mmHg"}, {"system", kUcum}, {"code", "mm[Hg]"}}));
      return c;
    };
    o.set("component", JsonValue::array({component("8480-6", "Systolic blood pressure", sys),
                                         component("8462-4", "Diastolic blood pressure", dia)}));
    finish(rid, std::move(o));
  }

  void add_visit(int i, int visits, std::int64_t when) {
    // t: 0 at the start of the history, 1 at the last visit; the disease
    // progresses, so pain, performance status and haemoglobin drift with it.
    double t = visits > 1 ? static_cast<double>(i) / (visits - 1) : 1.0;
    add_blood_pressure(when, t);
    add_quantity("vital-signs", {"8867-4", "Heart rate", "/min", 60, 100, 20, 0},
                 rng_.real(58, 104), when);
    add_quantity("vital-signs", {"9279-1", "Respiratory rate", "/min", 12, 20, 4, 0},
                 rng_.real(12, 22), when);
    add_quantity("vital-signs", {"8310-5", "Body temperature", "Cel", 36.1, 37.5, 1, 1},
                 rng_.real(36.2, 37.9), when);
    add_quantity(
        "vital-signs",
        {"59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 94, 100, 4, 0},
        rng_.real(91, 99), when);
    double weight = 78 - 9 * t + rng_.real(-1.5, 1.5);
    add_quantity("vital-signs", {"29463-7", "Body weight", "kg", 60, 85, 5, 1}, weight, when);
    add_quantity("vital-signs",
                 {"39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", 18.5, 25, 5, 1},
                 weight / (1.74 * 1.74), when);

    int pain = std::clamp(static_cast<int>(std::lround(1 + 6 * t * t + rng_.real(-1, 1))), 0, 10);
    if (i == visits - 1) pain = 7;
    add_score("survey",
              {kLoinc, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"},
              "Pain " + std::to_string(pain) + "/10", when, pain);
    int ecog = t < 0.5 ? 0 : t < 0.8 ? 1 : 2;
    if (i % 2 == 0) {
      add_score("survey", {kLoinc, "89247-1", "ECOG Performance Status score"},
                "ECOG " + std::to_string(ecog), when, ecog);
    } else {
      int kps = 90 - 20 * ecog;
      add_score("survey", {kLoinc, "89243-0", "Karnofsky Performance Status score"},
                "Karnofsky " + std::to_string(kps) + "%", when, kps);
    }

    double hb = 13.9 - 3.4 * t + rng_.real(-0.4, 0.4);
    if (rng_.chance(0.2)) {
      add_quantity("laboratory",
                   {"718-7", "Hemoglobin [Mass/volume] in Blood", "g/L", 120, 170, 30, 0}, hb * 10,
                   when);
    } else {
      add_quantity("laboratory",
                   {"718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12, 17, 3, 1}, hb, when);
    }
    add_quantity("laboratory",
                 {"1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL", 3.5, 5.0, 1, 1},
                 4.3 - 1.0 * t + rng_.real(-0.2, 0.2), when);
    for (const Lab& lab : kVisitLabs) add_quantity("laboratory", lab, wander(lab), when);
    if (i % 3 == 0) {
      double a1c = 6.9 + 1.2 * t + rng_.real(-0.3, 0.3);
      if (rng_.chance(0.3)) {
        add_quantity(
            "laboratory",
            {"4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "mmol/mol", 20, 42, 30, 0},
            (a1c - 2.152) / 0.09148, when);
      } else {
        add_quantity("laboratory",
                     {"4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4, 5.6, 3, 1}, a1c,
                     when);
      }
    }
    if (i % 2 == 0) {
      Lab marker{primary_.marker.code,
                 primary_.marker.display,
                 primary_.marker_unit,
                 primary_.marker_lo,
                 primary_.marker_lo * 3,
                 0,
                 1};
      add_quantity("laboratory", marker,
                   rng_.real(primary_.marker_lo, primary_.marker_hi) * (0.5 + t), when);
    }
    add_filler(i, when + 3600 * 1000);
    if (i % 4 == 0) add_neurology(when, t);
    if (imaging_visit(i, visits)) add_imaging(when + 4 * 3600 * 1000, t);
  }

  void add_neurology(std::int64_t when, double t) {
    const char* amb = t < 0.85 ? "ambulatory-independent" : "ambulatory-with-aid";
    std::string rid;
    JsonValue o = observation(
        {"exam", {kMstObs, "ambulatory-status", "Ambulatory status"}, "Ambulatory status", when},
        rid);
    o.set("valueCodeableConcept", concept_of({{kMstObs, amb, amb}}));
    finish(rid, std::move(o));
    JsonValue d = observation({"exam",
                               {kMstObs, "neurological-deficit", "Neurological deficit"},
                               "Neurological deficit: none",
                               when},
                              rid);
    d.set("valueBoolean", false);
    finish(rid, std::move(d));
  }

  void add_imaging(std::int64_t when, double t) {
    for (const Vertebra* v : lesions_) {
      bool index = v == index_lesion_;
      // location, pain, bone lesion, alignment, collapse, posterolateral
      std::array<int, kSinsParts> parts = {v->name[0] == 'T' && std::string_view(v->name) != "T1" &&
                                                   std::string_view(v->name) != "T12"
                                               ? 1
                                               : 2,
                                           t > 0.7 ? 3 : 1,
                                           index ? 2 : 1,
                                           index && t > 0.9 ? 2 : 0,
                                           index && t > 0.9 ? 3 : 1,
                                           index ? 1 : 0};
      int total = 0;
      for (int k = 0; k < kSinsParts; ++k) {
        total += parts[static_cast<std::size_t>(k)];
        add_score("imaging",
                  {kMstObs, kSinsCodes[static_cast<std::size_t>(k)],
                   kSinsCodes[static_cast<std::size_t>(k)]},
                  std::string(kSinsCodes[static_cast<std::size_t>(k)]) + " " + v->name + ": " +
                      std::to_string(parts[static_cast<std::size_t>(k)]),
                  when, parts[static_cast<std::size_t>(k)], v);
      }
      add_score("imaging", {kMstObs, "sins-total", "SINS total score"},
                std::string("SINS ") + v->name + ": " + std::to_string(total), when, total, v);
    }
    const char* grade = t > 0.9 ? "escc-2" : t > 0.6 ? "escc-1b" : "escc-0";
    std::string rid;
    JsonValue o = observation(
        {"imaging",
         {kMstObs, "escc-grade", "Bilsky epidural spinal cord compression (ESCC) grade"},
         std::string("Bilsky ESCC ") + (grade + 5),
         when},
        rid);
    o.set("valueCodeableConcept",
          concept_of({{kMstObs, grade, grade}}, std::string("Bilsky ") + (grade + 5)));
    finish(rid, std::move(o), index_lesion_);
  }

  void add_filler(int k, std::int64_t when) {
    const Lab& lab = kFillerLabs[static_cast<std::size_t>(k) % kFillerLabs.size()];
    bool home = std::string_view(lab.loinc) == "29463-7" || std::string_view(lab.loinc) == "2339-0";
    add_quantity(home ? "vital-signs" : "laboratory", lab, wander(lab), when);
  }

  void add_observations() {
    const int reserved_future = std::min(3, spec_.observations);
    const int budget = spec_.observations - reserved_future;
    int visits = 0;
    int planned = 0;
    while (true) {
      // The size of visit v depends on whether it is the last one, so plan
      // with the candidate count.
      int candidate = visits + 1;
      int total = 0;
      for (int v = 0; v < candidate; ++v) total += visit_size(v, candidate);
      if (total > budget) break;
      visits = candidate;
      planned = total;
    }
    const int fillers = budget - planned;
    const std::int64_t span = now_ms_ - 2 * kDayMs - start_ms_;
    // Visits from the start of the history to two days before as_of, at 09:00.
    for (int v = 0; v < visits; ++v) {
      std::int64_t when = visits > 1 ? start_ms_ + span * v / (visits - 1) : now_ms_ - 2 * kDayMs;
      when = when / kDayMs * kDayMs + 9 * 3600 * 1000;
      add_visit(v, visits, when);
    }
    // Results of codes nobody reads, spread over the whole history.
    for (int k = 0; k < fillers; ++k) {
      std::int64_t when =
          start_ms_ + static_cast<std::int64_t>(rng_.unit() * static_cast<double>(span));
      add_filler(k, when / 60000 * 60000);
    }
    // Results stamped after as_of: the extractor must not see them.
    for (int k = 0; k < reserved_future; ++k) {
      add_score(
          "survey",
          {kLoinc, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"},
          "Pain 2/10 (after as-of)", now_ms_ + (k + 1) * kDayMs, 2);
    }
  }

  // ---- CarePlans ---------------------------------------------------------

  struct PlanArgs {
    std::string title;
    const char* status;
    Code category;
    std::int64_t start_ms;
    std::int64_t end_ms = 0;
    std::string activity_text{};
    const Code* activity_code = nullptr;
    std::string product{};
    bool oncology = false;
  };

  void add_care_plan(const PlanArgs& a) {
    std::string rid = id("careplan", ++care_plan_count_);
    JsonValue p = resource_head("CarePlan", rid, a.title);
    p.set("status", a.status);
    p.set("intent", "plan");
    p.set("category", JsonValue::array({concept_of({a.category})}));
    p.set("title", a.title);
    p.set("subject", reference(patient_ref_));
    JsonValue period = JsonValue::object({{"start", day_text(a.start_ms)}});
    if (a.end_ms) period.set("end", day_text(a.end_ms));
    p.set("period", std::move(period));
    if (a.oncology) p.set("addresses", JsonValue::array({reference(primary_ref_)}));
    JsonValue code = a.activity_code ? concept_of({*a.activity_code}, a.activity_text)
                                     : text_concept(a.activity_text);
    JsonValue detail =
        JsonValue::object({{"kind", a.product.empty() ? "ServiceRequest" : "MedicationRequest"}});
    detail.set("code", std::move(code));
    detail.set("status", std::string_view(a.status) == "active" ? "in-progress" : "completed");
    if (!a.product.empty()) detail.set("productCodeableConcept", text_concept(a.product));
    p.set("activity", JsonValue::array({JsonValue::object({{"detail", std::move(detail)}})}));
    add_entry("CarePlan", rid, std::move(p));
  }

  void add_care_plans() {
    const Code cancer_plan{kSnomed, "736252007", "Cancer care plan (record artifact)"};
    const Code chemo{kSnomed, "367336001", "Chemotherapy (procedure)"};
    const Code radio{kSnomed, "33195004", "External beam radiation therapy procedure (procedure)"};
    const Code palliative{kSnomed, "103735009", "Palliative care (regime/therapy)"};
    const Code general{kSnomed, "734163000", "Care plan (record artifact)"};
    const int history_days = spec_.years * 365;
    add_care_plan({.title = std::string("Current systemic therapy: ") + primary_.therapy_kind,
                   .status = "active",
                   .category = cancer_plan,
                   .start_ms = days_ago(150),
                   .activity_text = primary_.therapy_kind,
                   .product = primary_.therapy_product,
                   .oncology = true});
    add_care_plan({.title = "Bone-targeted agent",
                   .status = "active",
                   .category = cancer_plan,
                   .start_ms = days_ago(200),
                   .activity_text = "Bone-targeted agent",
                   .product = "Denosumab 120 mg subcutaneously every 4 weeks",
                   .oncology = true});
    add_care_plan({.title = "First-line chemotherapy (completed)",
                   .status = "completed",
                   .category = cancer_plan,
                   .start_ms = days_ago(history_days - 40),
                   .end_ms = days_ago(history_days - 220),
                   .activity_text = "Chemotherapy",
                   .activity_code = &chemo,
                   .oncology = true});
    add_care_plan({.title = "Palliative radiotherapy to the femur (completed)",
                   .status = "completed",
                   .category = cancer_plan,
                   .start_ms = days_ago(260),
                   .end_ms = days_ago(250),
                   .activity_text = "External beam radiotherapy 8 Gy single fraction",
                   .activity_code = &radio,
                   .oncology = true});
    add_care_plan({.title = "Second-line chemotherapy (withdrawn)",
                   .status = "revoked",
                   .category = cancer_plan,
                   .start_ms = days_ago(160),
                   .end_ms = days_ago(155),
                   .activity_text = "Chemotherapy",
                   .activity_code = &chemo,
                   .oncology = true});
    add_care_plan({.title = "Palliative care team follow-up",
                   .status = "active",
                   .category = general,
                   .start_ms = days_ago(90),
                   .activity_text = "Palliative care",
                   .activity_code = &palliative});
    static const std::array<const char*, 10> kOtherPlans = {
        "Diabetes self-management",
        "Hypertension follow-up",
        "Physiotherapy for right knee osteoarthritis",
        "Smoking cessation support",
        "COPD inhaler review",
        "Dietetic support for weight loss",
        "Annual influenza vaccination",
        "Falls prevention programme",
        "Sleep apnoea CPAP follow-up",
        "Cataract surgery follow-up"};
    for (std::size_t i = 0; care_plan_count_ < spec_.care_plans; ++i) {
      const char* what = kOtherPlans[i % kOtherPlans.size()];
      bool active = rng_.chance(0.4);
      int start = rng_.between(60, history_days);
      add_care_plan({.title = what,
                     .status = active ? "active" : "completed",
                     .category = general,
                     .start_ms = days_ago(start),
                     .end_ms = active ? 0 : days_ago(std::max(1, start - rng_.between(20, 200))),
                     .activity_text = what});
    }
  }

  const RecordSpec& spec_;
  Rng rng_;
  const Primary& primary_;
  std::string patient_ref_;
  std::string org_ref_;
  std::string primary_ref_;
  std::int64_t now_ms_;
  std::int64_t start_ms_;
  std::vector<const Vertebra*> lesions_;
  const Vertebra* index_lesion_ = nullptr;
  JsonValue entries_;
  int condition_count_ = 0;
  int observation_count_ = 0;
  int care_plan_count_ = 0;
};

}  // namespace

JsonValue generate_record(const RecordSpec& spec) { return Generator(spec).run(); }

std::string record_json(const RecordSpec& spec) { return generate_record(spec).dump(); }

}  // namespace mst::bench
