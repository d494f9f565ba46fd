// Text the adapter did not write (server error text, transport messages)
// made fit for logs, the state file and the unauthenticated /readyz: no
// credential, no patient-identifying pattern, no control character.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mst::fhir {

// One line: C0 and C1 controls, DEL, line/paragraph separators and Unicode
// bidi and invisible format characters become a space; invalid UTF-8 bytes
// become '?'. Nothing that reaches a terminal can move the cursor or recolour.
std::string printable(std::string_view text);

// `text` cut to at most `max_bytes` on a UTF-8 character boundary, ending
// in "..." when cut (and when the limit leaves room for it).
std::string cut_utf8(std::string text, std::size_t max_bytes);

// printable(text) with credentials and patient-identifying patterns replaced
// (docs/reliability.md, "Error text"), then cut to at most `max_bytes` on a
// character boundary. Redaction comes first so a cut never leaves a prefix
// of a secret. Idempotent.
std::string safe_text(std::string_view text, std::size_t max_bytes = 300);

}  // namespace mst::fhir
