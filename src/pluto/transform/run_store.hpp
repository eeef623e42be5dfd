#pragma once
// dbt runs and their per-node results in the metadata store (tables dbt_runs, dbt_node_results,
// owned by this component and created by its own migrations).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::store {
class Store;
}

namespace pluto::transform {

struct NodeResult {
  std::string unique_id;
  std::string name;
  std::string resource_type;  // model, seed, test, snapshot, source…
  std::string status;         // success, error, pass, fail, warn, skipped…
  double execution_time = 0;  // seconds
  std::string started_at;
  std::string completed_at;
  std::string message;  // dbt's result message or error text
  std::optional<int64_t> failures;
  std::string relation_name;
  std::string compiled_path;
  std::string run_id;  // filled when read back (last results across runs)

  nlohmann::json to_json() const;
};

struct DbtRun {
  std::string run_id;
  std::string command;                             // run, test, build, seed, ls, parse
  nlohmann::json args = nlohmann::json::object();  // select, exclude, vars, full_refresh
  std::string status;  // queued, running, succeeded, failed, cancelled, timed_out, interrupted
  std::string origin;  // api, cli, agent
  std::string project_dir;
  std::string artifacts_dir;  // this run's --target-path
  std::string submitted_at;
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  std::optional<int64_t> duration_ms;
  std::optional<int64_t> exit_code;  // dbt's
  std::string dbt_version;
  std::string adapter_version;
  std::string invocation_id;
  std::optional<Error> error;
  nlohmann::json stats = nlohmann::json::object();  // counts per status
  bool has_manifest = false;
  std::vector<NodeResult> nodes;

  // {"run_id","command","args","status",…,"error":{code,message,hint}|null,"stats","nodes":[…]}
  nlohmann::json to_json() const;
};

class RunStore {
 public:
  explicit RunStore(store::Store& store) : store_(store) {}
  static Status migrate(store::Store& store);

  Status save(const DbtRun& run);  // insert or update by run_id (without nodes)
  Status save_nodes(const std::string& run_id, const std::vector<NodeResult>& nodes);
  // The run with its node results; nullopt when unknown.
  Result<std::optional<DbtRun>> get(const std::string& run_id);
  // Newest first, without node results.
  Result<std::vector<DbtRun>> list(int64_t limit);
  // The newest run that left a manifest.json.
  Result<std::optional<DbtRun>> latest_with_manifest();
  // The newest result of every node that ever ran, by unique_id.
  Result<std::map<std::string, NodeResult>> latest_results();

 private:
  store::Store& store_;
};

}  // namespace pluto::transform
