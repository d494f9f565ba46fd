#include "mst/adapter/cli/command.h"

#include <algorithm>
#include <deque>
#include <stdexcept>

namespace mst::adapter::cli {

namespace {

// A function-local static, so registration from other files' static
// initializers never runs before the table exists.
std::deque<Command>& table() {
  static std::deque<Command> commands;
  return commands;
}

}  // namespace

bool register_command(Command command) {
  if (find_command(command.name))
    throw std::logic_error("command registered twice: " + command.name);
  table().push_back(std::move(command));
  return true;
}

std::vector<const Command*> commands() {
  std::vector<const Command*> out;
  for (const auto& c : table()) out.push_back(&c);
  std::sort(out.begin(), out.end(),
            [](const Command* a, const Command* b) { return a->name < b->name; });
  return out;
}

const Command* find_command(const std::string& name) {
  for (const auto& c : table()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace mst::adapter::cli
