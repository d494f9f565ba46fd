// Errors thrown by the fhir layer. Every what() is one line that is safe to
// log: it never contains a token, a secret or a resource body.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "mst/fhir/error_kind.h"

namespace mst::fhir {

// Base of every error thrown by the fhir library: by default, data it
// cannot read.
class Error : public ::mst::Error {
 public:
  using ::mst::Error::Error;
  ErrorKind error_kind() const override { return ErrorKind::kInput; }
};

// Input that is not acceptable JSON: malformed, too large, too deep, bad UTF-8.
class ParseError : public Error {
 public:
  ParseError(const std::string& what, std::size_t offset) : Error(what), offset_(offset) {}
  // Byte offset into the input where the problem was found.
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

// A JSON element that exists but has the wrong JSON type or an invalid value
// for its FHIR datatype (e.g. "valueQuantity": "12 mg").
class ElementError : public Error {
 public:
  using Error::Error;
};

}  // namespace mst::fhir
