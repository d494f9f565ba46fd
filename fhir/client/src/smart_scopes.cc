#include "mst/fhir/smart_scopes.h"

#include <map>
#include <stdexcept>

namespace mst::fhir {

namespace {

constexpr unsigned kV1Read = kRead | kSearch;
constexpr unsigned kV1Write = kCreate | kUpdate | kDelete;
constexpr std::string_view kPrefix = "system/";

struct Letter {
  char c;
  Access bit;
};
constexpr Letter kLetters[] = {
    {'c', kCreate}, {'r', kRead}, {'u', kUpdate}, {'d', kDelete}, {'s', kSearch}};

std::string v2_letters(unsigned access) {
  std::string out;
  for (const Letter& l : kLetters) {
    if (access & l.bit) out += l.c;
  }
  return out;
}

// v1 scopes, one per kind of access present.
void append_v1(std::vector<std::string>& out, const std::string& type, unsigned access) {
  if (access & kV1Read) out.push_back(std::string(kPrefix) + type + ".read");
  if (access & kV1Write) out.push_back(std::string(kPrefix) + type + ".write");
}

std::vector<std::string> scopes_of(const std::string& type, unsigned access, ScopeSyntax syntax) {
  std::vector<std::string> out;
  if (access == 0) return out;
  if (syntax == ScopeSyntax::kV2) {
    out.push_back(std::string(kPrefix) + type + "." + v2_letters(access));
  } else {
    append_v1(out, type, access);
  }
  return out;
}

// The access one permission string grants: v1 words or v2 letters (each at
// most once, in the order c r u d s); 0 when it is neither.
unsigned permission_access(std::string_view p) {
  if (p == "read") return kV1Read;
  if (p == "write") return kV1Write;
  if (p == "*") return kV1Read | kV1Write;
  unsigned access = 0;
  std::size_t next = 0;  // letters must come in order, each once
  for (char c : p) {
    bool known = false;
    for (std::size_t i = next; i < std::size(kLetters); ++i) {
      if (kLetters[i].c == c) {
        access |= kLetters[i].bit;
        next = i + 1;
        known = true;
        break;
      }
    }
    if (!known) return 0;
  }
  return access;
}

std::map<std::string, unsigned, std::less<>> granted_access(std::string_view granted) {
  std::map<std::string, unsigned, std::less<>> out;
  while (!granted.empty()) {
    const auto start = granted.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    granted.remove_prefix(start);
    const auto end = granted.find(' ');
    std::string_view scope = granted.substr(0, end);
    granted = end == std::string_view::npos ? std::string_view() : granted.substr(end);
    if (!scope.starts_with(kPrefix) || scope.find('?') != std::string_view::npos) continue;
    scope.remove_prefix(kPrefix.size());
    const auto dot = scope.find('.');
    if (dot == std::string_view::npos || dot == 0) continue;
    out[std::string(scope.substr(0, dot))] |= permission_access(scope.substr(dot + 1));
  }
  return out;
}

}  // namespace

ScopeSyntax parse_scope_syntax(std::string_view text) {
  if (text == "v2") return ScopeSyntax::kV2;
  if (text == "v1") return ScopeSyntax::kV1;
  throw std::invalid_argument("scope syntax must be v2 or v1");
}

unsigned needed_access(unsigned interactions) {
  return (interactions & kSearch) ? (interactions | kRead) : interactions;
}

std::string system_scopes(const std::vector<ResourceAccess>& interactions, ScopeSyntax syntax) {
  std::string out;
  for (const auto& r : interactions) {
    for (const auto& scope : scopes_of(r.type, needed_access(r.access), syntax)) {
      if (!out.empty()) out += ' ';
      out += scope;
    }
  }
  return out;
}

std::vector<std::string> missing_scopes(const std::vector<ResourceAccess>& interactions,
                                        std::string_view granted, ScopeSyntax syntax) {
  const auto have = granted_access(granted);
  const auto any_it = have.find("*");
  const unsigned any = any_it == have.end() ? 0u : any_it->second;
  std::vector<std::string> out;
  for (const auto& r : interactions) {
    const auto it = have.find(r.type);
    const unsigned covered = any | (it == have.end() ? 0u : it->second);
    unsigned lacking = needed_access(r.access) & ~covered;
    for (auto& scope : scopes_of(r.type, lacking, syntax)) out.push_back(std::move(scope));
  }
  return out;
}

}  // namespace mst::fhir
