// Reading a file named on the command line without trusting its size.
#pragma once

#include <cstddef>
#include <string>

namespace mst::adapter::cli {

// The whole content of `path`, read in blocks and refused as soon as it
// passes `max_bytes`, so /dev/zero or a huge file fails fast instead of
// filling memory. UsageError (exit 2) names `what` and the path when the
// file cannot be read or is too large.
std::string read_input_file(const std::string& path, std::size_t max_bytes,
                            const std::string& what);

}  // namespace mst::adapter::cli
