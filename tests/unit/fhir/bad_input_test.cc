// Hostile and broken input at the fhir layer: every case must end in a
// ParseError or ElementError with a clear one-line message, never a crash, a
// hang or an unbounded allocation.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "mst/fhir/datatypes.h"
#include "mst/fhir/json.h"
#include "mst/fhir/json_value.h"
#include "mst/fhir/resource.h"

namespace mst::fhir {
namespace {

// The message of the ParseError that parsing `text` throws, or "" if none.
std::string parse_error_of(std::string_view text, const ParseLimits& limits = {}) {
  try {
    JsonDocument::parse(text, limits);
  } catch (const ParseError& e) {
    EXPECT_LE(e.offset(), text.size());
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << "messages are one line";
    return what;
  }
  return "";
}

template <typename F>
std::string element_error_of(F&& f) {
  try {
    f();
  } catch (const ElementError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

TEST(BadInput, MalformedJsonIsAParseErrorNamingTheOffset) {
  const std::vector<std::string_view> cases = {
      "",
      "   ",
      "{",
      R"({"resourceType":"Patient")",
      R"({"resourceType":"Patient",})",
      R"({"a":1,,"b":2})",
      R"({'a':1})",
      R"({"a":01})",
      R"({"a":1.})",
      R"({"a":.5})",
      R"({"a":NaN})",
      R"({"a":Infinity})",
      R"({"a":tru})",
      R"({"a":"unterminated})",
      "{\"a\":\"raw\ncontrol\"}",
      R"({"a":"\x41"})",
      R"({"a":1} trailing)",
      R"(/* comment */ {})",
      // RapidJSON reads a NUL byte as the end of input, so what follows
      // one was silently dropped until parse() refused NUL bytes.
      std::string_view("{\"a\":1}\0", 8),
      std::string_view("{\"a\":1}\0{\"b\":2}", 15),
      std::string_view("[\"a\0b\"]", 7),
  };
  for (std::string_view text : cases) {
    const std::string what = parse_error_of(text);
    EXPECT_TRUE(contains(what, "malformed JSON at offset")) << "input: " << text << " -> " << what;
  }
}

TEST(BadInput, InvalidUtf8IsRefused) {
  const std::vector<std::string_view> cases = {
      "[\"\xc3\x28\"]",          // bad continuation byte
      "[\"\xe2\x82\"]",          // truncated sequence
      "[\"\xc0\xaf\"]",          // overlong encoding of '/'
      "[\"\xed\xa0\x80\"]",      // an encoded UTF-16 surrogate
      "[\"\xf4\x90\x80\x80\"]",  // above U+10FFFF
      "[\"\xff\"]",              // never valid
      R"(["\ud800"])",           // lone high surrogate as an escape
      R"(["\udc00\ud800"])",     // reversed pair
      R"(["\ud41d\ude00"])",     // lone low surrogate (found by fuzz_json)
      R"({"\udfff":1})",         // the same in a key
      "{\"k\xfe\":1}",           // in a key
  };
  for (std::string_view text : cases) {
    EXPECT_FALSE(parse_error_of(text).empty()) << "input: " << text;
  }
  // A valid pair and multi-byte text still parse.
  auto doc = JsonDocument::parse(R"(["\ud83d\ude00", "é€😀"])");
  EXPECT_EQ(doc.root().elements()[0].as_string(), "\xf0\x9f\x98\x80");
}

TEST(BadInput, DeepNestingIsRefusedBeforeAnyTreeIsBuilt) {
  constexpr int kLevels = 100'000;
  const std::string arrays = std::string(kLevels, '[') + std::string(kLevels, ']');
  EXPECT_TRUE(contains(parse_error_of(arrays), "nests deeper than 200 levels"));

  std::string objects;
  for (int i = 0; i < kLevels; ++i) objects += R"({"a":)";
  objects += "1" + std::string(kLevels, '}');
  EXPECT_TRUE(contains(parse_error_of(objects), "nests deeper than 200 levels"));

  // Unbalanced: opens only, as a truncated hostile body would.
  EXPECT_TRUE(contains(parse_error_of(std::string(kLevels, '[')), "nests deeper"));

  // Brackets inside strings are text, not nesting.
  const std::string quoted = "[\"" + std::string(kLevels, '[') + "\"]";
  EXPECT_EQ(JsonDocument::parse(quoted).root().elements()[0].as_string().size(),
            static_cast<std::size_t>(kLevels));
}

TEST(BadInput, NestingExactlyAtTheLimitParses) {
  ParseLimits limits;
  limits.max_depth = 3;
  EXPECT_NO_THROW(JsonDocument::parse(R"([{"a":[1]}])", limits));
  EXPECT_EQ(parse_error_of(R"([{"a":[[1]]}])", limits),
            "JSON nests deeper than 3 levels at offset 7");
  // The default limit: 200 levels parse, 201 do not.
  EXPECT_NO_THROW(JsonDocument::parse(std::string(200, '[') + std::string(200, ']')));
  EXPECT_EQ(parse_error_of(std::string(201, '[') + std::string(201, ']')),
            "JSON nests deeper than 200 levels at offset 200");
}

TEST(BadInput, ErrorsAreNamedInAFixedOrderWhateverElseIsWrong) {
  ParseLimits limits;
  limits.max_depth = 3;
  // A NUL byte first, then nesting, then the first other fault.
  EXPECT_EQ(parse_error_of(std::string("[\"\xff\",[[[1]]]]\0", 14), limits),
            "malformed JSON at offset 13: NUL byte");
  EXPECT_EQ(parse_error_of("[\"\xff\",[[[1]]]]", limits),
            "JSON nests deeper than 3 levels at offset 7");
  EXPECT_EQ(parse_error_of("[x,[[[1]]]]", limits), "JSON nests deeper than 3 levels at offset 5");
  EXPECT_EQ(parse_error_of("[\"ab\xff\"]"),
            "malformed JSON at offset 4: Invalid encoding in string.");
  EXPECT_EQ(parse_error_of("{\"k\xff\":1}"),
            "malformed JSON at offset 3: Invalid encoding in string.");
  // Non-ASCII outside a string is a syntax error, valid UTF-8 or not.
  EXPECT_EQ(parse_error_of("[\xc3\xa9]"), "malformed JSON at offset 1: Invalid value.");
  EXPECT_EQ(parse_error_of("[1]\xff"),
            "malformed JSON at offset 3: The document root must not be followed by other values.");
}

TEST(BadInput, LoneLowSurrogatesAreRefusedWithOrWithoutOtherEscapes) {
  EXPECT_EQ(parse_error_of(R"(["\u0041","\udc00"])"),
            "malformed JSON at offset 18: lone UTF-16 surrogate in a \\u escape");
  EXPECT_EQ(parse_error_of(R"({"\udc00":1})"),
            "malformed JSON at offset 9: lone UTF-16 surrogate in a \\u escape");
  // The same code point as raw bytes, in a text with no escapes at all.
  EXPECT_EQ(parse_error_of("[\"a\xed\xb0\x80\"]"),
            "malformed JSON at offset 3: Invalid encoding in string.");
  // An escaped backslash before a 'u' is no \u escape.
  EXPECT_EQ(JsonDocument::parse(R"(["\\udc00"])").root().elements()[0].as_string(), "\\udc00");
  // Escapes that decode to valid text, alone and as a pair.
  auto doc = JsonDocument::parse(R"(["\u00e9", "\ud83d\udc4d"])");
  EXPECT_EQ(doc.root().elements()[0].as_string(), "\xc3\xa9");
  EXPECT_EQ(doc.root().elements()[1].as_string(), "\xf0\x9f\x91\x8d");
}

TEST(BadInput, MultiByteTextParsesWhereverItFallsInTheInput) {
  // Long enough that the UTF-8 check reads whole words and then a tail.
  const std::string text = "[\"" + std::string(13, 'a') + "\xc3\xa9" + std::string(7, 'b') +
                           "\xe2\x82\xac\xf0\x9f\x98\x80\", \"\xc3\xa9\"]";
  auto doc = JsonDocument::parse(text);
  EXPECT_EQ(doc.root().elements()[1].as_string(), "\xc3\xa9");
  // A sequence cut short by the end of the string.
  EXPECT_EQ(parse_error_of("[\"" + std::string(13, 'a') + "\xe2\x82\"]"),
            "malformed JSON at offset 15: Invalid encoding in string.");
}

TEST(BadInput, NumbersOutsideTheRangeOfADoubleAreRefused) {
  // Found by fuzz_json: RapidJSON 1.1 read some of these as infinity, which
  // JsonValue::dump then wrote as nothing, producing invalid JSON.
  for (std::string_view big :
       {"[1e400]", "[-1e400]", "[18446746931348623157e308]", "[0.5e309]", "[-0.5e309]",
        "{\"v\":123456789012345678901e290}", "[1e-400]", "[1e99999999999999999999]"}) {
    EXPECT_TRUE(contains(parse_error_of(big), "number outside the range of a double")) << big;
  }
  // The extremes that are doubles still parse.
  auto doc = JsonDocument::parse("[1.7976931348623157e308, 5e-324, -2.2250738585072014e-308]");
  EXPECT_EQ(doc.root().elements()[0].as_number(), 1.7976931348623157e308);
  EXPECT_EQ(doc.root().elements()[1].as_number(), 5e-324);
}

// Issue #12: one number no double holds rejected a whole --input document.
// Kept (on request), it is a number out of range where it stands: reading
// it is an ElementError, so only the resource holding it is lost.
TEST(BadInput, NumbersOutsideTheRangeOfADoubleCanBeKeptAsOutOfRange) {
  ParseLimits keep;
  keep.keep_out_of_range_numbers = true;
  auto doc = JsonDocument::parse(
      R"([1e400, 2, -0.5e309, 18446746931348623157e308, {"v":1e99999999999999999999}, "1e400"])",
      keep);
  EXPECT_EQ(doc.out_of_range_numbers(), 4u);
  const auto items = doc.root().elements();
  EXPECT_TRUE(contains(element_error_of([&] { (void)items[0].as_number(); }),
                       "holds 1e400, outside the range of a double"));
  EXPECT_FALSE(element_error_of([&] { (void)items[0].as_integer(); }).empty());
  EXPECT_FALSE(items[0].is_string());
  EXPECT_TRUE(contains(element_error_of([&] { (void)items[0].as_string(); }),
                       "must be a string, found a number outside the range of a double"));
  EXPECT_EQ(items[1].as_integer(), 2);
  EXPECT_FALSE(element_error_of([&] { (void)items[2].as_number(); }).empty());
  EXPECT_FALSE(element_error_of([&] { (void)items[3].as_number(); }).empty());
  EXPECT_TRUE(contains(element_error_of([&] { (void)items[4].number("v"); }),
                       "holds 1e99999999999999999999"));
  EXPECT_EQ(items[5].as_string(), "1e400");  // a real string stays one
  EXPECT_TRUE(is_out_of_range_number(*items[0].raw()));
  EXPECT_FALSE(is_out_of_range_number(*items[5].raw()));
  // Written out again, it keeps its text.
  EXPECT_EQ(JsonValue::from(items[0]).dump(), "1e400");

  // Other errors still name their offset in the text as given.
  EXPECT_EQ(parse_error_of("[1e400, 1e500, x]", keep),
            "malformed JSON at offset 15: Invalid value.");
  // Without the request, the document is refused as before.
  EXPECT_TRUE(contains(parse_error_of("[1e400]"), "number outside the range of a double"));
  // Each such number costs a parse: past a bound the document is refused.
  std::string many = "[";
  for (int i = 0; i < 100; ++i) many += "1e400,";
  many += "0]";
  EXPECT_TRUE(contains(parse_error_of(many, keep), "number outside the range of a double"));
}

// Issue #12: a key given twice read as its first value; HAPI FHIR keeps the
// last, so the adapter must read what the server stores.
TEST(BadInput, ADuplicateKeyReadsAsItsLastValue) {
  auto doc = JsonDocument::parse(R"({"a":1,"b":"x","a":2,"a":3})");
  EXPECT_EQ(doc.root().integer("a"), 3);
  EXPECT_EQ(doc.root().string("b"), "x");
}

TEST(BadInput, NumbersAreReadCorrectlyRounded) {
  // Found by fuzz_json: RapidJSON 1.1's own conversion read this 32-digit
  // integer one double away from the nearest, and the value it then wrote
  // read back as yet another double.
  auto doc = JsonDocument::parse("[18446744073123456789012345678901, 1.8446744073123458e31, 0.1]");
  EXPECT_EQ(doc.root().elements()[0].as_number(), 18446744073123456789012345678901.0);
  EXPECT_EQ(doc.root().elements()[1].as_number(), 1.8446744073123458e31);
  EXPECT_EQ(doc.root().elements()[2].as_number(), 0.1);
}

TEST(BadInput, HugeIntegersAreNumbersButNotIntegers) {
  auto doc = JsonDocument::parse(
      R"({"v":123456789012345678901234567890,"i":9223372036854775808,"m":-9223372036854775808})");
  EXPECT_EQ(*doc.root().number("v"), 123456789012345678901234567890.0);
  EXPECT_TRUE(contains(element_error_of([&] { (void)doc.root().integer("v"); }),
                       "element 'v' must be an integer, found number"));
  EXPECT_FALSE(element_error_of([&] { (void)doc.root().integer("i"); }).empty());
  EXPECT_EQ(doc.root().integer("m"), INT64_MIN);

  // valueInteger out of range is an ElementError from the value[x] reader.
  auto obs = JsonDocument::parse(R"({"valueInteger":1e300})");
  EXPECT_FALSE(element_error_of([&] { (void)read_value(obs.root()); }).empty());
}

TEST(BadInput, HugeStringsWithinTheLimitParse) {
  const std::string big(16u << 20, 'x');
  auto doc = JsonDocument::parse("{\"text\":\"" + big + "\"}");
  EXPECT_EQ(doc.root().string("text")->size(), big.size());
}

TEST(BadInput, TwoHundredMegabyteBodyIsRefusedBySizeAtOnce) {
  // Made at test time: such a body is never committed.
  std::string body(200u << 20, ' ');
  body.front() = '[';
  body.back() = ']';
  const auto start = std::chrono::steady_clock::now();
  const std::string what = parse_error_of(body);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(contains(what, "JSON input is 209715200 bytes, over the limit of 67108864")) << what;
  // The size check comes before any scan of the text, so it costs nothing.
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(BadInput, WrongTypesAreElementErrorsNamingTheElement) {
  auto doc = JsonDocument::parse(R"({
    "resourceType": 5,
    "bundle": {"resourceType": "Bundle", "entry": {"resource": {}}},
    "entries": {"resourceType": "Bundle", "entry": ["not an object"]},
    "links": {"resourceType": "Bundle", "link": "next"},
    "obs": {"resourceType": "Observation", "valueQuantity": "12 mg",
            "code": {"coding": {"system": "x"}}, "effectiveDateTime": 20240305,
            "subject": "Patient/1", "component": [{"valueBoolean": "yes"}],
            "meta": {"lastUpdated": "yesterday", "profile": [1]}}
  })");
  Node r = doc.root();
  EXPECT_EQ(element_error_of([&] { (void)Resource(r); }),
            "element 'resourceType' must be a string, found number");
  EXPECT_EQ(element_error_of([&] { (void)Bundle(r["bundle"]).entries(); }),
            "element 'entry' must be an array, found object");
  EXPECT_EQ(element_error_of([&] { (void)Bundle(r["entries"]).entries(); }),
            "Bundle.entry must hold objects");
  EXPECT_EQ(element_error_of([&] { (void)Bundle(r["links"]).link("next"); }),
            "element 'link' must be an array, found string");

  Node obs = r["obs"];
  EXPECT_EQ(element_error_of([&] { (void)read_value(obs); }),
            "element 'valueQuantity' must be an object");
  EXPECT_EQ(element_error_of([&] { (void)read_codeable_concept(obs["code"]); }),
            "element 'coding' must be an array, found object");
  EXPECT_EQ(element_error_of([&] { (void)read_datetime(obs["effectiveDateTime"]); }),
            "element 'effectiveDateTime' must be a string, found number");
  EXPECT_EQ(element_error_of([&] { (void)read_reference(obs["subject"]); }),
            "element 'subject' must be an object");
  EXPECT_EQ(element_error_of([&] { (void)read_value(obs.array("component")[0]); }),
            "element 'valueBoolean' must be a boolean, found string");
  const Resource res(obs);
  EXPECT_EQ(element_error_of([&] { (void)res.last_updated(); }),
            "element 'lastUpdated' is not a valid FHIR date/dateTime");
  EXPECT_EQ(element_error_of([&] { (void)res.profiles(); }),
            "element 'profile' must be a string, found number");

  // An OperationOutcome arrives on error paths: it is read, never thrown from.
  auto outcome = JsonDocument::parse(
      R"({"resourceType":"OperationOutcome","issue":[{"severity":1,"details":"x"},"y",
          {"severity":"error","diagnostics":["a"],"expression":"z"}]})");
  const auto issues = read_outcome_issues(outcome.root());
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[1].severity, "error");
  EXPECT_EQ(summarize_issues(issues), "issue; error");
}

TEST(BadInput, WrongResourceTypeIsRefusedByTheView) {
  auto patient = JsonDocument::parse(R"({"resourceType":"Patient","id":"p1"})");
  EXPECT_EQ(element_error_of([&] { (void)Bundle(patient.root()); }), "expected a Bundle");
  auto untyped = JsonDocument::parse(R"({"id":"p1"})");
  EXPECT_EQ(element_error_of([&] { (void)Resource(untyped.root()); }),
            "resource has no resourceType");
  auto empty_type = JsonDocument::parse(R"({"resourceType":""})");
  EXPECT_EQ(element_error_of([&] { (void)Resource(empty_type.root()); }),
            "resource has no resourceType");
  auto array = JsonDocument::parse(R"([{"resourceType":"Bundle"}])");
  EXPECT_EQ(element_error_of([&] { (void)Bundle(array.root()); }),
            "a resource must be a JSON object");
  // Identities go into logs, refs and URLs: they must be FHIR names and ids,
  // and are not quoted back (found by fuzz_record).
  auto cr_type = JsonDocument::parse(R"({"resourceType":"Obse\rvation"})");
  EXPECT_EQ(element_error_of([&] { (void)Resource(cr_type.root()); }),
            "resourceType is not a FHIR resource type name");
  auto slash_id = JsonDocument::parse(R"({"resourceType":"Patient","id":"../p1"})");
  EXPECT_EQ(element_error_of([&] { (void)Resource(slash_id.root()); }),
            "resource id is not a valid FHIR id");
  auto bad_version =
      JsonDocument::parse(R"({"resourceType":"Patient","id":"p1","meta":{"versionId":"1\n2"}})");
  EXPECT_EQ(element_error_of([&] { (void)Resource(bad_version.root()).version_id(); }),
            "meta.versionId is not a valid FHIR id");
  // Not an OperationOutcome: no issues, no error.
  EXPECT_TRUE(read_outcome_issues(patient.root()).empty());
}

TEST(BadInput, ReferencesToMissingOrUnreadableTargetsParseWithoutResolving) {
  // A Bundle whose references point at nothing it holds: the fhir layer
  // reads each reference as text; resolving (and reporting what is missing)
  // is the extractor's job.
  auto doc = JsonDocument::parse(R"({"resourceType":"Bundle","type":"searchset","entry":[
      {"fullUrl":"urn:uuid:aaaa","resource":{"resourceType":"Condition","id":"c1",
        "subject":{"reference":"Patient/not-here"},
        "evidence":[{"detail":[{"reference":"urn:uuid:missing"},{"reference":"#absent"},
                               {"reference":"Observation/"},{"reference":""},{"display":"only"}]}]}}]})");
  const auto entries = Bundle(doc.root()).entries();
  ASSERT_EQ(entries.size(), 1u);
  Node cond = entries[0].resource;
  EXPECT_EQ(read_reference(cond["subject"])->relative(), "Patient/not-here");
  std::vector<Reference::Kind> kinds;
  for (Node d : cond.array("evidence")[0].array("detail")) kinds.push_back(read_reference(d)->kind);
  EXPECT_EQ(kinds, (std::vector<Reference::Kind>{
                       Reference::Kind::kUrnUuid, Reference::Kind::kContained,
                       Reference::Kind::kOther, Reference::Kind::kNone, Reference::Kind::kNone}));
}

}  // namespace
}  // namespace mst::fhir
