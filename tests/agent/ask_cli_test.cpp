// `pluto-duck ask` through the real binary: the offline answer on the sample data, --json event
// envelopes, a scripted model behind --base-url, exit codes, and a process killed mid-run leaving
// the run `interrupted` with its checkpoints and events readable (and resumable).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/scripted_llm.hpp"
#include "agent/stack.hpp"

namespace pluto {
namespace {

using nlohmann::json;
using testing::ScriptedLlmServer;

constexpr const char* kCliKey = "sk-cli-0b9d4e77f1a2-secret";

class AskCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto wh = warehouse::Warehouse::open(testing::warehouse_options_for((dir_ / "warehouse.duckdb").string()));
    ASSERT_TRUE(wh.ok()) << wh.error().message;
    auto lease = wh.value()->pool().acquire();
    ASSERT_TRUE(testing::load_sample_shop(lease.value().connection()).ok());
  }
  testing::ProcessResult ask(std::vector<std::string> args, testing::RunOptions opts = {}) {
    args.insert(args.begin(), {PLUTO_BINARY, "--data-dir", dir_.str(), "ask"});
    opts.unset_env.push_back("OPENAI_API_KEY");
    opts.unset_env.push_back("ANTHROPIC_API_KEY");
    return testing::run_process(args, opts);
  }
  testing::TempDir dir_;
};

TEST_F(AskCli, AnswersOnTheSampleDataWithTheExactCountAndTheSql) {
  auto r = ask({"how many customers are there?"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("There are 500 customers."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SELECT count(*) AS customer_count FROM customers"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("plan: count"), std::string::npos);
  EXPECT_NE(r.out.find("customer_count\n  --------------\n  500"), std::string::npos) << r.out;  // the preview
}

TEST_F(AskCli, JsonPrintsEveryEventEnvelope) {
  auto r = ask({"--json", "number of orders per status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> lines;
  size_t pos = 0;
  while (pos < r.out.size()) {
    const auto nl = r.out.find('\n', pos);
    lines.push_back(json::parse(r.out.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  ASSERT_GE(lines.size(), 8U);
  std::string stream = lines[0]["stream"];
  EXPECT_EQ(stream.rfind("agent/", 0), 0U);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["id"], static_cast<int64_t>(i + 1));
    EXPECT_EQ(lines[i]["stream"], stream);
    EXPECT_TRUE(lines[i]["ts"].is_string());
    EXPECT_TRUE(lines[i]["data"].is_object());
  }
  EXPECT_EQ(lines.back()["type"], "agent.succeeded");
  bool answered = false;
  for (const auto& l : lines) {
    if (l["type"] == "agent.result") {
      EXPECT_EQ(l["data"]["row_count"], 5);
    }
    if (l["type"] == "agent.answer")
      answered = l["data"]["answer"].get<std::string>().find("delivered") != std::string::npos;
  }
  EXPECT_TRUE(answered);
}

TEST_F(AskCli, ScriptedModelThroughBaseUrlAndExitCodes) {
  ScriptedLlmServer server;
  server.push(testing::openai_tool_call("query_run", {{"sql", "SELECT count(*) AS n FROM orders"}}));
  server.push(testing::openai_text({"There are 2000 orders."}));
  testing::RunOptions o;
  o.env["OPENAI_API_KEY"] = kCliKey;
  auto r = ask({"--provider", "openai", "--base-url", server.base_url(), "--model", "m1", "how many orders?"}, o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("answer: There are 2000 orders."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("SELECT count(*) AS n FROM orders"), std::string::npos);
  EXPECT_EQ(server.requests().at(0).body["model"], "m1");
  EXPECT_EQ(server.requests().at(0).headers.at("authorization"), std::string("Bearer ") + kCliKey);

  // A model that keeps failing: the run ends at the retry limit, exit 1.
  for (int i = 0; i < 3; ++i) {
    server.push(testing::openai_tool_call("query_run", {{"sql", "SELECT nope FROM orders"}}));
  }
  auto failing = ask({"--provider", "openai", "--base-url", server.base_url(), "how many orders?"}, o);
  EXPECT_EQ(failing.exit_code, 1) << failing.err;
  EXPECT_NE(failing.err.find("no working SQL after 3 attempts"), std::string::npos) << failing.err;
  EXPECT_NE(failing.out.find("retry: error"), std::string::npos) << failing.out;

  // A key the server rejects: exit 3, and the key appears nowhere.
  server.push(testing::http_error(401, std::string(R"({"error":{"message":"bad key )") + kCliKey + "\"}}"));
  auto denied = ask({"--provider", "openai", "--base-url", server.base_url(), "how many orders?"}, o);
  EXPECT_EQ(denied.exit_code, 3) << denied.err;
  EXPECT_NE(denied.err.find("401"), std::string::npos) << denied.err;
  for (const auto& text : {denied.out, denied.err, r.out, r.err, failing.out, failing.err,
                           testing::read_file(dir_ / "logs" / "pluto-duck.log")}) {
    EXPECT_EQ(text.find(kCliKey), std::string::npos);
  }

  // No key for the public endpoint: refused before any request, exit 3, naming the variable.
  auto missing = ask({"--provider", "anthropic", "how many orders?"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("ANTHROPIC_API_KEY"), std::string::npos) << missing.err;
  auto usage = ask({"--provider", "gemini", "q"});
  EXPECT_EQ(usage.exit_code, 2);
}

// Runs the binary until `done(stdout so far)` holds, then kills it with SIGKILL.
std::string run_until_then_kill(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                                const std::function<bool(const std::string&)>& done) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    if (kv.rfind("PLUTODUCK_", 0) != 0) env_strings.push_back(kv);
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int out[2];
  EXPECT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  std::string got;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!done(got) && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(out[0]);
  return got;
}

TEST_F(AskCli, AProcessKilledMidRunLeavesItInterruptedWithCheckpointsAndEvents) {
  ScriptedLlmServer server;
  auto hanging = testing::openai_text({"Let me think"});
  hanging.chunks.resize(2);
  hanging.hang = true;  // the model never finishes: the process is killed while it waits
  server.push(hanging);
  const auto out = run_until_then_kill(
      {PLUTO_BINARY, "--data-dir", dir_.str(), "ask", "--json", "--provider", "openai", "--base-url", server.base_url(),
       "how many payments are there?"},
      {{"OPENAI_API_KEY", kCliKey}},
      // The model has been asked: the plan and schema steps are checkpointed, generate_sql is waiting.
      [&](const std::string& got) {
        return server.request_count() > 0 && got.find("\"agent.schema\"") != std::string::npos;
      });
  ASSERT_NE(out.find("\"agent.schema\""), std::string::npos) << out;
  const std::string run_id = json::parse(out.substr(0, out.find('\n')))["data"]["job_id"];

  // "Restart": the services come up again on the same data dir.
  server.push(testing::openai_tool_call("query_run", {{"sql", "SELECT count(*) AS n FROM payments"}}));
  server.push(testing::openai_text({"There are 2000 payments."}));
  {
    testing::Stack stack(dir_.path(), testing::test_agent_options("openai", server.base_url()), /*load=*/false);
    auto v = stack.agent().get(run_id);
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(v->status, "interrupted");
    EXPECT_EQ(v->question, "how many payments are there?");
    ASSERT_GE(v->checkpoints.size(), 2U);
    EXPECT_EQ(v->checkpoints[0].node, "plan");
    EXPECT_EQ(v->checkpoints[1].node, "explore_schema");
    EXPECT_EQ(v->checkpoints[1].next, "generate_sql");
    EXPECT_TRUE(v->state.is_object());
    EXPECT_EQ(v->state["plan"]["intent"], "count");
    const auto events = stack.events(run_id);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.front().type, "agent.queued");
    EXPECT_FALSE(testing::Stack::of_type(events, "agent.plan").empty());
    EXPECT_EQ(events.back().type, "agent.interrupted");
    EXPECT_TRUE(stack.bus().read("agent/" + run_id, 0).closed);
  }

  // …and `ask --resume` continues it from its last checkpoint (the model is asked for SQL next).
  testing::RunOptions env;
  env.env["OPENAI_API_KEY"] = kCliKey;
  auto resumed = ask({"--resume", run_id, "--base-url", server.base_url()}, env);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find("resumed from run " + run_id + " at generate_sql"), std::string::npos) << resumed.out;
  EXPECT_NE(resumed.out.find("There are 2000 payments."), std::string::npos) << resumed.out;
  // A finished run cannot be resumed; a question and --resume together are a usage error.
  const std::string new_run =
      resumed.out.substr(resumed.out.rfind("run ") + 4, resumed.out.rfind(" · ") - resumed.out.rfind("run ") - 4);
  auto again = ask({"--resume", new_run});
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  EXPECT_NE(again.err.find("already succeeded"), std::string::npos) << again.err;
  EXPECT_EQ(ask({"--resume", run_id, "how many?"}).exit_code, 2);
  EXPECT_EQ(ask({}).exit_code, 2);
}

}  // namespace
}  // namespace pluto
