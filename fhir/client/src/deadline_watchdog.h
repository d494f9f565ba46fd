// Runs an action when a deadline passes, unless it was disarmed first. The
// transports use it to abort an exchange that is still alive at its deadline:
// socket timeouts bound each read, not a server that trickles bytes forever.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace mst::fhir::detail {

class DeadlineWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  DeadlineWatchdog();
  ~DeadlineWatchdog();
  DeadlineWatchdog(const DeadlineWatchdog&) = delete;
  DeadlineWatchdog& operator=(const DeadlineWatchdog&) = delete;

  // Disarms on destruction. After disarm() returns the action is not running
  // and never will; fired() tells whether it ran.
  class Guard {
   public:
    Guard() = default;
    Guard(Guard&& other) noexcept;
    Guard& operator=(Guard&& other) noexcept;
    ~Guard() { disarm(); }

    void disarm();
    bool fired() const;

   private:
    friend class DeadlineWatchdog;
    struct State;
    Guard(DeadlineWatchdog* owner, std::shared_ptr<State> state)
        : owner_(owner), state_(std::move(state)) {}
    DeadlineWatchdog* owner_ = nullptr;
    std::shared_ptr<State> state_;
  };

  // The action runs on the watchdog's thread with its lock held: keep it
  // short and never call back into the watchdog from it.
  Guard arm(Clock::time_point deadline, std::function<void()> action);

 private:
  void run();
  void disarm(const std::shared_ptr<Guard::State>& state);

  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<Clock::time_point, std::shared_ptr<Guard::State>> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mst::fhir::detail
