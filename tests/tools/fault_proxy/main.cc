// mst-fault-proxy: the FaultProxy as a program, for scripts and manual
// tests. Runs until SIGTERM or SIGINT, then prints its counters.
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ehr_proxy/ehr_filter.h"
#include "fault_proxy/fault_proxy.h"

namespace {

constexpr const char* kUsage =
    "usage: mst-fault-proxy --upstream http://127.0.0.1:PORT [--listen 127.0.0.1:0]\n"
    "         [--rate 0.1] [--seed 42] [--faults latency,reset,truncate,429,503]\n"
    "         [--latency-ms 200] [--upstream-timeout-ms 60000] [--port-file FILE]\n"
    "         [--profile EHR-PROFILE.json]\n"
    "Forwards HTTP requests to the upstream and injects faults at the given rate,\n"
    "deterministically from the seed. Faults: latency, reset, truncate, 429, 503,\n"
    "reset-after-write (forwards a write, then drops the response; off by default).\n"
    "GET /__proxy/stats returns the counters as JSON; SIGTERM prints them and exits.\n"
    "--profile enforces an EHR's API restrictions (tests/tools/ehr_proxy/README.md);\n"
    "combine it with --rate 0 for the restrictions alone.\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <typename T>
T number(std::string_view flag, std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw UsageError(std::string(flag) + " needs a number, not '" + std::string(text) + "'");
  }
  return value;
}

struct Args {
  mst::testing::FaultProxyOptions options;
  std::string port_file;
};

Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) throw UsageError(std::string(flag) + " needs a value");
    const std::string_view value = argv[++i];
    auto& o = args.options;
    if (flag == "--upstream") {
      o.upstream = value;
    } else if (flag == "--listen") {
      const auto colon = value.rfind(':');
      if (colon == std::string_view::npos) throw UsageError("--listen needs HOST:PORT");
      std::string host(value.substr(0, colon));
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      o.listen_host = host;
      o.listen_port = number<std::uint16_t>(flag, value.substr(colon + 1));
    } else if (flag == "--rate") {
      // from_chars for double is not in every libstdc++ this builds with.
      char* end = nullptr;
      const std::string text(value);
      o.rate = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0') throw UsageError("--rate needs a number in [0, 1]");
    } else if (flag == "--seed") {
      o.seed = number<std::uint64_t>(flag, value);
    } else if (flag == "--faults") {
      o.faults = mst::testing::parse_fault_list(value);
    } else if (flag == "--latency-ms") {
      o.latency = std::chrono::milliseconds(number<std::uint32_t>(flag, value));
    } else if (flag == "--upstream-timeout-ms") {
      o.upstream_timeout = std::chrono::milliseconds(number<std::uint32_t>(flag, value));
    } else if (flag == "--profile") {
      o.filter =
          std::make_shared<mst::testing::EhrFilter>(mst::testing::load_profile(std::string(value)));
    } else if (flag == "--port-file") {
      args.port_file = value;
    } else {
      throw UsageError("unknown option " + std::string(flag));
    }
  }
  if (args.options.upstream.empty()) throw UsageError("--upstream is required");
  return args;
}

// Written whole under a temporary name, then renamed: a reader polling for
// the file never sees a partial port number.
void write_port_file(const std::string& path, std::uint16_t port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mst-fault-proxy: %s\n%s", e.what(), kUsage);
    return 2;
  }
  // Blocked before any thread starts, so only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    mst::testing::FaultProxy proxy(args.options);
    proxy.start();
    if (!args.port_file.empty()) write_port_file(args.port_file, proxy.port());
    std::fprintf(stderr, "mst-fault-proxy: %s -> %s, rate %g, seed %llu\n", proxy.url().c_str(),
                 args.options.upstream.c_str(), args.options.rate,
                 static_cast<unsigned long long>(args.options.seed));
    int signal = 0;
    sigwait(&stop_signals, &signal);
    proxy.stop();
    std::printf("mst-fault-proxy: %s\n", proxy.counts().to_line().c_str());
    std::fflush(stdout);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "mst-fault-proxy: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mst-fault-proxy: %s\n", e.what());
    return 1;
  }
  return 0;
}
