#pragma once
// Picks the tables and columns a question is about: every table and view of the warehouse
// (attached sources included) with its columns, types and comments (dbt descriptions land there),
// sampled distinct values of text columns, ranked by how well names, comments and values match the
// question's words.
#include <memory>
#include <string>
#include <vector>

#include "pluto/agent/state.hpp"
#include "pluto/core/cancel.hpp"
#include "pluto/core/error.hpp"

namespace pluto::warehouse {
class Connection;
}

namespace pluto::agent {

struct ExploreOptions {
  size_t max_tables = 8;        // candidates kept
  size_t max_values = 200;      // distinct values kept per column (more: marked incomplete)
  int64_t sample_rows = 50000;  // rows read per table when sampling values
  bool sample_values = true;
};

// `question` and `context` are word lists (context: earlier turns of the conversation, weighted less).
Result<std::vector<TableCandidate>> explore_schema(warehouse::Connection& conn,
                                                   const std::vector<std::string>& question,
                                                   const std::vector<std::string>& context,
                                                   const ExploreOptions& options,
                                                   const std::shared_ptr<CancelToken>& cancel);

// True for DuckDB numeric type names (INTEGER, DECIMAL(18,2), DOUBLE…).
bool is_numeric_type(const std::string& type);
bool is_text_type(const std::string& type);
bool is_temporal_type(const std::string& type);

// How well `name` (a table or column name) matches the question words: the number of its words
// found as a phrase (stemmed), or 0.
size_t name_match(const std::string& name, const std::vector<std::string>& question_stems);

}  // namespace pluto::agent
