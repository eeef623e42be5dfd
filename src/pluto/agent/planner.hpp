#pragma once
// The planner node's analysis: what kind of question this is (a count, a ranking, an aggregate,
// grouped or not, a follow-up) and the steps the run will take. It needs no model and no data; the
// schema explorer and the SQL generator build on it.
#include <string>
#include <vector>

#include "pluto/agent/state.hpp"

namespace pluto::agent {

Plan make_plan(const std::string& question, const std::vector<Turn>& history);
// Whether a question leans on the one before ("and per country?", "what about 2023?").
bool is_follow_up(const std::string& question);

// Intent words shared with the offline planner.
enum class Aggregate { none, count, sum, avg, min, max };
Aggregate aggregate_in(const std::vector<std::string>& words);
bool has_grouping(const std::vector<std::string>& words);
// "top"/"bottom"-style ranking: +1 descending, -1 ascending, 0 none.
int ranking_in(const std::vector<std::string>& words);

}  // namespace pluto::agent
