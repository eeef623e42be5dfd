#include "pluto/jobs/job_runner.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <sstream>

#include "pluto/core/clock.hpp"
#include "pluto/core/log.hpp"
#include "pluto/events/event_bus.hpp"
#include "pluto/store/store.hpp"

namespace pluto::jobs {
namespace {

constexpr std::array kMigrations = {
    store::Migration{1, "jobs", R"sql(
CREATE TABLE jobs (
  id            TEXT PRIMARY KEY,
  kind          TEXT NOT NULL,
  stream        TEXT NOT NULL,
  status        TEXT NOT NULL,
  origin        TEXT NOT NULL,
  owner         TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  started_at    TEXT,
  finished_at   TEXT,
  params        TEXT NOT NULL,
  result        TEXT,
  error_code    TEXT,
  error_message TEXT,
  error_hint    TEXT,
  progress      REAL
);
CREATE INDEX jobs_kind_created ON jobs (kind, created_at);
CREATE INDEX jobs_status ON jobs (status);
)sql"},
};

// Finished jobs stay in memory this long; after that they are read from the store.
constexpr auto kKeepFinished = std::chrono::minutes(10);

// "pid:start-time" of a process, so a reused pid is not mistaken for the owner.
std::string process_identity(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);  // one line
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::to_string(pid) + ":?";
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  // Fields after the command: state is field 3; starttime is field 22.
  for (int i = 3; i <= 22 && rest >> field; ++i) {
  }
  return std::to_string(pid) + ":" + field;
}

bool owner_alive(const std::string& owner) {
  const auto colon = owner.find(':');
  if (colon == std::string::npos) return false;
  const pid_t pid = static_cast<pid_t>(std::stol(owner.substr(0, colon)));
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  return process_identity(pid) == owner;
}

JobStatus parse_status(const std::string& s) {
  for (auto st : {JobStatus::queued, JobStatus::running, JobStatus::succeeded, JobStatus::failed, JobStatus::cancelled,
                  JobStatus::timed_out, JobStatus::interrupted}) {
    if (to_string(st) == s) return st;
  }
  return JobStatus::failed;
}

std::optional<ErrorCode> parse_code(const std::string& s) {
  for (int i = 0; i <= static_cast<int>(ErrorCode::internal); ++i) {
    if (to_string(static_cast<ErrorCode>(i)) == s) return static_cast<ErrorCode>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(JobStatus s) {
  switch (s) {
    case JobStatus::queued: return "queued";
    case JobStatus::running: return "running";
    case JobStatus::succeeded: return "succeeded";
    case JobStatus::failed: return "failed";
    case JobStatus::cancelled: return "cancelled";
    case JobStatus::timed_out: return "timed_out";
    case JobStatus::interrupted: return "interrupted";
  }
  return "failed";
}

bool is_final(JobStatus s) {
  return s != JobStatus::queued && s != JobStatus::running;
}

nlohmann::json JobInfo::to_json() const {
  nlohmann::json j{{"id", id},
                   {"kind", kind},
                   {"status", to_string(status)},
                   {"origin", origin},
                   {"events_url", "/api/v1/jobs/" + id + "/events"},
                   {"stream", stream},
                   {"created_at", created_at},
                   {"started_at", started_at ? nlohmann::json(*started_at) : nlohmann::json()},
                   {"finished_at", finished_at ? nlohmann::json(*finished_at) : nlohmann::json()},
                   {"params", params},
                   {"result", result},
                   {"progress", progress < 0 ? nlohmann::json() : nlohmann::json(progress)}};
  if (error) {
    j["error"] = {{"code", to_string(error->code)}, {"message", error->message}, {"hint", error->hint}};
  } else {
    j["error"] = nullptr;
  }
  return j;
}

struct JobRunner::Entry {
  JobInfo info;
  JobSpec spec;
  JobFn fn;
  std::shared_ptr<CancelToken> token = CancelToken::create();
  std::optional<std::chrono::steady_clock::time_point> finished_at;
};

class JobRunner::Context final : public JobContext {
 public:
  Context(JobRunner& runner, std::shared_ptr<Entry> entry) : runner_(runner), entry_(std::move(entry)) {}
  const std::string& id() const override { return entry_->info.id; }
  const std::shared_ptr<CancelToken>& cancel_token() const override { return entry_->token; }
  void emit(const std::string& type, nlohmann::json data) override {
    runner_.bus_.publish(entry_->info.stream, type, std::move(data));
  }
  void set_progress(double fraction) override {
    std::lock_guard lock(runner_.mu_);
    entry_->info.progress = fraction;
  }

 private:
  JobRunner& runner_;
  std::shared_ptr<Entry> entry_;
};

Status JobRunner::migrate(store::Store& store) {
  return store.migrate("jobs", kMigrations);
}

JobRunner::JobRunner(store::Store* store, events::EventBus& bus, RunnerOptions options) : store_(store), bus_(bus) {
  if (store_ != nullptr) {
    // Jobs whose owning process is gone can never finish: say so instead of showing them running.
    std::vector<std::tuple<std::string, std::string, std::string>> dead;  // id, kind, stream
    (void)store_->with_db([&](store::SqliteDb& db) -> Status {
      PLUTO_ASSIGN_OR_RETURN(
          auto st, db.prepare("SELECT id, kind, stream, owner FROM jobs WHERE status IN ('queued', 'running')"));
      while (true) {
        PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        if (!owner_alive(st.text(3))) dead.emplace_back(st.text(0), st.text(1), st.text(2));
      }
      return {};
    });
    const auto now = now_rfc3339();
    for (const auto& [id, kind, stream] : dead) {
      (void)store_->with_db([&, &job_id = id](store::SqliteDb& db) -> Status {
        PLUTO_ASSIGN_OR_RETURN(auto up, db.prepare("UPDATE jobs SET status = 'interrupted', finished_at = ?, "
                                                   "error_code = 'internal', error_message = ? WHERE id = ?"));
        up.bind(1, now).bind(2, "the process running this job stopped before it finished").bind(3, job_id);
        return up.run();
      });
      bus_.publish(
          stream, kind + ".interrupted",
          {{"status", "interrupted"},
           {"error", {{"code", "internal"}, {"message", "the process running this job stopped before it finished"}}}},
          /*final=*/true);
      log::warn("job interrupted by a previous shutdown", {{"id", id}, {"kind", kind}});
    }
  }
  for (size_t i = 0; i < std::max<size_t>(1, options.workers); ++i) workers_.emplace_back([this] { worker_loop(); });
}

JobRunner::~JobRunner() {
  shutdown();
}

void JobRunner::shutdown() {
  std::vector<std::shared_ptr<Entry>> all;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    for (auto& [id, e] : jobs_) all.push_back(e);
  }
  for (auto& e : all) e->token->cancel(CancelReason::shutdown);
  cv_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

void JobRunner::persist(const JobInfo& info) {
  if (store_ == nullptr) return;
  static const std::string owner = process_identity(::getpid());
  auto st = store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(
        auto up, db.prepare("INSERT INTO jobs (id, kind, stream, status, origin, owner, created_at, started_at, "
                            "finished_at, params, result, error_code, error_message, error_hint, progress) VALUES "
                            "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT (id) DO "
                            "UPDATE SET status = ?4, started_at = ?8, finished_at = ?9, result = ?11, error_code = "
                            "?12, error_message = ?13, error_hint = ?14, progress = ?15"));
    up.bind(1, info.id).bind(2, info.kind).bind(3, info.stream).bind(4, std::string(to_string(info.status)));
    up.bind(5, info.origin).bind(6, owner).bind(7, info.created_at).bind(8, info.started_at).bind(9, info.finished_at);
    up.bind(10, info.params.dump()).bind(11, info.result.is_null() ? std::optional<std::string>() : info.result.dump());
    if (info.error) {
      up.bind(12, std::string(to_string(info.error->code))).bind(13, info.error->message).bind(14, info.error->hint);
    } else {
      up.bind_null(12).bind_null(13).bind_null(14);
    }
    if (info.progress >= 0) {
      up.bind(15, info.progress);
    } else {
      up.bind_null(15);
    }
    return up.run();
  });
  if (!st.ok()) log::warn("cannot persist job state", {{"id", info.id}, {"error", st.error().message}});
}

JobInfo JobRunner::submit(JobSpec spec, JobFn fn) {
  auto e = std::make_shared<Entry>();
  e->info.id = spec.id.empty() ? new_id() : spec.id;
  e->info.kind = spec.kind;
  e->info.stream = spec.stream.empty() ? spec.kind + "/" + e->info.id : spec.stream;
  e->info.origin = spec.origin;
  e->info.created_at = now_rfc3339();
  e->info.params = spec.params;
  e->spec = std::move(spec);
  e->fn = std::move(fn);
  persist(e->info);
  bus_.publish(e->info.stream, e->info.kind + ".queued", {{"status", "queued"}, {"job_id", e->info.id}});
  JobInfo copy;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      e->token->cancel(CancelReason::shutdown);
    }
    jobs_[e->info.id] = e;
    queue_.push_back(e);
    copy = e->info;
  }
  cv_.notify_all();
  return copy;
}

Status JobRunner::cancel(const std::string& id) {
  std::shared_ptr<Entry> e;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it != jobs_.end()) e = it->second;
  }
  if (!e) {
    auto info = get(id);
    if (!info.ok()) return info.take_error();
    return Error(ErrorCode::conflict, "job " + id + " already finished as " + std::string(to_string(info->status)),
                 "only queued or running jobs can be cancelled");
  }
  {
    std::lock_guard lock(mu_);
    if (is_final(e->info.status)) {
      return Error(ErrorCode::conflict, "job " + id + " already finished as " + std::string(to_string(e->info.status)),
                   "only queued or running jobs can be cancelled");
    }
  }
  if (!e->token->cancel(CancelReason::cancelled)) {
    return Error(ErrorCode::conflict, "job " + id + " is already being cancelled");
  }
  bus_.publish(e->info.stream, e->info.kind + ".cancelling", {{"job_id", id}});
  cv_.notify_all();
  return {};
}

Result<JobInfo> JobRunner::get(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it != jobs_.end()) return it->second->info;
  }
  std::optional<JobInfo> found;
  if (store_ != nullptr) {
    PLUTO_TRY(store_->with_db([&](store::SqliteDb& db) -> Status {
      PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("SELECT id, kind, stream, status, origin, created_at, started_at, "
                                                 "finished_at, params, result, error_code, error_message, error_hint, "
                                                 "progress FROM jobs WHERE id = ?"));
      st.bind(1, id);
      PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) return {};
      JobInfo j;
      j.id = st.text(0);
      j.kind = st.text(1);
      j.stream = st.text(2);
      j.status = parse_status(st.text(3));
      j.origin = st.text(4);
      j.created_at = st.text(5);
      j.started_at = st.opt_text(6);
      j.finished_at = st.opt_text(7);
      j.params = nlohmann::json::parse(st.text(8), nullptr, false);
      if (!st.is_null(9)) j.result = nlohmann::json::parse(st.text(9), nullptr, false);
      if (!st.is_null(10)) {
        j.error = Error(parse_code(st.text(10)).value_or(ErrorCode::internal), st.text(11), st.text(12));
      }
      if (!st.is_null(13)) j.progress = st.real(13);
      found = std::move(j);
      return {};
    }));
  }
  if (!found) return Error(ErrorCode::not_found, "no job with id '" + id + "'", "list jobs with GET /api/v1/jobs");
  return *found;
}

Result<JobInfo> JobRunner::wait(const std::string& id, std::optional<std::chrono::milliseconds> timeout) {
  std::unique_lock lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) {
    lock.unlock();
    return get(id);
  }
  auto e = it->second;
  auto done = [&] { return is_final(e->info.status); };
  if (timeout) {
    cv_.wait_for(lock, *timeout, done);
  } else {
    cv_.wait(lock, done);
  }
  return e->info;
}

std::vector<JobInfo> JobRunner::list(const std::string& kind, size_t limit) {
  std::vector<JobInfo> out;
  if (store_ == nullptr) {
    std::lock_guard lock(mu_);
    for (auto it = jobs_.rbegin(); it != jobs_.rend() && out.size() < limit; ++it) {
      if (kind.empty() || it->second->info.kind == kind) out.push_back(it->second->info);
    }
    return out;
  }
  std::vector<std::string> ids;
  (void)store_->with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("SELECT id FROM jobs WHERE (?1 = '' OR kind = ?1) ORDER BY created_at "
                                               "DESC, id DESC LIMIT ?2"));
    st.bind(1, kind).bind(2, static_cast<int64_t>(limit));
    while (true) {
      PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      ids.push_back(st.text(0));
    }
    return {};
  });
  for (const auto& id : ids) {
    if (auto j = get(id); j.ok()) out.push_back(std::move(j).value());
  }
  return out;
}

void JobRunner::worker_loop() {
  while (true) {
    std::shared_ptr<Entry> e;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with nothing left
      e = queue_.front();
      queue_.pop_front();
    }
    run_entry(e);
  }
}

void JobRunner::run_entry(const std::shared_ptr<Entry>& e) {
  if (e->token->cancelled()) {
    finish(e, JobStatus::cancelled, nullptr, Error(ErrorCode::cancelled, "cancelled before it started"));
    return;
  }
  auto grant = gate_.acquire(e->spec.access, e->token, [&](const std::string& reason) {
    bus_.publish(e->info.stream, e->info.kind + ".waiting", {{"reason", reason}});
  });
  if (!grant.ok()) {
    finish(e, JobStatus::cancelled, nullptr, grant.take_error());
    return;
  }
  {
    std::lock_guard lock(mu_);
    e->info.status = JobStatus::running;
    e->info.started_at = now_rfc3339();
  }
  persist(e->info);
  bus_.publish(e->info.stream, e->info.kind + ".started", {{"status", "running"}, {"job_id", e->info.id}});

  // The deadline counts from the start of the work, not from the time spent waiting in line.
  std::mutex timer_mu;
  std::condition_variable timer_cv;
  bool timer_done = false;
  std::thread timer;
  if (e->spec.timeout) {
    timer = std::thread([&, deadline = std::chrono::steady_clock::now() + *e->spec.timeout] {
      std::unique_lock lock(timer_mu);
      if (!timer_cv.wait_until(lock, deadline, [&] { return timer_done; })) e->token->cancel(CancelReason::timed_out);
    });
  }
  Context ctx(*this, e);
  Result<nlohmann::json> r = Error(ErrorCode::internal, "job did not run");
  try {
    r = e->fn(ctx);
  } catch (const std::exception& ex) {
    r = Error(ErrorCode::internal, std::string("job failed unexpectedly: ") + ex.what());
  }
  if (timer.joinable()) {
    {
      std::lock_guard lock(timer_mu);
      timer_done = true;
    }
    timer_cv.notify_all();
    timer.join();
  }
  grant.value().release();

  if (r.ok()) {
    finish(e, JobStatus::succeeded, std::move(r).value(), std::nullopt);
    return;
  }
  Error err = r.take_error();
  const auto reason = e->token->reason();
  if (reason == CancelReason::timed_out) {
    const auto ms = e->spec.timeout->count();
    err = Error(ErrorCode::timed_out, e->info.kind + " timed out after " + std::to_string(ms) + " ms",
                "raise the timeout (e.g. timeout_ms in the request or query.timeout_seconds)");
    finish(e, JobStatus::timed_out, nullptr, err);
  } else if (reason != CancelReason::none || err.code == ErrorCode::cancelled) {
    if (err.code != ErrorCode::cancelled) err = Error(ErrorCode::cancelled, e->info.kind + " cancelled");
    if (reason == CancelReason::shutdown) err.message = e->info.kind + " stopped because the server is shutting down";
    finish(e, JobStatus::cancelled, nullptr, err);
  } else {
    finish(e, JobStatus::failed, nullptr, err);
  }
}

void JobRunner::finish(const std::shared_ptr<Entry>& e, JobStatus status, nlohmann::json result,
                       std::optional<Error> error) {
  JobInfo copy;
  {
    std::lock_guard lock(mu_);
    e->info.status = status;
    e->info.finished_at = now_rfc3339();
    e->info.result = std::move(result);
    e->info.error = std::move(error);
    e->finished_at = std::chrono::steady_clock::now();
    copy = e->info;
    // Forget old finished jobs (they are in the store).
    if (store_ != nullptr) {
      const auto now = std::chrono::steady_clock::now();
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        const auto& f = it->second->finished_at;
        it = f && now - *f > kKeepFinished ? jobs_.erase(it) : std::next(it);
      }
    }
  }
  persist(copy);
  nlohmann::json data{{"status", to_string(status)}, {"job_id", copy.id}, {"result", copy.result}};
  if (copy.error) {
    data["error"] = {
        {"code", to_string(copy.error->code)}, {"message", copy.error->message}, {"hint", copy.error->hint}};
  }
  bus_.publish(copy.stream, copy.kind + "." + std::string(to_string(status)), std::move(data), /*final=*/true);
  cv_.notify_all();
}

}  // namespace pluto::jobs
