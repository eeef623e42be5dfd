// Server-Sent Events over real HTTP: many clients per stream, Last-Event-ID resume, replay of
// finished runs, heartbeats on idle streams, the end of the stream, clients that hang up.
#include <atomic>

#include "api_harness.hpp"

namespace pluto::api_test {
namespace {

// Waits (bounded) until `pred` holds; the bound only detects hangs.
template <typename Pred>
bool wait_until(std::mutex& mu, std::condition_variable& cv, Pred pred,
                std::chrono::milliseconds limit = std::chrono::seconds(15)) {
  std::unique_lock lock(mu);
  return cv.wait_for(lock, limit, pred);
}

int64_t last_id(const SseRead& r) {
  return r.events.empty() ? 0 : std::stoll(r.events.back().id);
}

class SseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.start();
    cli_ = h_.client();
  }
  // A finished query run with a few events.
  std::string finished_run(const std::string& sql = "SELECT range AS n FROM range(10)") {
    json j = expect_json(cli_->Post("/api/v1/query", json({{"sql", sql}}).dump(), "application/json"));
    EXPECT_EQ(j["status"], "succeeded");
    return j["run_id"];
  }
  ApiHarness h_;
  std::unique_ptr<httplib::Client> cli_;
};

TEST_F(SseTest, TwoClientsOnALiveStreamBothGetEveryEventInOrder) {
  ControlledJob job(h_.jobs());
  ASSERT_TRUE(job.wait_started());
  const std::string path = "/api/v1/jobs/" + job.id() + "/events";

  std::mutex mu;
  std::condition_variable cv;
  std::array<int64_t, 2> seen{0, 0};
  std::array<SseRead, 2> reads;
  std::vector<std::thread> clients;
  for (size_t i = 0; i < 2; ++i) {
    clients.emplace_back([&, i] {
      reads[i] = read_sse(h_.port(), path, {}, [&, i](const SseRead& r) {
        std::lock_guard lock(mu);
        seen[i] = last_id(r);
        cv.notify_all();
        return true;
      });
    });
  }
  // queued (1) and started (2) are there for both; then each tick reaches both while they listen.
  ASSERT_TRUE(wait_until(mu, cv, [&] { return seen[0] >= 2 && seen[1] >= 2; }));
  for (int64_t t = 1; t <= 5; ++t) {
    job.tick();
    ASSERT_TRUE(wait_until(mu, cv, [&] { return seen[0] >= 2 + t && seen[1] >= 2 + t; })) << "tick " << t;
  }
  job.release();
  for (auto& c : clients) c.join();

  const std::string stream = job.info().stream;
  EXPECT_EQ(stream, "testjob/" + job.id());
  std::vector<std::vector<json>> envelopes;
  for (const auto& r : reads) {
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "text/event-stream");
    EXPECT_TRUE(r.ended_by_server) << "the stream must end after the final event";
    envelopes.push_back(check_frames(r, stream));
  }
  ASSERT_EQ(envelopes[0].size(), 8U) << reads[0].raw;
  std::vector<std::string> types;
  for (const auto& e : envelopes[0]) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"testjob.queued", "testjob.started", "testjob.tick", "testjob.tick",
                                             "testjob.tick", "testjob.tick", "testjob.tick", "testjob.succeeded"}));
  for (int t = 1; t <= 5; ++t) EXPECT_EQ(envelopes[0][static_cast<size_t>(1 + t)]["data"]["n"], t);
  EXPECT_EQ(envelopes[0][7]["data"]["status"], "succeeded");
  EXPECT_EQ(envelopes[0][7]["data"]["result"], json({{"ticks", 5}}));
  // Both clients saw the very same events (same ids, timestamps and data).
  EXPECT_EQ(envelopes[0], envelopes[1]);
}

TEST_F(SseTest, TwoClientsOnAQueryRunAndAReplayAfterItFinished) {
  json sub =
      expect_json(cli_->Post("/api/v1/query",
                             json({{"sql", "SELECT sum(range) AS s FROM range(20000000)"}, {"async", true}}).dump(),
                             "application/json"),
                  202);
  const std::string id = sub["run_id"];
  std::array<SseRead, 2> reads;
  std::thread a([&] { reads[0] = read_sse(h_.port(), sub["events_url"]); });
  std::thread b([&] { reads[1] = read_sse(h_.port(), "/api/v1/query/" + id + "/events"); });
  a.join();
  b.join();
  const std::string stream = "query/" + id;
  auto e0 = check_frames(reads[0], stream);
  auto e1 = check_frames(reads[1], stream);
  ASSERT_GE(e0.size(), 3U) << reads[0].raw;
  EXPECT_EQ(e0, e1);
  EXPECT_EQ(e0.front()["type"], "query.queued");
  EXPECT_EQ(e0[1]["type"], "query.started");
  EXPECT_EQ(e0.back()["type"], "query.succeeded");
  EXPECT_EQ(e0.back()["data"]["status"], "succeeded");
  EXPECT_EQ(e0.back()["data"]["result"]["row_count"], 1);
  EXPECT_TRUE(reads[0].ended_by_server && reads[1].ended_by_server);

  // The finished run replays from the start: the same events again, on both routes.
  const SseRead replay = read_sse(h_.port(), "/api/v1/query/" + id + "/events");
  EXPECT_EQ(check_frames(replay, stream), e0);
  EXPECT_TRUE(replay.ended_by_server);
  const SseRead via_job = read_sse(h_.port(), "/api/v1/jobs/" + id + "/events");
  EXPECT_EQ(check_frames(via_job, stream), e0);
}

TEST_F(SseTest, LastEventIdResumesExactlyAfterThatEvent) {
  const std::string id = finished_run();
  const std::string path = "/api/v1/query/" + id + "/events";
  const SseRead full = read_sse(h_.port(), path);
  const auto all = check_frames(full, "query/" + id);
  const auto n = static_cast<int64_t>(all.size());
  ASSERT_GE(n, 3);
  for (int64_t k = 0; k <= n; ++k) {
    SCOPED_TRACE("Last-Event-ID: " + std::to_string(k));
    const SseRead r = read_sse(h_.port(), path, {{"Last-Event-ID", std::to_string(k)}});
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.ended_by_server);
    const auto got = check_frames(r, "query/" + id, k + 1);
    EXPECT_EQ(got, std::vector<json>(all.begin() + k, all.end()));
    // The query-parameter form (for EventSource reconnects through proxies) does the same.
    const SseRead q = read_sse(h_.port(), path + "?last_event_id=" + std::to_string(k));
    EXPECT_EQ(check_frames(q, "query/" + id, k + 1), got);
  }
  // An id past the end gives nothing and ends.
  const SseRead past = read_sse(h_.port(), path, {{"Last-Event-ID", std::to_string(n + 5)}});
  EXPECT_TRUE(past.events.empty()) << past.raw;
  EXPECT_TRUE(past.ended_by_server);
}

TEST_F(SseTest, ReconnectingToALiveStreamContinuesAfterLastEventId) {
  ControlledJob job(h_.jobs());
  ASSERT_TRUE(job.wait_started());
  job.tick(1);
  const std::string path = "/api/v1/jobs/" + job.id() + "/events";
  // The first connection goes away after event 3 (the first tick).
  const SseRead first = read_sse(h_.port(), path, {}, [](const SseRead& r) { return last_id(r) < 3; });
  ASSERT_FALSE(first.ended_by_server);
  ASSERT_EQ(last_id(first), 3);
  // Two more events happen while nobody listens.
  job.tick(2);
  std::mutex mu;
  std::condition_variable cv;
  int64_t seen = 0;
  SseRead second;
  std::thread reader([&] {
    second = read_sse(h_.port(), path, {{"Last-Event-ID", "3"}}, [&](const SseRead& r) {
      std::lock_guard lock(mu);
      seen = last_id(r);
      cv.notify_all();
      return true;
    });
  });
  ASSERT_TRUE(wait_until(mu, cv, [&] { return seen >= 5; }));
  job.tick(1);
  ASSERT_TRUE(wait_until(mu, cv, [&] { return seen >= 6; }));
  job.release();
  reader.join();
  const auto got = check_frames(second, job.info().stream, 4);
  ASSERT_EQ(got.size(), 4U) << second.raw;
  EXPECT_EQ(got[0]["data"]["n"], 2);
  EXPECT_EQ(got[1]["data"]["n"], 3);
  EXPECT_EQ(got[2]["data"]["n"], 4);
  EXPECT_EQ(got[3]["type"], "testjob.succeeded");
  EXPECT_TRUE(second.ended_by_server);
}

TEST_F(SseTest, FinishedRunsReplayAfterARestart) {
  const std::string id = finished_run();
  const auto before = check_frames(read_sse(h_.port(), "/api/v1/query/" + id + "/events"), "query/" + id);
  ASSERT_GE(before.size(), 3U);
  h_.restart();
  const SseRead after = read_sse(h_.port(), "/api/v1/query/" + id + "/events");
  EXPECT_TRUE(after.ended_by_server);
  EXPECT_EQ(check_frames(after, "query/" + id), before);
  const SseRead tail = read_sse(h_.port(), "/api/v1/query/" + id + "/events", {{"Last-Event-ID", "2"}});
  EXPECT_EQ(check_frames(tail, "query/" + id, 3), std::vector<json>(before.begin() + 2, before.end()));
}

TEST_F(SseTest, IdleStreamsGetHeartbeatComments) {
  ControlledJob job(h_.jobs());
  ASSERT_TRUE(job.wait_started());
  size_t events_at_first_beat = 0;
  const SseRead r = read_sse(h_.port(), "/api/v1/jobs/" + job.id() + "/events", {}, [&](const SseRead& s) {
    // Nothing happens on the stream after `started` until a heartbeat arrives; then end the job.
    if (!s.comments.empty() && events_at_first_beat == 0) {
      events_at_first_beat = s.events.size();
      job.release();
    }
    return true;
  });
  EXPECT_TRUE(r.ended_by_server);
  ASSERT_FALSE(r.comments.empty()) << r.raw;
  for (const auto& c : r.comments) EXPECT_EQ(c, " keepalive");
  EXPECT_EQ(events_at_first_beat, 2U);
  const auto env = check_frames(r, job.info().stream);
  ASSERT_EQ(env.size(), 3U) << r.raw;
  EXPECT_EQ(env.back()["type"], "testjob.succeeded");
  // The heartbeat is a comment frame between events, never inside one.
  const auto beat = r.raw.find(": keepalive\n\n");
  EXPECT_NE(beat, std::string::npos);
  EXPECT_LT(r.raw.find("id: 2\n"), beat);
  EXPECT_GT(r.raw.find("id: 3\n"), beat);
}

TEST_F(SseTest, ACancelledJobStreamEndsWithItsFinalEvent) {
  ControlledJob job(h_.jobs());
  ASSERT_TRUE(job.wait_started());
  SseRead r;
  std::thread reader([&] { r = read_sse(h_.port(), "/api/v1/jobs/" + job.id() + "/events"); });
  json c = expect_json(cli_->Post("/api/v1/jobs/" + job.id() + "/cancel", "", "application/json"), 202);
  EXPECT_EQ(c, json({{"id", job.id()}, {"status", "cancelling"}}));
  reader.join();
  const auto env = check_frames(r, job.info().stream);
  ASSERT_GE(env.size(), 3U) << r.raw;
  EXPECT_EQ(env.back()["type"], "testjob.cancelled");
  EXPECT_EQ(env.back()["data"]["error"]["code"], "cancelled");
  EXPECT_TRUE(r.ended_by_server);
}

// Clients that hang up mid-stream free their server thread: with 3 threads, 3 abandoned streams
// must not stop 3 new clients from being served at the same time afterwards.
TEST(SseDisconnectTest, ClientsThatHangUpDoNotBlockTheServer) {
  ApiHarness h(HarnessOptions().with_threads(3));
  h.start();
  ControlledJob job(h.jobs());
  ASSERT_TRUE(job.wait_started());
  const std::string path = "/api/v1/jobs/" + job.id() + "/events";
  {
    std::vector<std::thread> gone;
    for (int i = 0; i < 3; ++i) {
      gone.emplace_back([&] {
        const SseRead r = read_sse(h.port(), path, {}, [](const SseRead&) { return false; });
        EXPECT_EQ(r.events.size(), 1U);
        EXPECT_FALSE(r.ended_by_server);
      });
    }
    for (auto& t : gone) t.join();
  }
  {
    auto cli = h.client();
    expect_json(cli->Get("/api/v1/health"));
  }
  std::mutex mu;
  std::condition_variable cv;
  int connected = 0;
  std::vector<std::thread> fresh;
  std::atomic<int> together{0};
  for (int i = 0; i < 3; ++i) {
    fresh.emplace_back([&] {
      bool counted = false;
      const SseRead r = read_sse(h.port(), path, {}, [&](const SseRead& s) {
        if (s.events.size() < 2) return true;
        std::unique_lock lock(mu);
        if (!counted) {
          counted = true;
          ++connected;
          cv.notify_all();
        }
        // Hold the connection until all three are connected at once.
        if (cv.wait_for(lock, std::chrono::seconds(15), [&] { return connected == 3; })) ++together;
        return false;
      });
      EXPECT_EQ(r.events.size(), 2U);
    });
  }
  for (auto& t : fresh) t.join();
  EXPECT_EQ(together.load(), 3) << "not all three new clients were served at the same time";
  // The job's stream is unaffected by its departed readers.
  job.release();
  const SseRead last = read_sse(h.port(), path);
  EXPECT_TRUE(last.ended_by_server);
  EXPECT_EQ(check_frames(last, job.info().stream).back()["type"], "testjob.succeeded");
}

TEST_F(SseTest, UnknownStreamsAre404) {
  expect_error(cli_->Get("/api/v1/query/nope/events"), 404, "not_found", "nope");
  expect_error(cli_->Get("/api/v1/jobs/nope/events"), 404, "not_found", "nope");
}

}  // namespace
}  // namespace pluto::api_test
