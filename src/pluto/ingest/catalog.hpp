#pragma once
// The ingestion catalog in the metadata store (component "ingest", its own migrations): every run
// (source without password, target, mode, rows, bytes, duration, schema, status, error), per
// warehouse table its origin, last load and high-water mark, and the saved sources.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pluto/core/error.hpp"
#include "pluto/ingest/source.hpp"

namespace pluto::store {
class Store;
}

namespace pluto::ingest {

struct RunRecord {
  std::string run_id;  // the job id
  std::string source;  // SourceRef::display(): never a password
  std::string source_kind;
  std::string saved_source;
  std::string target;  // "schema.table", comma-separated when several
  std::string mode;
  std::string status;  // running, succeeded, failed, cancelled, timed_out, interrupted
  std::string origin;  // api, cli, agent
  std::string started_at;
  std::optional<std::string> finished_at;
  std::optional<int64_t> duration_ms;
  std::optional<int64_t> rows;
  std::optional<int64_t> bytes;
  std::optional<int64_t> skipped_rows;
  nlohmann::json schema = nlohmann::json::object();   // {"schema.table": [{"name","type"}…]}
  nlohmann::json request = nlohmann::json::object();  // what was asked (redacted)
  std::optional<std::string> error_code;
  std::optional<std::string> error;

  nlohmann::json to_json() const;
};

struct RunFilter {
  std::string table;   // runs that loaded this table (schema.table or table); empty: any
  std::string status;  // empty: any
  int64_t limit = 50;
};

struct TableRecord {
  std::string schema_name;
  std::string table_name;
  std::string source;  // display form
  std::string source_kind;
  std::string saved_source;
  std::string source_object;  // source table, query or file list
  std::string mode;           // of the last load
  std::string cursor_column;
  std::vector<std::string> key_columns;
  std::optional<std::string> high_water;  // incremental: largest cursor value loaded (as text)
  std::string high_water_type;            // its DuckDB type
  std::string first_loaded_at;
  std::string last_loaded_at;
  std::string last_run_id;
  int64_t last_rows = 0;
  nlohmann::json columns = nlohmann::json::array();  // [{"name","type"}]

  nlohmann::json to_json() const;
};

struct SourceRecord {
  std::string name;
  SourceKind kind = SourceKind::files;
  std::string location;      // no password
  std::string password_env;  // name of the variable holding the password, or empty
  bool has_secret = false;   // a password file exists under secrets/
  bool attached = false;     // re-attached whenever the warehouse opens
  std::string created_at;
  std::string updated_at;

  nlohmann::json to_json() const;  // never the password (only where it comes from)
};

class IngestCatalog {
 public:
  // Applies the "ingest" migrations. `store` must outlive the catalog.
  static Result<IngestCatalog> open(store::Store& store);

  // Runs carry the owning process ("pid:start-time"), so a run whose process died is told apart
  // from one another process is still running.
  Status begin_run(const RunRecord& run);
  // Records which tables a run writes (known once the source is open), so runs can be found by table.
  Status add_run_tables(const std::string& run_id, const std::vector<std::pair<std::string, std::string>>& tables);
  Status finish_run(const RunRecord& run);
  Result<std::optional<RunRecord>> get_run(const std::string& run_id);
  Result<std::vector<RunRecord>> list_runs(const RunFilter& filter);
  // Marks runs left `running` by a process that is gone as `interrupted`; returns how many.
  Result<int64_t> interrupt_orphaned_runs();

  Status upsert_table(const TableRecord& table);
  Result<std::optional<TableRecord>> get_table(const std::string& schema_name, const std::string& table_name);
  // Tables whose name (or schema.name) matches, case-insensitively, as DuckDB resolves names.
  Result<std::vector<TableRecord>> find_tables(const std::string& name);

  Status add_source(const SourceRecord& source);  // conflict when the name is taken
  Result<std::optional<SourceRecord>> get_source(const std::string& name);
  Result<std::vector<SourceRecord>> list_sources();
  Status remove_source(const std::string& name);
  Status set_attached(const std::string& name, bool attached);

  static std::string current_process_identity();

 private:
  explicit IngestCatalog(store::Store& store) : store_(&store) {}
  store::Store* store_;
};

}  // namespace pluto::ingest
