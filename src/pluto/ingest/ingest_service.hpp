#pragma once
// IngestService: loads files, PostgreSQL and SQLite into the warehouse as a job, manages saved
// sources (with their secrets) and live attachments, and answers questions about the ingestion
// catalog. Every surface (CLI, HTTP routes, actions) is a thin call into this class: parse the
// input into an IngestRequest / AddSourceRequest, call, map the Result.
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pluto/core/config.hpp"
#include "pluto/core/error.hpp"
#include "pluto/ingest/catalog.hpp"
#include "pluto/ingest/connector.hpp"
#include "pluto/ingest/request.hpp"
#include "pluto/ingest/secrets.hpp"
#include "pluto/jobs/job.hpp"

namespace pluto::store {
class Store;
}
namespace pluto::warehouse {
class Warehouse;
}
namespace pluto::jobs {
class JobRunner;
}

namespace pluto::ingest {

struct IngestSettings {
  std::filesystem::path data_dir;                   // secrets/ and imports/ live here
  std::vector<std::filesystem::path> allowed_dirs;  // for requests with restrict_paths
  int connect_timeout_seconds = 10;
  // ingest.allowed_dirs and ingest.connect_timeout_seconds.
  static IngestSettings from_config(const Config& config);
};

struct AddSourceRequest {
  std::string name;
  std::string uri;              // path, glob, directory, postgres:// URI or sqlite:PATH (a password in it is split off)
  std::string password_env;     // read the password from this variable at use time instead of storing it
  std::string password;         // stored under secrets/ (instead of one in the URI); never returned
  bool restrict_paths = false;  // HTTP: a file source must lie under ingest.allowed_dirs
  // {"name","uri","password_env"?,"password"?}
  static Result<AddSourceRequest> from_json(const nlohmann::json& body);
};

class IngestService {
 public:
  // Applies the catalog's migrations and marks runs whose process died as interrupted. `warehouse`
  // and `store` must outlive the service.
  static Result<std::unique_ptr<IngestService>> create(warehouse::Warehouse& warehouse, store::Store& store,
                                                       IngestSettings settings);
  IngestService(const IngestService&) = delete;
  IngestService& operator=(const IngestService&) = delete;

  // ---- ingestion --------------------------------------------------------------------------------
  // Checks what can be checked before queueing (modes and their columns, names, the source string,
  // saved source names, allowed paths), so a bad request fails at once instead of as a failed job.
  Status validate(const IngestRequest& request);
  // Kind "ingest", shared warehouse access, params = the request without secrets.
  jobs::JobSpec job_spec(const IngestRequest& request) const;
  // validate + submit to the runner; the job runs run().
  Result<jobs::JobInfo> submit(jobs::JobRunner& runner, const IngestRequest& request);
  // The job body. Besides the runner's own events (ingest.queued, ingest.started, and the final
  // ingest.succeeded/failed/cancelled) it emits ingest.loading {source, tables, mode},
  // ingest.progress {table, fraction, rows, bytes} and ingest.finished {status, rows, bytes…};
  // cancelling the job interrupts DuckDB and rolls everything back. Returns a summary
  // {"run_id","source","mode","rows","bytes","skipped_rows","duration_ms","tables":[…]}.
  Result<nlohmann::json> run(const IngestRequest& request, jobs::JobContext& ctx);

  // ---- saved sources ----------------------------------------------------------------------------
  Result<SourceRecord> add_source(const AddSourceRequest& request);
  Result<std::vector<SourceRecord>> list_sources();
  Result<SourceRecord> get_source(const std::string& name);
  // Detaches it if attached and deletes its secret file.
  Status remove_source(const std::string& name);
  // Connects and describes: {"name","kind","location","ok":true,"detail"}. Takes a saved name or a SOURCE string.
  Result<nlohmann::json> test_source(const std::string& source);
  Result<std::vector<SourceObject>> source_tables(const std::string& source);

  // ---- live federation --------------------------------------------------------------------------
  // ATTACHes a saved database source read-only under its own name, and remembers to do it again
  // whenever the warehouse opens. Returns {"name","database","tables":[{"schema","name","kind"}]}.
  Result<nlohmann::json> attach_source(const std::string& name);
  Status detach_source(const std::string& name);
  // Re-attaches every source marked attached. Call after the warehouse opens or reopens. A source
  // that cannot be attached is logged and reported ({"attached":[…],"failed":[{"name","error"}]}),
  // never fatal.
  nlohmann::json restore_attachments();

  // ---- ingestion catalog ------------------------------------------------------------------------
  // For GET /api/v1/catalog/tables/{name}: {"table": origin, last load, high-water mark…, "runs": […]};
  // not_found when no ingestion wrote a table of that name.
  Result<nlohmann::json> table_lineage(const std::string& name);
  Result<std::vector<RunRecord>> list_runs(const RunFilter& filter);
  Result<RunRecord> get_run(const std::string& run_id);

  const IngestSettings& settings() const { return settings_; }

 private:
  IngestService(warehouse::Warehouse& warehouse, IngestCatalog catalog, IngestSettings settings);

  // A SOURCE string or saved source name, with its password (from the secret file or variable).
  Result<SourceRef> resolve(const std::string& source, bool restrict_paths);
  ConnectorSettings connector_settings(const std::string& session_id, bool restrict_paths) const;
  std::vector<std::shared_ptr<std::mutex>> lock_targets(std::vector<std::string> targets);
  Result<nlohmann::json> run_impl(const IngestRequest& request, jobs::JobContext& ctx, RunRecord& record,
                                  std::vector<std::string>& secrets);

  warehouse::Warehouse& warehouse_;
  IngestCatalog catalog_;
  IngestSettings settings_;
  SecretStore secrets_;
  ConnectorRegistry connectors_;
  std::mutex targets_mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> target_locks_;  // one load per table at a time
};

}  // namespace pluto::ingest
