// SIGINT and SIGTERM as a request to stop, for the long-running commands
// (sync, serve): work in flight finishes and the process exits cleanly.
#pragma once

#include <atomic>

namespace mst::adapter::cli {

// Set by SIGINT or SIGTERM while a StopOnSignal lives.
extern std::atomic<bool> g_stop;

class StopOnSignal {
 public:
  StopOnSignal();   // clears g_stop, installs the handlers
  ~StopOnSignal();  // restores the default handlers
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
};

}  // namespace mst::adapter::cli
