#pragma once
// DbtService: drives the real dbt CLI against the warehouse and turns what dbt knows into catalog
// knowledge. A dbt run is a job (kind "dbt", stream "dbt/<run_id>", job id = run id) with
// exclusive warehouse access: the job closes the server's DuckDB handles, runs
// `dbt <command> --log-format json` with a profile of ours and its own --target-path, streams
// dbt's log lines as events, and reopens the warehouse on every path. Every run keeps its
// manifest.json and run_results.json and is recorded (with per-node results) in the store.
//
// HTTP routes, CLI commands and actions are thin: JSON -> DbtRequest -> service -> JSON.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pluto/core/cancel.hpp"
#include "pluto/core/config.hpp"
#include "pluto/core/error.hpp"
#include "pluto/transform/catalog.hpp"
#include "pluto/transform/run_store.hpp"

namespace pluto::store {
class Store;
}
namespace pluto::warehouse {
class Warehouse;
}
namespace pluto::jobs {
class JobRunner;
class JobContext;
}  // namespace pluto::jobs

namespace pluto::transform {

enum class DbtCommand { run, test, build, seed, ls, parse };
Result<DbtCommand> parse_command(std::string_view name);
std::string_view to_string(DbtCommand command);
// Commands that open the warehouse (and so need it to themselves).
bool needs_warehouse(DbtCommand command);

struct DbtRequest {
  DbtCommand command = DbtCommand::build;
  std::vector<std::string> select;  // dbt selectors, e.g. "marts", "+fct_orders", "tag:nightly"
  std::vector<std::string> exclude;
  std::string vars;            // YAML/JSON mapping for --vars; empty: none
  bool full_refresh = false;   // run, build, seed
  bool wait = true;            // false: conflict when another dbt run is queued or running
  std::string origin = "api";  // api, cli, agent
  std::string run_id;          // empty: a new id

  // {"command":"run|test|build|seed","select"?,"exclude"? (string or array),"vars"? (object or
  //  string),"full_refresh"?,"wait"?}. `allowed` limits the commands (the API allows four).
  static Result<DbtRequest> from_json(const nlohmann::json& body,
                                      const std::vector<DbtCommand>& allowed = {DbtCommand::run, DbtCommand::test,
                                                                                DbtCommand::build, DbtCommand::seed});
  nlohmann::json to_json() const;  // the run's "args"
  // The dbt command line after the executable (without our profile/target flags).
  std::vector<std::string> dbt_args() const;
};

struct DbtOptions {
  std::filesystem::path data_dir;
  std::string executable;                     // dbt.executable; empty: default_executable(), else PATH
  std::filesystem::path project_dir;          // dbt.project_dir
  std::filesystem::path default_project_dir;  // <data_dir>/dbt: the starter project is copied here
  std::filesystem::path starter_dir;          // the starter project shipped with Pluto-Duck
  std::filesystem::path artifacts_dir;        // <data_dir>/dbt/target: profiles/ and runs/<run_id>/
  std::string warehouse_path;                 // warehouse.path
  std::string extension_directory;            // warehouse.extension_directory
  std::string memory_limit;                   // warehouse.memory_limit
  int64_t duckdb_threads = 0;                 // warehouse.threads
  int64_t threads = 4;                        // dbt.threads
  std::chrono::seconds timeout{3600};         // dbt.timeout_seconds
  std::chrono::milliseconds grace{10000};     // dbt.cancel_grace_seconds
  int64_t keep_runs = 50;                     // dbt.keep_runs

  static DbtOptions from_config(const Config& config);
  // <source tree>/.venv/bin/dbt, where scripts/setup installs dbt.
  static std::filesystem::path default_executable();
  static std::filesystem::path default_starter_dir();
};

// Where dbt is, or ErrorCode::unavailable saying exactly how to install it.
Result<std::filesystem::path> locate_dbt(const DbtOptions& options);

struct DbtVersions {
  std::string dbt_core;    // "1.11.16"
  std::string dbt_duckdb;  // "1.11.1"
  std::string duckdb;      // the duckdb Python package dbt-duckdb uses ("1.4.4"); may be empty
};
// Asks the dbt installation for its versions without running a dbt command (and without network).
Result<DbtVersions> probe_versions(const std::filesystem::path& dbt_executable);
// The dbt-core / dbt-duckdb / duckdb versions scripts/setup installs.
DbtVersions pinned_versions();

// The profile we write for every run: profile `pluto_duck`, target `warehouse`.
std::string render_profile(const DbtOptions& options);
// Copies the starter project to the default project dir unless a dbt_project.yml is there;
// never overwrites a file. Returns the project dir to run. Errors name the dir and what is missing.
Result<std::filesystem::path> prepare_project(const DbtOptions& options);

struct Submission {
  std::string run_id;
  std::string job_id;
  std::string stream;      // "dbt/<run_id>"
  std::string events_url;  // "/api/v1/jobs/<id>/events"
  std::string status;      // queued
  nlohmann::json to_json() const;
};

class DbtService {
 public:
  // Gives the warehouse to close around a run that needs the DuckDB file; asked only then, so
  // commands that do not (`dbt ls`) work while another process holds the file.
  using WarehouseProvider = std::function<Result<warehouse::Warehouse*>()>;
  // Applies this component's migrations; `jobs` runs the dbt jobs, `warehouse` is closed around them.
  static Result<std::unique_ptr<DbtService>> create(DbtOptions options, store::Store& store,
                                                    warehouse::Warehouse& warehouse, jobs::JobRunner& jobs);
  static Result<std::unique_ptr<DbtService>> create(DbtOptions options, store::Store& store,
                                                    WarehouseProvider warehouse, jobs::JobRunner& jobs);
  ~DbtService();
  DbtService(const DbtService&) = delete;
  DbtService& operator=(const DbtService&) = delete;

  const DbtOptions& options() const { return options_; }

  // Checks dbt and the request, records the run as queued and submits the job. Errors: dbt missing
  // (unavailable), bad request (invalid_argument), another run active and !wait (conflict).
  Result<Submission> submit(DbtRequest request);
  // The job body (exposed for tests and callers with their own job runner).
  Result<nlohmann::json> run(const DbtRequest& request, jobs::JobContext& ctx);
  // Waits for a run to end (or `timeout`) and returns it with its node results.
  Result<DbtRun> wait(const std::string& run_id, std::optional<std::chrono::milliseconds> timeout = {});
  Status cancel(const std::string& run_id);
  // GET /api/v1/dbt/runs/{id}: status, timings, error and per-node results.
  Result<DbtRun> get_run(const std::string& run_id);
  Result<std::vector<DbtRun>> list_runs(int64_t limit = 20);

  // GET /api/v1/dbt/manifest: project, nodes (models, seeds, snapshots, sources, tests) with
  // descriptions, columns, parents/children and last result. not_found before the first run.
  Result<nlohmann::json> manifest();
  // A node's lineage: the node and every node up to `depth` steps upstream and downstream (0: all),
  // as {"node","nodes":[…],"edges":[{"from","to"}],"tests":[…]}.
  Result<nlohmann::json> lineage(const std::string& node, int depth = 0);
  // What dbt knows about the table `name` (for GET /api/v1/catalog/tables/{name}): description,
  // column descriptions and tests with last status, parents, children, compiled SQL, last run.
  // nullopt when no dbt node builds or describes it (or dbt never ran).
  Result<std::optional<nlohmann::json>> table_info(const std::string& name);
  // Models, seeds and snapshots with description, materialization, relation and last result;
  // `filter` matches name or description (case-insensitive), `resource_type` limits the kind.
  Result<nlohmann::json> models(const std::string& filter = {}, const std::string& resource_type = {});

 private:
  DbtService(DbtOptions options, store::Store& store, WarehouseProvider warehouse, jobs::JobRunner& jobs);
  Result<std::shared_ptr<const ProjectCatalog>> current_catalog();
  Result<DbtRun> reconcile(DbtRun run);
  void prune_runs(const std::string& keep);
  std::optional<std::string> active_run();

  DbtOptions options_;
  store::Store& store_;
  WarehouseProvider warehouse_;
  jobs::JobRunner& jobs_;
  RunStore runs_;
  std::mutex mu_;
  std::set<std::string> active_;  // runs submitted that need the warehouse and may not be final yet
  std::string catalog_path_;      // manifest the cached catalog was read from
  std::shared_ptr<const ProjectCatalog> catalog_;
};

// The dbt actions (dbt.run, dbt.models, dbt.lineage) for the action catalog, which registers them
// one to one. Handlers take JSON params and return JSON results.
struct DbtAction {
  std::string name;
  std::string description;
  nlohmann::json params_schema;
  nlohmann::json result_schema;
  bool read_only = true;
  std::function<Result<nlohmann::json>(const nlohmann::json& params, const std::string& origin,
                                       const std::shared_ptr<CancelToken>& cancel)>
      handler;
};
std::vector<DbtAction> dbt_actions(DbtService& service);

}  // namespace pluto::transform
