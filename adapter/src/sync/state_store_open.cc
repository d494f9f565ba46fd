#include "mst/adapter/sync/postgres_state_store.h"
#include "mst/adapter/sync/sqlite_state_store.h"
#include "mst/adapter/sync/state_store.h"

namespace mst::adapter {

bool is_postgres_location(const std::string& location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::unique_ptr<StateStore> open_state_store(const StateStoreOptions& options) {
  if (is_postgres_location(options.location)) {
    return std::make_unique<PostgresStateStore>(options);
  }
  return std::make_unique<SqliteStateStore>(options.location);
}

}  // namespace mst::adapter
