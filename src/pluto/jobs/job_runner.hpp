#pragma once
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pluto/jobs/job.hpp"
#include "pluto/jobs/warehouse_gate.hpp"

namespace pluto::store {
class Store;
}
namespace pluto::events {
class EventBus;
}

namespace pluto::jobs {

struct RunnerOptions {
  size_t workers = 8;  // jobs running at once; the rest wait in order
};

class JobRunner {
 public:
  // `store` may be null (in-memory only). On construction, jobs a dead process left queued or
  // running are marked interrupted (with a final event on their stream).
  JobRunner(store::Store* store, events::EventBus& bus, RunnerOptions options = {});
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;
  static Status migrate(store::Store& store);

  // Queues a job and returns its info (status queued). Events: job.queued, then (kind).waiting when
  // warehouse access is not free, job.started, and a final job.succeeded / job.failed /
  // job.cancelled / job.timed_out carrying the result or error.
  JobInfo submit(JobSpec spec, JobFn fn);
  // Cancels a queued or running job. not_found for an unknown id; conflict when already finished.
  Status cancel(const std::string& id);
  Result<JobInfo> get(const std::string& id);
  // Blocks until the job is final (or `timeout` passes) and returns its info.
  Result<JobInfo> wait(const std::string& id, std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  std::vector<JobInfo> list(const std::string& kind, size_t limit);

  WarehouseGate& gate() { return gate_; }
  events::EventBus& bus() { return bus_; }
  // Cancels everything and joins the workers.
  void shutdown();

 private:
  struct Entry;
  class Context;
  void worker_loop();
  void run_entry(const std::shared_ptr<Entry>& e);
  void persist(const JobInfo& info);
  void finish(const std::shared_ptr<Entry>& e, JobStatus status, nlohmann::json result, std::optional<Error> error);

  store::Store* store_;
  events::EventBus& bus_;
  WarehouseGate gate_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Entry>> queue_;
  std::map<std::string, std::shared_ptr<Entry>> jobs_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
};

}  // namespace pluto::jobs
