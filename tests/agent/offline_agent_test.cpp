// The offline planner end to end: real warehouse with the sample shop, real query service, job
// runner, event bus and store; the answers are checked against numbers computed directly in SQL.
#include <gtest/gtest.h>

#include "agent/stack.hpp"

namespace pluto {
namespace {

using nlohmann::json;
using testing::Stack;

class OfflineAgent : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<testing::TempDir>();
    stack_ = std::make_unique<Stack>(dir_->path());
  }
  static void TearDownTestSuite() {
    stack_.reset();
    dir_.reset();
  }
  static Stack& stack() { return *stack_; }

  static std::string contains_msg(const agent::AgentRunView& v) { return v.to_json().dump(2); }

  static std::unique_ptr<testing::TempDir> dir_;
  static std::unique_ptr<Stack> stack_;
};
std::unique_ptr<testing::TempDir> OfflineAgent::dir_;
std::unique_ptr<Stack> OfflineAgent::stack_;

TEST_F(OfflineAgent, CountsCustomersWithTheExactNumberAndShowsTheSql) {
  auto v = stack().ask("how many customers are there?");
  ASSERT_EQ(v.status, "succeeded") << contains_msg(v);
  const auto j = v.to_json();
  EXPECT_NE(j["answer"].get<std::string>().find("500"), std::string::npos) << j.dump(2);
  EXPECT_EQ(j["sql"], "SELECT count(*) AS customer_count FROM customers");
  EXPECT_EQ(j["result"]["rows"], json::parse("[[500]]"));
  EXPECT_EQ(j["provider"], "offline");

  // Every step emitted its event, in order, in the envelope's stream.
  const auto events = stack().events(v.run_id);
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(e.type);
  auto index_of = [&](const std::string& t) { return std::find(types.begin(), types.end(), t) - types.begin(); };
  for (const char* t : {"agent.queued", "agent.started", "agent.plan", "agent.schema", "agent.sql", "agent.query",
                        "agent.result", "agent.answer_delta", "agent.answer", "agent.succeeded"}) {
    EXPECT_LT(index_of(t), static_cast<std::ptrdiff_t>(types.size())) << "missing " << t;
  }
  EXPECT_LT(index_of("agent.plan"), index_of("agent.schema"));
  EXPECT_LT(index_of("agent.schema"), index_of("agent.sql"));
  EXPECT_LT(index_of("agent.sql"), index_of("agent.result"));
  EXPECT_LT(index_of("agent.result"), index_of("agent.answer"));
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].id, static_cast<int64_t>(i + 1));
    EXPECT_EQ(events[i].stream, "agent/" + v.run_id);
  }
  const auto plan = Stack::of_type(events, "agent.plan").at(0);
  EXPECT_EQ(plan["intent"], "count");
  const auto schema = Stack::of_type(events, "agent.schema").at(0);
  EXPECT_EQ(schema["tables"][0]["name"], "customers");  // ranked first for this question

  // A checkpoint after every node; the run is inspectable step by step.
  std::vector<std::string> nodes;
  for (const auto& c : v.checkpoints) nodes.push_back(c.node);
  EXPECT_EQ(nodes, (std::vector<std::string>{"plan", "explore_schema", "generate_sql", "execute_sql", "answer"}));
  EXPECT_EQ(v.checkpoints.back().next, "end");

  // The query ran through the query service, under the guard, recorded with origin "agent".
  const auto qid = j["result"]["query_run_id"].get<std::string>();
  auto q = stack().queries().get(qid);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->status, "succeeded");
  EXPECT_EQ(q->origin, "agent");

  // The conversation holds the question and the answer with its SQL.
  auto c = stack().agent().conversation(v.conversation_id);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->messages.size(), 2U);
  EXPECT_EQ(c->messages[0].role, "user");
  EXPECT_EQ(c->messages[0].content, "how many customers are there?");
  EXPECT_EQ(c->messages[1].role, "assistant");
  EXPECT_EQ(c->messages[1].sql, "SELECT count(*) AS customer_count FROM customers");
}

struct Case {
  std::string question;
  std::string expected_sql;  // checked exactly
  std::string answer_has;    // substring of the answer
};

TEST_F(OfflineAgent, AnswersTheClassesOfQuestionsItPromises) {
  Stack& s = stack();
  const auto delivered = std::to_string(s.scalar("SELECT count(*) FROM orders WHERE status = 'delivered'"));
  const auto germany = std::to_string(s.scalar("SELECT count(*) FROM customers WHERE country = 'Germany'"));
  const auto in_2024 = std::to_string(s.scalar("SELECT count(*) FROM orders WHERE year(order_date) = 2024"));
  const auto top_product = s.text("SELECT product_name FROM products ORDER BY unit_price DESC LIMIT 1");
  const auto total = s.text("SELECT sum(amount) FROM payments");
  const auto max_price = s.text(
      "SELECT CASE WHEN m = round(m) THEN printf('%.0f', m) ELSE printf('%.2f', m) END FROM (SELECT max(unit_price) AS "
      "m "
      "FROM products)");
  const auto active = std::to_string(s.scalar("SELECT count(*) FROM products WHERE is_active"));
  const auto biggest_status = s.text("SELECT status FROM orders GROUP BY 1 ORDER BY count(*) DESC LIMIT 1");
  const std::vector<Case> cases = {
      {"how many orders are there?", "SELECT count(*) AS order_count FROM orders", "2000 orders"},
      {"How many order items are there?", "SELECT count(*) AS order_item_count FROM order_items", "5098 order items"},
      {"how many orders were delivered?", "SELECT count(*) AS order_count FROM orders WHERE status = 'delivered'",
       delivered + " orders where status = delivered"},
      {"How many customers are in Germany?",
       "SELECT count(*) AS customer_count FROM customers WHERE country = 'Germany'", germany},
      {"number of orders in 2024", "SELECT count(*) AS order_count FROM orders WHERE year(order_date) = 2024", in_2024},
      {"number of orders per status",
       "SELECT status, count(*) AS order_count FROM orders GROUP BY status ORDER BY order_count DESC, status",
       biggest_status},
      {"top 5 products by unit price",
       "SELECT product_id, product_name, unit_price FROM products ORDER BY unit_price DESC NULLS LAST LIMIT 5",
       top_product},
      {"which product has the highest unit price?",
       "SELECT product_id, product_name, unit_price FROM products ORDER BY unit_price DESC NULLS LAST LIMIT 1",
       top_product},
      {"what is the total amount of payments?", "SELECT sum(amount) AS total_amount FROM payments", ""},
      {"average amount of payments by payment method",
       "SELECT payment_method, avg(amount) AS avg_amount FROM payments GROUP BY payment_method ORDER BY avg_amount "
       "DESC NULLS LAST, payment_method",
       "per payment_method"},
      {"what is the maximum unit price of products?", "SELECT max(unit_price) AS max_unit_price FROM products",
       max_price},
      {"bottom 3 categories of products by average unit price",
       "SELECT category, avg(unit_price) AS avg_unit_price FROM products GROUP BY category ORDER BY avg_unit_price "
       "ASC NULLS LAST, category LIMIT 3",
       "Bottom 3 category"},
      {"top 3 countries by number of customers",
       "SELECT country, count(*) AS customer_count FROM customers GROUP BY country ORDER BY customer_count DESC NULLS "
       "LAST, country LIMIT 3",
       "Top 3 country"},
      {"how many countries do customers come from?",
       "SELECT count(DISTINCT country) AS distinct_country FROM customers", "8 distinct country"},
      {"how many active products are there?", "SELECT count(*) AS product_count FROM products WHERE is_active = true",
       "There are " + active + " products"},
      {"what is the earliest order date?", "SELECT min(order_date) AS min_order_date FROM orders",
       "The earliest order_date of orders is 2024-01-01"},
      {"how many payments by gift card?",
       "SELECT count(*) AS payment_count FROM payments WHERE payment_method = 'gift_card'", "gift_card"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.question);
    auto v = s.ask(c.question);
    ASSERT_EQ(v.status, "succeeded") << v.to_json().dump(2);
    const auto j = v.to_json();
    EXPECT_EQ(j["sql"], c.expected_sql) << j["answer"];
    const auto answer = j["answer"].is_string() ? j["answer"].get<std::string>() : std::string();
    if (!c.answer_has.empty()) {
      EXPECT_NE(answer.find(c.answer_has), std::string::npos) << answer;
    }
    if (c.question.find("total amount") != std::string::npos) {
      // The total as DuckDB computes it, rounded to cents in the answer.
      EXPECT_NE(answer.find(total.substr(0, total.find('.'))), std::string::npos) << answer << " vs " << total;
    }
  }
}

TEST_F(OfflineAgent, FollowUpsSeeTheEarlierQuestion) {
  auto first = stack().ask("how many customers are there?");
  ASSERT_EQ(first.status, "succeeded");
  auto second = stack().ask("and per country?", first.conversation_id);
  ASSERT_EQ(second.status, "succeeded") << second.to_json().dump(2);
  const auto j = second.to_json();
  EXPECT_EQ(j["sql"],
            "SELECT country, count(*) AS customer_count FROM customers GROUP BY country ORDER BY customer_count DESC, "
            "country");
  EXPECT_EQ(j["result"]["row_count"], 8);
  EXPECT_TRUE(j["plan"]["follow_up"].get<bool>());
  auto third = stack().ask("what about only in Japan?", first.conversation_id);
  ASSERT_EQ(third.status, "succeeded");
  EXPECT_EQ(third.to_json()["sql"],
            "SELECT country, count(*) AS customer_count FROM customers WHERE country = 'Japan' GROUP BY country ORDER "
            "BY customer_count DESC, country");
  auto c = stack().agent().conversation(first.conversation_id);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->messages.size(), 6U);
}

TEST_F(OfflineAgent, SaysPlainlyWhatItCannotDoWithSuggestions) {
  for (const std::string q : {"what is the meaning of life?", "how many orders did customers in Germany place?",
                              "what is the average revenue per visitor?", "list the customers in Atlantis",
                              "how many big orders are there?"}) {
    SCOPED_TRACE(q);
    auto v = stack().ask(q);
    ASSERT_EQ(v.status, "succeeded") << v.to_json().dump(2);
    const auto j = v.to_json();
    const auto answer = j["answer"].get<std::string>();
    EXPECT_EQ(answer.rfind("I can't answer that offline", 0), 0U) << answer;
    EXPECT_NE(answer.find("--provider openai"), std::string::npos);
    EXPECT_NE(answer.find("Tables: "), std::string::npos);
    EXPECT_NE(answer.find("\"how many "), std::string::npos);  // a concrete question that works
    EXPECT_TRUE(j["sql"].is_null());
    const auto answers = Stack::of_type(stack().events(v.run_id), "agent.answer");
    ASSERT_EQ(answers.size(), 1U);
    EXPECT_EQ(answers[0]["answered"], false);
    EXPECT_TRUE(Stack::of_type(stack().events(v.run_id), "agent.sql").empty());
  }
  auto unknown = stack().ask("how many customers live in Atlantis?");
  EXPECT_NE(unknown.to_json()["answer"].get<std::string>().find("'atlantis'"), std::string::npos);
  auto join = stack().ask("how many orders did customers in Germany place?");
  EXPECT_NE(join.to_json()["answer"].get<std::string>().find("join"), std::string::npos);
}

TEST_F(OfflineAgent, RejectsBadRequestsBeforeStarting) {
  agent::AgentRequest r;
  r.question = "   ";
  EXPECT_EQ(stack().agent().submit(r).error().code, ErrorCode::invalid_argument);
  r.question = "how many orders?";
  r.conversation_id = "no-such-conversation";
  EXPECT_EQ(stack().agent().submit(r).error().code, ErrorCode::not_found);
  r.conversation_id.clear();
  r.provider = "gpt";
  EXPECT_EQ(stack().agent().submit(r).error().code, ErrorCode::invalid_argument);
  r.provider = "mock";  // the alias of offline
  auto ok = stack().agent().submit(r);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(stack().finish(ok->run_id).provider, "offline");
  EXPECT_EQ(stack().agent().get("nope").error().code, ErrorCode::not_found);

  auto parsed = agent::AgentRequest::from_json(json{{"question", "q"}, {"model", "m"}, {"conversation_id", nullptr}});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->model, "m");
  EXPECT_EQ(agent::AgentRequest::from_json(json{{"question", 3}}).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(agent::AgentRequest::from_json(json{{"question", "q"}, {"sql", "x"}}).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(agent::AgentRequest::from_json(json::object()).error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace pluto
