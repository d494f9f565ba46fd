#include "mst/fhir/url.h"

#include <cctype>

namespace mst::fhir {

namespace {

bool keep_in_query(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case ',':
    case ':':
    case '/':
    case '$':
    case '@':
      return true;
    default:
      return false;
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct UrlParts {
  std::string_view scheme;     // without ':'
  std::string_view authority;  // without '//'; empty when absent
  bool has_authority = false;
  std::string_view path;
  std::string_view query;  // without '?'
  bool has_query = false;
  std::string_view fragment;  // without '#'
  bool has_fragment = false;
};

UrlParts split(std::string_view url) {
  UrlParts p;
  std::string_view rest = url;
  if (auto hash = rest.find('#'); hash != std::string_view::npos) {
    p.fragment = rest.substr(hash + 1);
    p.has_fragment = true;
    rest = rest.substr(0, hash);
  }
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    p.query = rest.substr(q + 1);
    p.has_query = true;
    rest = rest.substr(0, q);
  }
  // A scheme is letters/digits/+-. before the first ':' and before any '/'.
  auto colon = rest.find(':');
  auto slash = rest.find('/');
  if (colon != std::string_view::npos && colon > 0 &&
      (slash == std::string_view::npos || colon < slash) &&
      std::isalpha(static_cast<unsigned char>(rest[0]))) {
    bool ok = true;
    for (char c : rest.substr(0, colon)) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
        ok = false;
    }
    if (ok) {
      p.scheme = rest.substr(0, colon);
      rest = rest.substr(colon + 1);
    }
  }
  if (rest.substr(0, 2) == "//") {
    rest = rest.substr(2);
    auto end = rest.find('/');
    p.authority = rest.substr(0, end);
    p.has_authority = true;
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  p.path = rest;
  return p;
}

std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> out;
  bool absolute = !path.empty() && path.front() == '/';
  bool trailing = false;
  std::size_t pos = absolute ? 1 : 0;
  while (pos <= path.size()) {
    auto next = path.find('/', pos);
    std::string_view seg =
        path.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    trailing = false;
    if (seg == ".") {
      trailing = true;
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing = true;
    } else {
      out.push_back(seg);
    }
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  std::string s = absolute ? "/" : "";
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i > 0) s += '/';
    s += out[i];
  }
  if (trailing && (s.empty() || s.back() != '/')) s += '/';
  return s;
}

std::string join(std::string_view scheme, bool has_authority, std::string_view authority,
                 std::string_view path, bool has_query, std::string_view query) {
  std::string s;
  if (!scheme.empty()) {
    s.append(scheme);
    s += ':';
  }
  if (has_authority) {
    s += "//";
    s.append(authority);
  }
  s.append(path);
  if (has_query) {
    s += '?';
    s.append(query);
  }
  return s;
}

}  // namespace

std::string encode_query_component(std::string_view s) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (keep_in_query(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string encode_query(const QueryParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += encode_query_component(name);
    out += '=';
    out += encode_query_component(value);
  }
  return out;
}

bool is_http_url(std::string_view url) {
  UrlParts p = split(url);
  std::string scheme = lower(p.scheme);
  return (scheme == "http" || scheme == "https") && p.has_authority && !p.authority.empty();
}

std::string url_origin(std::string_view url) {
  if (!is_http_url(url)) return {};
  UrlParts p = split(url);
  std::string scheme = lower(p.scheme);
  std::string_view host_port = p.authority;
  if (auto at = host_port.rfind('@'); at != std::string_view::npos)
    host_port = host_port.substr(at + 1);
  std::string hp = lower(host_port);
  const std::string default_port = scheme == "https" ? ":443" : ":80";
  if (hp.size() > default_port.size() && hp.ends_with(default_port) && hp.back() != ']') {
    hp.resize(hp.size() - default_port.size());
  }
  return scheme + "://" + hp;
}

std::string resolve_url(std::string_view base, std::string_view ref) {
  UrlParts r = split(ref);
  UrlParts b = split(base);
  if (!r.scheme.empty()) {
    return join(r.scheme, r.has_authority, r.authority, remove_dot_segments(r.path), r.has_query,
                r.query);
  }
  if (r.has_authority) {
    return join(b.scheme, true, r.authority, remove_dot_segments(r.path), r.has_query, r.query);
  }
  if (r.path.empty()) {
    return join(b.scheme, b.has_authority, b.authority, b.path, r.has_query || b.has_query,
                r.has_query ? r.query : b.query);
  }
  std::string path;
  if (r.path.front() == '/') {
    path = remove_dot_segments(r.path);
  } else {
    std::string merged;
    if (b.has_authority && b.path.empty()) {
      merged = "/";
    } else {
      auto last = b.path.rfind('/');
      if (last != std::string_view::npos) merged = std::string(b.path.substr(0, last + 1));
    }
    merged.append(r.path);
    path = remove_dot_segments(merged);
  }
  return join(b.scheme, b.has_authority, b.authority, path, r.has_query, r.query);
}

std::string redact_url(std::string_view url) {
  UrlParts p = split(url);
  std::string_view authority = p.authority;
  if (auto at = authority.rfind('@'); at != std::string_view::npos)
    authority = authority.substr(at + 1);
  std::string query;
  if (p.has_query) {
    std::string_view q = p.query;
    while (true) {
      auto amp = q.find('&');
      std::string_view pair = q.substr(0, amp);
      auto eq = pair.find('=');
      if (!query.empty()) query += '&';
      query.append(pair.substr(0, eq));
      if (eq != std::string_view::npos) query += "=***";
      if (amp == std::string_view::npos) break;
      q = q.substr(amp + 1);
    }
  }
  return join(p.scheme, p.has_authority, authority, p.path, p.has_query, query);
}

std::string redact_urls_in(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto http = text.find("http", pos);
    if (http == std::string_view::npos) break;
    auto rest = text.substr(http);
    if (!(rest.starts_with("http://") || rest.starts_with("https://"))) {
      out.append(text.substr(pos, http + 4 - pos));
      pos = http + 4;
      continue;
    }
    auto end = http;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) &&
           text[end] != '"' && text[end] != '\'' && text[end] != '>') {
      ++end;
    }
    out.append(text.substr(pos, http - pos));
    out += redact_url(text.substr(http, end - http));
    pos = end;
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

}  // namespace mst::fhir
