#include "stop_signal.h"

#include <csignal>

namespace mst::adapter::cli {

std::atomic<bool> g_stop{false};

namespace {
extern "C" void on_stop_signal(int) { g_stop.store(true); }
}  // namespace

StopOnSignal::StopOnSignal() {
  g_stop = false;
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
}

StopOnSignal::~StopOnSignal() {
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
}

}  // namespace mst::adapter::cli
