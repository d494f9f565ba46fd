#include "deadline_watchdog.h"

#include <atomic>
#include <utility>

namespace mst::fhir::detail {

struct DeadlineWatchdog::Guard::State {
  std::function<void()> action;
  std::multimap<Clock::time_point, std::shared_ptr<State>>::iterator where;
  bool pending = true;  // guarded by the watchdog's mutex
  std::atomic<bool> fired{false};
};

DeadlineWatchdog::DeadlineWatchdog() : thread_([this] { run(); }) {}

DeadlineWatchdog::~DeadlineWatchdog() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

DeadlineWatchdog::Guard DeadlineWatchdog::arm(Clock::time_point deadline,
                                              std::function<void()> action) {
  auto state = std::make_shared<Guard::State>();
  state->action = std::move(action);
  bool earliest = false;
  {
    std::lock_guard lock(mu_);
    state->where = pending_.emplace(deadline, state);
    earliest = state->where == pending_.begin();
  }
  if (earliest) cv_.notify_all();
  return Guard(this, std::move(state));
}

void DeadlineWatchdog::disarm(const std::shared_ptr<Guard::State>& state) {
  std::lock_guard lock(mu_);
  if (state->pending) {
    pending_.erase(state->where);
    state->pending = false;
  }
}

void DeadlineWatchdog::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (pending_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const auto first = pending_.begin();
    if (Clock::now() < first->first) {
      // A copy: wait_until reads its deadline again after waking, by which
      // time disarm() may have erased the node that held it.
      const Clock::time_point deadline = first->first;
      cv_.wait_until(lock, deadline);
      continue;
    }
    auto state = first->second;
    pending_.erase(first);
    state->pending = false;
    state->fired.store(true);
    // Under the lock, so that disarm() cannot return while the action runs.
    state->action();
  }
}

DeadlineWatchdog::Guard::Guard(Guard&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), state_(std::move(other.state_)) {}

DeadlineWatchdog::Guard& DeadlineWatchdog::Guard::operator=(Guard&& other) noexcept {
  if (this != &other) {
    disarm();
    owner_ = std::exchange(other.owner_, nullptr);
    state_ = std::move(other.state_);
  }
  return *this;
}

void DeadlineWatchdog::Guard::disarm() {
  if (owner_ != nullptr && state_) owner_->disarm(state_);
  owner_ = nullptr;
}

bool DeadlineWatchdog::Guard::fired() const { return state_ && state_->fired.load(); }

}  // namespace mst::fhir::detail
