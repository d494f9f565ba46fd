#include "input_file.h"

#include <fstream>

#include "mst/adapter/cli/args.h"

namespace mst::adapter::cli {

std::string read_input_file(const std::string& path, std::size_t max_bytes,
                            const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + what + " " + path);
  std::string content;
  char block[1 << 16];
  while (in.read(block, sizeof block) || in.gcount() > 0) {
    const auto n = static_cast<std::size_t>(in.gcount());
    if (content.size() + n > max_bytes) {
      throw UsageError(what + " " + path + " is larger than the limit of " +
                       std::to_string(max_bytes >> 20) + " MiB");
    }
    content.append(block, n);
  }
  // A directory opens but cannot be read.
  if (in.bad() || (!in.eof() && in.fail())) throw UsageError("cannot read " + what + " " + path);
  return content;
}

}  // namespace mst::adapter::cli
