#include "pluto/jobs/job_runner.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pluto/events/event_bus.hpp"
#include "pluto/store/store.hpp"
#include "test_util.hpp"

namespace pluto::jobs {
namespace {

JobSpec spec(std::string kind, Access access = Access::shared,
             std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
  JobSpec s;
  s.kind = std::move(kind);
  s.access = access;
  s.timeout = timeout;
  return s;
}

std::vector<std::string> types(events::EventBus& bus, const std::string& stream) {
  std::vector<std::string> out;
  for (const auto& e : bus.read(stream, 0).events) out.push_back(e.type);
  return out;
}

TEST(JobRunner, RunsJobAndEmitsLifecycleEvents) {
  events::EventBus bus(nullptr);
  JobRunner runner(nullptr, bus);
  auto info = runner.submit(spec("test"), [](JobContext& ctx) -> Result<nlohmann::json> {
    ctx.emit("test.step", {{"n", 1}});
    return nlohmann::json{{"answer", 42}};
  });
  auto done = runner.wait(info.id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, JobStatus::succeeded);
  EXPECT_EQ(done->result["answer"], 42);
  EXPECT_EQ(types(bus, info.stream),
            (std::vector<std::string>{"test.queued", "test.started", "test.step", "test.succeeded"}));
  EXPECT_TRUE(bus.read(info.stream, 0).closed);
}

TEST(JobRunner, FailureCarriesError) {
  events::EventBus bus(nullptr);
  JobRunner runner(nullptr, bus);
  auto info = runner.submit(
      spec("t"), [](JobContext&) -> Result<nlohmann::json> { return Error(ErrorCode::sql_error, "boom", "fix it"); });
  auto done = runner.wait(info.id);
  EXPECT_EQ(done->status, JobStatus::failed);
  EXPECT_EQ(done->error->message, "boom");
  auto last = bus.read(info.stream, 0).events.back();
  EXPECT_EQ(last.type, "t.failed");
  EXPECT_EQ(last.data["error"]["message"], "boom");
}

TEST(JobRunner, CancelAndTimeoutUseTheToken) {
  events::EventBus bus(nullptr);
  JobRunner runner(nullptr, bus);
  auto body = [](JobContext& ctx) -> Result<nlohmann::json> {
    while (!ctx.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return Error(ErrorCode::cancelled, "stopped");
  };
  auto a = runner.submit(spec("t"), body);
  while (runner.get(a.id)->status != JobStatus::running) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(runner.cancel(a.id).ok());
  EXPECT_EQ(runner.wait(a.id)->status, JobStatus::cancelled);
  auto again = runner.cancel(a.id);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  EXPECT_EQ(runner.cancel("nope").error().code, ErrorCode::not_found);

  auto b = runner.submit(spec("t", Access::shared, std::chrono::milliseconds(50)), body);
  auto done = runner.wait(b.id);
  EXPECT_EQ(done->status, JobStatus::timed_out);
  EXPECT_EQ(done->error->code, ErrorCode::timed_out);
}

TEST(JobRunner, ExclusiveJobWaitsForSharedAndSharedWaitsForExclusive) {
  events::EventBus bus(nullptr);
  JobRunner runner(nullptr, bus);
  std::atomic<bool> release_shared{false};
  std::atomic<int> order{0};
  std::atomic<int> shared_done_at{0}, exclusive_at{0}, late_shared_at{0};
  auto shared = runner.submit(spec("q", Access::shared), [&](JobContext&) -> Result<nlohmann::json> {
    while (!release_shared) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    shared_done_at = ++order;
    return nlohmann::json();
  });
  while (runner.gate().shared_holders() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto excl = runner.submit(spec("dbt", Access::exclusive), [&](JobContext&) -> Result<nlohmann::json> {
    exclusive_at = ++order;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return nlohmann::json();
  });
  // Wait until the exclusive job has said it waits, then queue another shared job behind it.
  while (types(bus, excl.stream).size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto late = runner.submit(spec("q", Access::shared), [&](JobContext&) -> Result<nlohmann::json> {
    late_shared_at = ++order;
    return nlohmann::json();
  });
  while (types(bus, late.stream).size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  release_shared = true;
  ASSERT_TRUE(runner.wait(late.id).ok());
  ASSERT_TRUE(runner.wait(excl.id).ok());
  EXPECT_EQ(shared_done_at, 1);
  EXPECT_EQ(exclusive_at, 2);
  EXPECT_EQ(late_shared_at, 3);
  EXPECT_EQ(types(bus, excl.stream)[1], "dbt.waiting");
  auto late_events = bus.read(late.stream, 0).events;
  ASSERT_GE(late_events.size(), 2U);
  EXPECT_EQ(late_events[1].type, "q.waiting");
  EXPECT_NE(late_events[1].data["reason"].get<std::string>().find("exclusive"), std::string::npos);
}

TEST(WarehouseGate, BoundedWaitGivesUpNamingTheHolderAndLeavesTheQueueUsable) {
  WarehouseGate gate;
  auto exclusive = gate.acquire(Access::exclusive, nullptr);
  ASSERT_TRUE(exclusive.ok());
  auto shared = gate.acquire(Access::shared, nullptr, {}, std::chrono::milliseconds(50));
  ASSERT_FALSE(shared.ok());
  EXPECT_EQ(shared.error().code, ErrorCode::unavailable);
  EXPECT_NE(shared.error().message.find("exclusive job"), std::string::npos) << shared.error().message;
  EXPECT_FALSE(shared.error().hint.empty());
  // The abandoned ticket left the queue: once the exclusive holder is gone, shared access is free.
  exclusive.value().release();
  auto again = gate.acquire(Access::shared, nullptr, {}, std::chrono::milliseconds(50));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(gate.shared_holders(), 1);
}

TEST(JobRunner, JobsOfADeadProcessBecomeInterrupted) {
  testing::TempDir dir;
  auto store = store::Store::open(dir / "pluto.sqlite");
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(events::EventBus::migrate(*store.value()).ok());
  ASSERT_TRUE(JobRunner::migrate(*store.value()).ok());
  // A job row owned by a process that no longer exists (pid 1 never has this start time).
  ASSERT_TRUE(store.value()
                  ->with_db([](store::SqliteDb& db) {
                    return db.exec(
                        "INSERT INTO jobs (id, kind, stream, status, origin, owner, created_at, params) "
                        "VALUES ('dead', 'query', 'query/dead', 'running', 'api', '999999999:1', "
                        "'2026-01-01T00:00:00.000Z', '{}')");
                  })
                  .ok());
  events::EventBus bus(store.value().get());
  bus.publish("query/dead", "query.started");
  JobRunner runner(store.value().get(), bus);
  auto info = runner.get("dead");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->status, JobStatus::interrupted);
  auto r = bus.read("query/dead", 0);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.events.back().type, "query.interrupted");
  // Our own live jobs are persisted with our identity and are left alone by a second runner.
  auto live = runner.submit(spec("t"), [](JobContext& ctx) -> Result<nlohmann::json> {
    while (!ctx.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return Error(ErrorCode::cancelled, "x");
  });
  while (runner.get(live.id)->status != JobStatus::running) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  events::EventBus bus2(store.value().get());
  JobRunner second(store.value().get(), bus2);
  EXPECT_EQ(second.get(live.id)->status, JobStatus::running);
  ASSERT_TRUE(runner.cancel(live.id).ok());
  EXPECT_EQ(runner.wait(live.id)->status, JobStatus::cancelled);
  EXPECT_EQ(second.get(live.id)->status, JobStatus::cancelled);  // read from the store
}

TEST(JobRunner, BoundedWorkersRunInOrder) {
  events::EventBus bus(nullptr);
  RunnerOptions one;
  one.workers = 1;
  JobRunner runner(nullptr, bus, one);
  std::vector<int> seen;
  std::mutex mu;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(runner
                      .submit(spec("t"),
                              [&, i](JobContext&) -> Result<nlohmann::json> {
                                std::lock_guard lock(mu);
                                seen.push_back(i);
                                return nlohmann::json();
                              })
                      .id);
  }
  for (const auto& id : ids) ASSERT_TRUE(runner.wait(id).ok());
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
}

}  // namespace
}  // namespace pluto::jobs
