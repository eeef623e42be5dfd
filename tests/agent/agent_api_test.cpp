// The agent through the real `pluto-duck serve`: POST /api/v1/agent/run answers 202 with the run,
// its events stream over SSE (replayable with Last-Event-ID) up to the answer, GET shows the run,
// follow-ups continue the conversation, and cancel of a finished run is a conflict.
#include <gtest/gtest.h>
#include <httplib.h>

#include "agent/sample_data.hpp"
#include "api/server_process.hpp"

namespace pluto {
namespace {

using nlohmann::json;

struct Frame {
  std::string id;
  std::string event;
  json data;
};

// Reads an SSE endpoint until the server closes the stream (it does after the final event).
std::vector<Frame> read_events(int port, const std::string& path, const std::string& last_event_id = "") {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(std::chrono::seconds(60));  // generous: only catches a hang
  httplib::Headers headers{{"Accept", "text/event-stream"}};
  if (!last_event_id.empty()) headers.emplace("Last-Event-ID", last_event_id);
  std::string raw;
  auto res = cli.Get(path, headers, [&](const char* d, size_t n) {
    raw.append(d, n);
    return true;
  });
  EXPECT_TRUE(res) << path;
  std::vector<Frame> frames;
  size_t pos = 0;
  while (true) {
    const auto end = raw.find("\n\n", pos);
    if (end == std::string::npos) break;
    Frame f;
    std::string data;
    size_t line = pos;
    while (line < end) {
      const auto nl = std::min(raw.find('\n', line), end);
      const std::string l = raw.substr(line, nl - line);
      if (l.rfind("id: ", 0) == 0) f.id = l.substr(4);
      if (l.rfind("event: ", 0) == 0) f.event = l.substr(7);
      if (l.rfind("data: ", 0) == 0) data += l.substr(6);
      line = nl + 1;
    }
    if (!data.empty()) {
      f.data = json::parse(data);
      frames.push_back(std::move(f));
    }
    pos = end + 2;
  }
  return frames;
}

TEST(AgentApi, AskThroughTheHttpApiWithServerSentEvents) {
  testing::TempDir data;
  testing::TempDir logs;
  {
    auto wh = warehouse::Warehouse::open(testing::warehouse_options_for((data / "warehouse.duckdb").string()));
    ASSERT_TRUE(wh.ok()) << wh.error().message;
    auto lease = wh.value()->pool().acquire();
    ASSERT_TRUE(testing::load_sample_shop(lease.value().connection()).ok());
  }
  api_test::ServerProcess server;
  ASSERT_TRUE(server.spawn({"--data-dir", data.str(), "--json", "serve", "--port", "0"}, logs.path()));
  const int port = server.wait_for_url();
  ASSERT_GT(port, 0);
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(std::chrono::seconds(60));

  auto started = cli.Post("/api/v1/agent/run", R"({"question":"how many customers are there?"})", "application/json");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 202) << started->body;
  const auto run = json::parse(started->body);
  const std::string run_id = run["run_id"];
  EXPECT_EQ(run["events_url"], "/api/v1/agent/" + run_id + "/events");
  EXPECT_TRUE(run["conversation_id"].is_string());

  const auto frames = read_events(port, run["events_url"]);
  ASSERT_GE(frames.size(), 8U);
  std::string answer;
  std::string sql;
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].id, std::to_string(i + 1));
    EXPECT_EQ(frames[i].data["type"], frames[i].event);
    EXPECT_EQ(frames[i].data["stream"], "agent/" + run_id);
    if (frames[i].event == "agent.answer") {
      answer = frames[i].data["data"]["answer"];
      sql = frames[i].data["data"]["sql"];
    }
  }
  EXPECT_EQ(frames.front().event, "agent.queued");
  EXPECT_EQ(frames.back().event, "agent.succeeded");
  EXPECT_EQ(answer, "There are 500 customers.");
  EXPECT_EQ(sql, "SELECT count(*) AS customer_count FROM customers");

  // Reconnecting with Last-Event-ID replays what came after it.
  const auto replay = read_events(port, run["events_url"], "5");
  ASSERT_EQ(replay.size(), frames.size() - 5);
  EXPECT_EQ(replay.front().id, "6");

  auto got = cli.Get("/api/v1/agent/" + run_id);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200);
  const auto view = json::parse(got->body);
  EXPECT_EQ(view["status"], "succeeded");
  EXPECT_EQ(view["answer"], "There are 500 customers.");
  EXPECT_EQ(view["sql"], sql);
  EXPECT_EQ(view["steps"].size(), 5U);

  // A follow-up in the same conversation.
  auto follow = cli.Post("/api/v1/agent/run",
                         json{{"question", "and per country?"}, {"conversation_id", run["conversation_id"]}}.dump(),
                         "application/json");
  ASSERT_TRUE(follow);
  ASSERT_EQ(follow->status, 202) << follow->body;
  const auto second = read_events(port, json::parse(follow->body)["events_url"]);
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(second.back().event, "agent.succeeded");
  bool per_country = false;
  for (const auto& f : second) {
    if (f.event == "agent.sql")
      per_country = f.data["data"]["sql"].get<std::string>().find("GROUP BY country") != std::string::npos;
  }
  EXPECT_TRUE(per_country);

  auto cancel = cli.Post("/api/v1/agent/" + run_id + "/cancel", "", "application/json");
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->status, 409) << cancel->body;
  auto bad = cli.Post("/api/v1/agent/run", R"({"question": 3})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  auto missing = cli.Get("/api/v1/agent/no-such-run");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(std::chrono::seconds(30)), std::optional<int>(0)) << server.err();
}

}  // namespace
}  // namespace pluto
