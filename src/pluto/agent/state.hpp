#pragma once
// The typed state of one agent run: everything a node reads or writes, serialisable to JSON so a
// checkpoint after each node can be inspected and a run resumed from it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::agent {

// An earlier question of the same conversation (follow-ups see these).
struct Turn {
  std::string question;
  std::string sql;  // empty when it was answered without SQL
  std::string answer;
};

// What the planner made of the question (shared analysis; the offline planner resolves it further).
struct Plan {
  std::string intent;                 // count, count_by, top, bottom, aggregate, aggregate_by, list, unknown
  std::vector<std::string> steps;     // what the run will do, in words
  std::vector<std::string> keywords;  // normalised content words of the question
  bool expects_single_value = false;  // "how many…", "what is the total…" without a grouping
  bool follow_up = false;             // refers to an earlier turn ("and per country?")
};

struct ColumnCandidate {
  std::string name;
  std::string type;
  std::string comment;
  std::vector<std::string> values;  // sampled distinct values (text-like columns)
  bool values_complete = false;     // `values` holds every distinct value
  double score = 0;
};

struct TableCandidate {
  std::string sql_name;  // how SQL should name it (quoted, qualified outside the default schema)
  std::string name;      // bare table name
  std::string database;
  std::string schema;
  std::string kind;  // table or view
  std::string comment;
  std::optional<int64_t> row_count;
  std::vector<ColumnCandidate> columns;
  double score = 0;
};

struct Attempt {
  int number = 0;
  std::string sql;
  std::string explanation;
  std::string tool_call_id;  // the model's query.run call this attempt answers (LLM providers)
  std::string outcome;       // pending, ok, error, refused, implausible
  std::string reason;        // why it failed, as fed back to the generator
  std::string query_run_id;
  std::optional<int64_t> row_count;
};

struct ResultPreview {
  std::string query_run_id;
  nlohmann::json columns = nlohmann::json::array();  // [{"name","type"}]
  nlohmann::json rows = nlohmann::json::array();     // arrays, capped by agent.max_rows / bytes
  int64_t row_count = 0;
  bool truncated = false;
};

struct Chart {
  std::string type;  // bar, line
  std::string x;
  std::string y;
};

struct AgentState {
  std::string run_id;
  std::string conversation_id;
  std::string question;
  std::string provider;
  std::string model;
  std::vector<Turn> history;
  Plan plan;
  std::vector<TableCandidate> schema;
  std::vector<Attempt> attempts;
  std::optional<ResultPreview> result;
  std::string answer;
  std::optional<Chart> chart;
  bool answered = false;                                // an answer was produced (with or without SQL)
  bool answered_without_sql = false;                    // the generator answered directly (out of scope, clarification)
  nlohmann::json transcript = nlohmann::json::array();  // the LLM dialogue (llm::Message JSON)
  std::optional<Error> failure;                         // why the run ends without an answer

  nlohmann::json to_json() const;
  static Result<AgentState> from_json(const nlohmann::json& j);

  const Attempt* last_attempt() const { return attempts.empty() ? nullptr : &attempts.back(); }
  // The last SQL that ran successfully, or empty.
  std::string final_sql() const;
};

nlohmann::json error_json(const Error& e);
Error error_from_json(const nlohmann::json& j);

}  // namespace pluto::agent
