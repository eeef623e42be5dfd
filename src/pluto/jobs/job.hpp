#pragma once
// The background job runner shared by API, CLI and agent: queries, ingestion, dbt runs and agent
// runs are jobs. A job has an id, a kind, a status persisted in the store (a job left running by a
// process that died shows as `interrupted` on the next start), a cancel token, an event stream, and
// an access mode to the warehouse: shared (many at once) or exclusive (nothing else touches the
// warehouse: the dbt CLI needs the DuckDB file to itself).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "pluto/core/cancel.hpp"
#include "pluto/core/error.hpp"

namespace pluto::jobs {

enum class JobStatus { queued, running, succeeded, failed, cancelled, timed_out, interrupted };
std::string_view to_string(JobStatus s);
bool is_final(JobStatus s);

enum class Access { none, shared, exclusive };

struct JobInfo {
  std::string id;
  std::string kind;    // "query", "ingest", "dbt", "agent"
  std::string stream;  // event stream, e.g. "query/<id>"
  JobStatus status = JobStatus::queued;
  std::string origin;  // api, cli, agent
  std::string created_at;
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  nlohmann::json params = nlohmann::json::object();  // what was asked (no secrets)
  nlohmann::json result;                             // summary on success
  std::optional<Error> error;
  double progress = -1;  // [0,1] or -1 when unknown

  nlohmann::json to_json() const;
};

// What a running job sees. Implemented by the runner; a job function never sees the runner.
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual const std::string& id() const = 0;
  virtual const std::shared_ptr<CancelToken>& cancel_token() const = 0;
  bool cancelled() const { return cancel_token()->cancelled(); }
  // Publishes an event on the job's stream (type like "ingest.progress").
  virtual void emit(const std::string& type, nlohmann::json data = nlohmann::json::object()) = 0;
  virtual void set_progress(double fraction) = 0;
};

struct JobSpec {
  std::string id;      // empty: a new id
  std::string kind;    // "query", "ingest", "dbt", "agent"
  std::string stream;  // empty: "<kind>/<id>"
  std::string origin = "api";
  Access access = Access::shared;
  std::optional<std::chrono::milliseconds> timeout;  // cancels with CancelReason::timed_out
  nlohmann::json params = nlohmann::json::object();
};

// A job's body: returns a JSON summary, or an Error. Returning ErrorCode::cancelled /
// ErrorCode::timed_out (or any error after the token fired) ends the job as cancelled / timed_out.
using JobFn = std::function<Result<nlohmann::json>(JobContext&)>;

}  // namespace pluto::jobs
