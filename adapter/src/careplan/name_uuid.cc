#include "name_uuid.h"

#include <Poco/SHA1Engine.h>
#include <Poco/UUID.h>
#include <Poco/UUIDGenerator.h>

namespace mst::adapter::detail {

std::string name_uuid(const std::string& canonical_base, const std::string& name) {
  auto& gen = Poco::UUIDGenerator::defaultGenerator();
  Poco::SHA1Engine sha1;
  const Poco::UUID ns =
      gen.createFromName(Poco::UUID::uri(), canonical_base, sha1, Poco::UUID::UUID_NAME_BASED_SHA1);
  return gen.createFromName(ns, name, sha1, Poco::UUID::UUID_NAME_BASED_SHA1).toString();
}

}  // namespace mst::adapter::detail
