#include "table_reader.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "mst/mappings/code_tables.h"

namespace mst::mappings::detail {

namespace {

constexpr std::size_t kMaxTableBytes = 16u << 20;  // far above any code table

std::string display_name(const std::filesystem::path& p) {
  const std::filesystem::path parent = p.parent_path().filename();
  return parent.empty() ? p.filename().string() : (parent / p.filename()).string();
}

std::string read_text(const std::filesystem::path& p, const std::string& shown) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw CodeTableError(shown, "", "cannot open the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > kMaxTableBytes) throw CodeTableError(shown, "", "file is larger than 16 MiB");
  return text;
}

}  // namespace

void TableReader::read_dirs(const std::vector<std::filesystem::path>& dirs) {
  if (dirs.empty()) throw CodeTableError("", "", "no code table directory given");
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      throw CodeTableError(dir.string(), "", "is not a readable directory");
    }
    std::vector<std::filesystem::path> paths;
    for (const auto& de : std::filesystem::directory_iterator(dir, ec)) {
      if (de.path().extension() == ".json" && de.is_regular_file()) paths.push_back(de.path());
    }
    if (ec) throw CodeTableError(dir.string(), "", "cannot list the directory: " + ec.message());
    std::sort(paths.begin(), paths.end(), [](const auto& a, const auto& b) {
      return a.filename().string() < b.filename().string();
    });
    for (const auto& p : paths) read_file(p);
  }
}

void TableReader::read_file(const std::filesystem::path& path) {
  const std::string shown = display_name(path);
  std::string text = read_text(path, shown);
  const int file = static_cast<int>(files_.size());
  try {
    files_.push_back(SourceFile{shown, fhir::JsonDocument::parse(text)});
  } catch (const fhir::ParseError& e) {
    throw CodeTableError(shown, "", e.what());
  }
  fhir::Node root = files_.back().doc.root();
  try {
    if (!root.is_object()) throw CodeTableError(shown, "", "a table file must hold a JSON object");
    auto kind = root.string("kind");
    if (!kind || kind->empty()) throw CodeTableError(shown, "", "missing \"kind\"");
    if (!known_kinds_.count(*kind)) {
      std::string known;
      for (const auto& k : known_kinds_) known += (known.empty() ? "" : ", ") + k;
      throw CodeTableError(shown, "",
                           "unknown kind \"" + std::string(*kind) + "\" (known: " + known + ")");
    }
    if (!root["entries"].is_array())
      throw CodeTableError(shown, "", "\"entries\" must be an array");
    auto& table = kinds_[std::string(*kind)];
    std::size_t i = 0;
    for (fhir::Node n : root.array("entries")) {
      const std::string where = "entries[" + std::to_string(i++) + "]";
      if (!n.is_object()) throw CodeTableError(shown, where, "an entry must be an object");
      auto key = n.string("key");
      if (!key || key->empty()) throw CodeTableError(shown, where, "missing \"key\"");
      const std::string k(*key);
      const bool remove = n.boolean("remove").value_or(false);
      const bool merge = n.boolean("merge").value_or(false);
      auto it = table.find(k);
      if (remove) {
        if (it == table.end())
          throw CodeTableError(shown, k, "\"remove\" names a key no earlier file defines");
        table.erase(it);
        continue;
      }
      if (merge) {
        if (it == table.end())
          throw CodeTableError(shown, k, "\"merge\" names a key no earlier file defines");
        it->second.parts.push_back({n, file});
        continue;
      }
      if (it != table.end() && it->second.file() == file) {
        throw CodeTableError(shown, k, "key defined twice in the same file");
      }
      table[k] = RawEntry{k, {{n, file}}};
    }
  } catch (const fhir::ElementError& e) {
    throw CodeTableError(shown, "", e.what());
  }
}

std::vector<RawEntry> TableReader::entries(std::string_view kind) const {
  std::vector<RawEntry> out;
  auto it = kinds_.find(kind);
  if (it == kinds_.end()) return out;
  for (const auto& [k, e] : it->second) out.push_back(e);
  return out;
}

EntryView::EntryView(const TableReader& reader, const RawEntry& e,
                     std::set<std::string_view> allowed)
    : reader_(reader), e_(e) {
  allowed.insert({"key", "merge", "source", "note"});
  for (const auto& part : e_.parts) {
    const auto* v = part.node.raw();
    for (auto m = v->MemberBegin(); m != v->MemberEnd(); ++m) {
      std::string_view name(m->name.GetString(), m->name.GetStringLength());
      if (!allowed.count(name)) fail_in(part.file, "unknown field \"" + std::string(name) + "\"");
    }
  }
}

void EntryView::fail(const std::string& message) const { fail_in(e_.file(), message); }

void EntryView::fail_in(int file, const std::string& message) const {
  throw CodeTableError(reader_.file_name(file), e_.key, message);
}

fhir::Node EntryView::field(std::string_view name) const {
  // The last part wins; clang-tidy's range-for fix needs views::reverse,
  // which this clang cannot compile against libstdc++ 12.
  // NOLINTNEXTLINE(modernize-loop-convert)
  for (auto it = e_.parts.rbegin(); it != e_.parts.rend(); ++it) {
    fhir::Node n = it->node[name];
    if (n.raw() != nullptr) return n;  // present, possibly null
  }
  return {};
}

std::string EntryView::string(std::string_view name, bool required) const {
  fhir::Node n = field(name);
  if (!n.present()) {
    if (required) fail("missing \"" + std::string(name) + "\"");
    return {};
  }
  if (!n.is_string()) fail("\"" + std::string(name) + "\" must be a string");
  std::string s(n.as_string());
  if (required && s.empty()) fail("\"" + std::string(name) + "\" must not be empty");
  return s;
}

std::optional<double> EntryView::number(std::string_view name) const {
  fhir::Node n = field(name);
  if (!n.present()) return std::nullopt;
  if (!n.raw()->IsNumber()) fail("\"" + std::string(name) + "\" must be a number");
  return n.as_number();
}

std::optional<int> EntryView::integer(std::string_view name) const {
  fhir::Node n = field(name);
  if (!n.present()) return std::nullopt;
  if (!n.raw()->IsInt()) fail("\"" + std::string(name) + "\" must be an integer or null");
  return n.raw()->GetInt();
}

bool EntryView::boolean(std::string_view name) const {
  fhir::Node n = field(name);
  if (!n.present()) return false;
  if (!n.raw()->IsBool()) fail("\"" + std::string(name) + "\" must be true or false");
  return n.as_bool();
}

std::vector<std::string> EntryView::strings(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& item : items(name)) {
    if (!item.node.is_string())
      fail_in(item.file, "\"" + std::string(name) + "\" must hold strings");
    std::string s(item.node.as_string());
    if (s.empty()) fail_in(item.file, "\"" + std::string(name) + "\" holds an empty string");
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<RawEntry::Part> EntryView::items(std::string_view name) const {
  std::vector<RawEntry::Part> out;
  for (const auto& part : e_.parts) {
    fhir::Node n = part.node[name];
    if (!n.present()) continue;
    if (!n.is_array()) fail_in(part.file, "\"" + std::string(name) + "\" must be an array");
    for (fhir::Node item : n.elements()) out.push_back({item, part.file});
  }
  return out;
}

std::vector<std::pair<std::string, RawEntry::Part>> EntryView::members(
    std::string_view name) const {
  std::vector<std::pair<std::string, RawEntry::Part>> out;
  for (const auto& part : e_.parts) {
    fhir::Node n = part.node[name];
    if (!n.present()) continue;
    if (!n.is_object()) fail_in(part.file, "\"" + std::string(name) + "\" must be an object");
    const auto* v = n.raw();
    for (auto m = v->MemberBegin(); m != v->MemberEnd(); ++m) {
      std::string member(m->name.GetString(), m->name.GetStringLength());
      RawEntry::Part p{fhir::Node(&m->value, "member"), part.file};
      auto it =
          std::find_if(out.begin(), out.end(), [&](const auto& x) { return x.first == member; });
      if (it != out.end()) {
        it->second = p;
      } else {
        out.emplace_back(std::move(member), p);
      }
    }
  }
  return out;
}

}  // namespace mst::mappings::detail
