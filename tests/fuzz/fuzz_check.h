// Invariant checks for fuzz targets: a broken invariant aborts with a message,
// so libFuzzer (or the corpus replay test) reports the input that broke it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define MST_FUZZ_CHECK(cond)                                                                   \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "fuzz invariant failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)
