#include "pluto/agent/planner.hpp"

#include <algorithm>

#include "pluto/agent/text.hpp"

namespace pluto::agent {
namespace {

bool has(const std::vector<std::string>& w, std::string_view word) {
  return std::find(w.begin(), w.end(), word) != w.end();
}

bool has_pair(const std::vector<std::string>& w, std::string_view a, std::string_view b) {
  for (size_t i = 0; i + 1 < w.size(); ++i) {
    if (w[i] == a && w[i + 1] == b) return true;
  }
  return false;
}

bool has_number(const std::vector<std::string>& w) {
  static const std::vector<std::string> kWords = {"one",   "two",   "three", "four", "five",   "six",
                                                  "seven", "eight", "nine",  "ten",  "twenty", "dozen"};
  for (const auto& x : w) {
    if (is_number(x) && x.size() <= 3) return true;  // years (4 digits) are filters, not counts
    if (std::find(kWords.begin(), kWords.end(), x) != kWords.end()) return true;
  }
  return false;
}

bool follow_up_words(const std::vector<std::string>& w) {
  if (w.empty()) return false;
  static const std::vector<std::string> kStarts = {"and", "also", "what", "how", "same",
                                                   "now", "only", "then", "per", "by"};
  const bool starts = std::find(kStarts.begin(), kStarts.end(), w[0]) != kStarts.end();
  return (w[0] == "and" || w[0] == "also" || w[0] == "same" || w[0] == "now" || w[0] == "only" || w[0] == "per" ||
          w[0] == "by" || has_pair(w, "what", "about") || has_pair(w, "how", "about")) ||
         (starts && w.size() <= 4);
}

}  // namespace

Aggregate aggregate_in(const std::vector<std::string>& w) {
  if (has_pair(w, "how", "many") || has_pair(w, "number", "of") || has(w, "count") || has(w, "counts") ||
      has_pair(w, "total", "number")) {
    return Aggregate::count;
  }
  if (has(w, "average") || has(w, "avg") || has(w, "mean")) return Aggregate::avg;
  if (has(w, "total") || has(w, "sum") || has_pair(w, "how", "much")) return Aggregate::sum;
  if (ranking_in(w) != 0) return Aggregate::none;
  if (has(w, "maximum") || has(w, "max") || has(w, "highest") || has(w, "largest") || has(w, "biggest") ||
      has(w, "latest") || has(w, "most")) {
    return Aggregate::max;
  }
  if (has(w, "minimum") || has(w, "min") || has(w, "lowest") || has(w, "smallest") || has(w, "earliest") ||
      has(w, "cheapest") || has(w, "least")) {
    return Aggregate::min;
  }
  return Aggregate::none;
}

int ranking_in(const std::vector<std::string>& w) {
  if (has(w, "top")) return 1;
  if (has(w, "bottom")) return -1;
  // A superlative ranks rows when a count or "which…" asks for rows: "5 most expensive", "which product…".
  const bool rows_wanted = has_number(w) || has(w, "which") || has(w, "who");
  if (!rows_wanted) return 0;
  for (const char* up : {"highest", "largest", "biggest", "most", "best", "maximum", "max"}) {
    if (has(w, up)) return 1;
  }
  for (const char* down : {"lowest", "smallest", "least", "fewest", "cheapest", "worst", "minimum", "min"}) {
    if (has(w, down)) return -1;
  }
  return 0;
}

bool has_grouping(const std::vector<std::string>& w) {
  return has(w, "per") || has(w, "by") || has(w, "each") || has(w, "every") || has(w, "grouped") ||
         has(w, "breakdown") || has(w, "across");
}

bool is_follow_up(const std::string& question) {
  return follow_up_words(words(question));
}

Plan make_plan(const std::string& question, const std::vector<Turn>& history) {
  Plan p;
  const auto w = words(question);
  for (const auto& x : w) {
    if (!is_stop_word(x)) p.keywords.push_back(x);
  }
  p.follow_up = !history.empty() && follow_up_words(w);
  const auto agg = aggregate_in(w);
  const int rank = ranking_in(w);
  const bool grouped = has_grouping(w);
  if (rank != 0) {
    p.intent = rank > 0 ? "top" : "bottom";
  } else if (agg == Aggregate::count) {
    p.intent = grouped ? "count_by" : "count";
  } else if (agg != Aggregate::none) {
    p.intent = grouped ? "aggregate_by" : "aggregate";
  } else if (has(w, "list") || has(w, "show") || has(w, "which") || has(w, "who")) {
    p.intent = "list";
  } else {
    p.intent = "unknown";
  }
  p.expects_single_value = (p.intent == "count" || p.intent == "aggregate") && !grouped;

  std::string what;
  if (p.intent == "count") what = "count the matching rows";
  if (p.intent == "count_by") what = "count rows per group";
  if (p.intent == "top") what = "rank rows or groups from the highest";
  if (p.intent == "bottom") what = "rank rows or groups from the lowest";
  if (p.intent == "aggregate") what = "aggregate a column";
  if (p.intent == "aggregate_by") what = "aggregate a column per group";
  if (p.intent == "list") what = "list matching rows";
  if (p.intent == "unknown") what = "work out what is asked";
  p.steps = {std::string("find the tables and columns the question is about") +
                 (p.follow_up ? " (a follow-up: earlier questions count too)" : ""),
             "write one read-only SELECT to " + what,
             "run it under the SQL guard with a row cap and a timeout, and check the result (retry with the reason if "
             "it fails)",
             "answer from the rows, with the SQL used"};
  return p;
}

}  // namespace pluto::agent
