#include "mst/fhir/json_value.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

namespace mst::fhir {

JsonValue JsonValue::object(std::initializer_list<Member> members) {
  JsonValue v;
  v.v_ = Object(members);
  return v;
}

JsonValue JsonValue::array(std::initializer_list<JsonValue> items) {
  JsonValue v;
  v.v_ = Array(items);
  return v;
}

JsonValue JsonValue::decimal(std::string_view literal) {
  JsonValue v;
  v.v_ = Decimal{std::string(literal)};
  return v;
}

JsonValue JsonValue::from(Node n) {
  if (!n.present()) return JsonValue();
  const rapidjson::Value& r = *n.raw();
  switch (r.GetType()) {
    case rapidjson::kNullType:
      return JsonValue();
    case rapidjson::kFalseType:
      return JsonValue(false);
    case rapidjson::kTrueType:
      return JsonValue(true);
    case rapidjson::kStringType:
      // A number out of range keeps its text, as a decimal literal.
      if (is_out_of_range_number(r)) return decimal({r.GetString() + 1, r.GetStringLength() - 1});
      return JsonValue(std::string(r.GetString(), r.GetStringLength()));
    case rapidjson::kNumberType:
      if (r.IsInt64()) return JsonValue(r.GetInt64());
      return JsonValue(r.GetDouble());
    case rapidjson::kArrayType: {
      JsonValue a = array();
      for (Node item : n.elements()) a.push(from(item));
      return a;
    }
    case rapidjson::kObjectType: {
      JsonValue o = object();
      auto& members = std::get<Object>(o.v_);
      for (auto it = r.MemberBegin(); it != r.MemberEnd(); ++it) {
        std::string_view key(it->name.GetString(), it->name.GetStringLength());
        members.emplace_back(std::string(key), from(Node(&it->value, key)));
      }
      return o;
    }
  }
  return JsonValue();
}

JsonValue& JsonValue::set(std::string_view key, JsonValue value) {
  if (is_null()) v_ = Object();
  auto& members = std::get<Object>(v_);
  for (auto& [k, v] : members) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  members.emplace_back(std::string(key), std::move(value));
  return *this;
}

const JsonValue* JsonValue::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : std::get<Object>(v_)) {
    if (k == key) return &v;
  }
  return nullptr;
}

JsonValue* JsonValue::find(std::string_view key) {
  return const_cast<JsonValue*>(static_cast<const JsonValue*>(this)->find(key));
}

void JsonValue::erase(std::string_view key) {
  if (!is_object()) return;
  auto& members = std::get<Object>(v_);
  std::erase_if(members, [&](const Member& m) { return m.first == key; });
}

JsonValue& JsonValue::push(JsonValue value) {
  if (is_null()) v_ = Array();
  std::get<Array>(v_).push_back(std::move(value));
  return *this;
}

template <typename W>
void JsonValue::write(W& w) const {
  struct Visitor {
    W& w;
    void operator()(const std::monostate&) { w.Null(); }
    void operator()(bool b) { w.Bool(b); }
    void operator()(std::int64_t i) { w.Int64(i); }
    void operator()(double d) {
      // RapidJSON writes nothing for these, which would leave invalid JSON.
      if (!std::isfinite(d)) throw Error("a JSON number must be finite, not NaN or infinity");
      w.Double(d);
    }
    void operator()(const Decimal& d) {
      // RapidJSON 1.1's RawNumber quotes its argument; RawValue does not.
      w.RawValue(d.literal.data(), d.literal.size(), rapidjson::kNumberType);
    }
    void operator()(const std::string& s) {
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    }
    void operator()(const Array& a) {
      w.StartArray();
      for (const auto& v : a) v.write(w);
      w.EndArray();
    }
    void operator()(const Object& o) {
      w.StartObject();
      for (const auto& [k, v] : o) {
        w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
        v.write(w);
      }
      w.EndObject();
    }
  };
  std::visit(Visitor{w}, v_);
}

std::string JsonValue::dump(bool pretty) const {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    write(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    write(w);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace mst::fhir
