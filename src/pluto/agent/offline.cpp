// The offline planner (`llm.provider = offline`, alias `mock`): a deterministic, rule-based SQL
// writer over the real catalog that needs no network. It answers row counts (overall, per group,
// distinct values), top/bottom N rows or groups by a column, sum/average/min/max overall or per
// group, with filters on values named in the question (matched against sampled distinct values)
// and on years. Anything else gets a plain "I can't" with questions it can answer about this data.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <set>

#include "pluto/agent/brain.hpp"
#include "pluto/agent/planner.hpp"
#include "pluto/agent/schema_explorer.hpp"
#include "pluto/agent/text.hpp"
#include "pluto/warehouse/duckdb_api.hpp"

namespace pluto::agent {
namespace {

using nlohmann::json;
constexpr size_t npos = std::string::npos;

struct Span {
  size_t pos = npos;
  size_t len = 0;
  bool overlaps(const Span& o) const {
    return pos != npos && o.pos != npos && pos < o.pos + o.len && o.pos < pos + len;
  }
};

struct Filter {
  const ColumnCandidate* column = nullptr;
  std::vector<std::string> values;  // column IN (values)
  int year = 0;                     // or a year filter on a date column
  std::string year_op;              // "=", ">=", "<"; "bool" for a flag (values[0] is true/false)
  std::string describe() const {
    if (year != 0) {
      if (year_op == "=") return column->name + " in " + std::to_string(year);
      if (year_op == ">=") return column->name + " from " + std::to_string(year);
      return column->name + " before " + std::to_string(year);
    }
    return column->name + (values.size() == 1 ? " = " + values[0] : " in (" + join(values, ", ") + ")");
  }
};

enum class Shape { count, count_distinct, count_by, aggregate, aggregate_by, top_rows, top_groups, list };

struct Parse {
  const TableCandidate* table = nullptr;
  Span table_span;
  Shape shape = Shape::count;
  Aggregate agg = Aggregate::none;
  int rank = 0;  // +1 highest first, -1 lowest first
  int limit = 0;
  const ColumnCandidate* measure = nullptr;
  const ColumnCandidate* group = nullptr;
  const ColumnCandidate* distinct = nullptr;
  std::vector<Filter> filters;
  std::string problem;  // set when the question is outside what the planner can do
  bool vague = false;   // the problem is only that nothing to compute was named (a follow-up may supply it)
};

std::string noun(const TableCandidate& t) {
  return join(words(t.name), " ");
}

std::string quote_if_needed(const std::string& name) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  }) && !(name[0] >= '0' && name[0] <= '9');
  return plain ? name : warehouse::quote_identifier(name);
}

// Words of a table name without dbt layer prefixes (stg_orders matches "orders").
std::vector<std::string> table_words(const std::string& name) {
  auto w = words(name);
  static const std::set<std::string> kPrefixes = {"stg", "fct", "dim", "int", "mart", "raw", "src"};
  if (w.size() > 1 && kPrefixes.count(w[0]) != 0) w.erase(w.begin());
  return stems(w);
}

int number_word(const std::string& w) {
  static const std::vector<std::string> kWords = {"zero",  "one",   "two",  "three", "four",   "five",  "six",
                                                  "seven", "eight", "nine", "ten",   "eleven", "twelve"};
  for (size_t i = 0; i < kWords.size(); ++i) {
    if (w == kWords[i]) return static_cast<int>(i);
  }
  if (w == "twenty") return 20;
  if (w == "dozen") return 12;
  if (is_number(w) && w.size() <= 3) return std::stoi(w);
  return -1;
}

bool is_id_column(const ColumnCandidate& c) {
  const auto w = words(c.name);
  return !w.empty() && (w.back() == "id" || w.back() == "key");
}

class Matcher {
 public:
  explicit Matcher(const std::string& question) : w_(words(question)), s_(stems(w_)) {}
  const std::vector<std::string>& words_() const { return w_; }
  const std::vector<std::string>& stems_() const { return s_; }

  Span find(const std::vector<std::string>& phrase_stems, size_t from = 0) const {
    const auto p = find_phrase(s_, phrase_stems, from);
    return p == npos ? Span{} : Span{p, phrase_stems.size()};
  }
  // A column named in full ("unit price"), else by its last word ("price" for unit_price) when that
  // word is specific enough.
  Span find_column(const ColumnCandidate& c, size_t from = 0, bool id_by_prefix = false) const {
    const auto cw = stems(words(c.name));
    if (auto sp = find(cw, from); sp.pos != npos) return sp;
    // "per customer" groups by customer_id.
    if (id_by_prefix && cw.size() == 2 && cw.back() == "id") return find({cw[0]}, from);
    if (cw.size() > 1 && cw.back() != "id" && cw.back().size() > 3 && !is_stop_word(cw.back())) {
      return find({cw.back()}, from);
    }
    return {};
  }
  size_t index_of(std::string_view word) const {
    for (size_t i = 0; i < w_.size(); ++i) {
      if (w_[i] == word) return i;
    }
    return npos;
  }

 private:
  std::vector<std::string> w_;
  std::vector<std::string> s_;
};

// The column of `t` named at `pos` (the words right after a marker such as "per" or "by").
const ColumnCandidate* column_at(const Matcher& m, const TableCandidate& t, size_t pos, Span* span,
                                 bool numeric_only = false) {
  const ColumnCandidate* best = nullptr;
  Span best_span;
  for (const auto& c : t.columns) {
    if (numeric_only && !is_numeric_type(c.type)) continue;
    const auto sp = m.find_column(c, pos, /*id_by_prefix=*/true);
    // Allow one filler word ("the", "each") between the marker and the column.
    if (sp.pos == npos || sp.pos > pos + 1) continue;
    if (sp.pos == pos + 1 && !is_stop_word(m.words_()[pos])) continue;
    if (best == nullptr || sp.len > best_span.len) {
      best = &c;
      best_span = sp;
    }
  }
  if (span != nullptr) *span = best_span;
  return best;
}

class OfflineBrain final : public Brain {
 public:
  std::string name() const override { return "offline"; }
  std::string model() const override { return "rules"; }

  Result<Proposal> propose(AgentState& state, RunContext& /*ctx*/) override {
    if (const auto* last = state.last_attempt(); last != nullptr) {
      // A result that looked wrong is confirmed by proposing the same SQL: these rules have no
      // better reading of the question. A failing statement cannot be rewritten by them.
      if (last->outcome == "implausible")
        return Proposal{last->sql, "the result stands: it is what the data says", "", ""};
      return Error(ErrorCode::sql_error, "the offline planner's SQL failed: " + last->reason,
                   "rephrase the question, or use an LLM provider (--provider openai|anthropic)");
    }
    Parse p = resolve(state);
    if (p.table == nullptr && p.problem.empty()) p.problem = "I could not tell which table the question is about";
    if (!p.problem.empty()) {
      Proposal out;
      out.direct_answer = unsupported(p.problem, state.schema, p.table);
      return out;
    }
    Proposal out;
    out.sql = build_sql(p);
    out.explanation = explain(p);
    return out;
  }

  Result<std::string> answer(AgentState& state, RunContext& ctx) override {
    if (!state.result) return Error(ErrorCode::internal, "no result to answer from");
    // Read the question again (same rules, same reading): a resumed run has nothing in memory.
    const Parse p = resolve(state);
    std::string text = p.table != nullptr ? phrase_answer(p, *state.result) : generic_answer(*state.result);
    if (ctx.emit) ctx.emit("agent.answer_delta", {{"text", text}});
    return text;
  }

 private:
  // The question read in the light of the conversation: a follow-up that names no table continues
  // the reading of the turns before it ("how many customers?" then "and per country?").
  Parse resolve(const AgentState& state) const {
    Parse p = parse(state.question, state.schema);
    if (state.history.empty() || p.table_span.pos != npos || !p.problem.empty()) return p;
    if (!state.plan.follow_up && !is_follow_up(state.question) && p.table != nullptr) return p;
    std::optional<Parse> context;
    for (const auto& turn : state.history) {
      Parse t = parse(turn.question, state.schema);
      if (context && context->table != nullptr && t.table_span.pos == npos && is_follow_up(turn.question)) {
        t = merge(*context, turn.question, state.schema);
      }
      if (t.table != nullptr && t.problem.empty()) context = t;
    }
    if (!context) return p;
    return merge(*context, state.question, state.schema);
  }

  Parse parse(const std::string& question, const std::vector<TableCandidate>& schema) const {
    Matcher m(question);
    const auto& w = m.words_();
    Parse p;
    p.agg = aggregate_in(w);
    p.rank = ranking_in(w);

    // Tables named in the question; the earliest named is the subject.
    struct Named {
      const TableCandidate* table;
      Span span;
    };
    std::vector<Named> named;
    for (const auto& t : schema) {
      const auto sp = m.find(table_words(t.name));
      if (sp.pos != npos) named.push_back({&t, sp});
    }
    // A longer name covering a shorter one wins ("order items" is order_items, not orders).
    std::vector<Named> kept;
    for (const auto& n : named) {
      bool covered = false;
      for (const auto& o : named) {
        if (&o != &n && o.span.len > n.span.len && o.span.overlaps(n.span)) covered = true;
      }
      if (!covered) kept.push_back(n);
    }
    std::sort(kept.begin(), kept.end(), [](const Named& a, const Named& b) { return a.span.pos < b.span.pos; });
    if (!kept.empty()) {
      p.table = kept[0].table;
      p.table_span = kept[0].span;
    }
    if (kept.size() > 1) {
      p.problem = "the question names " + noun(*kept[0].table) + " and " + noun(*kept[1].table) +
                  ", and answering it needs a join of the two, which the offline planner does not write";
      return p;
    }

    // No table named: the table whose column or value the question names.
    if (p.table == nullptr) {
      double best = 0;
      for (const auto& t : schema) {
        double score = 0;
        for (const auto& c : t.columns) {
          if (m.find_column(c).pos != npos && !is_id_column(c)) score += 1;
          if (!value_matches(m, c).empty()) score += 2;
        }
        if (score > best) {
          best = score;
          p.table = &t;
        }
      }
    }
    if (p.table == nullptr) return p;
    const TableCandidate& t = *p.table;
    std::vector<Span> used = {p.table_span};

    // N for rankings: "top 5", "3 most…", "bottom ten".
    for (size_t i = 0; i < w.size(); ++i) {
      const int n = number_word(w[i]);
      if (n > 0 && !(i > 0 && (w[i - 1] == "in" || w[i - 1] == "since"))) {
        p.limit = n;
        used.push_back({i, 1});
        break;
      }
    }

    // Grouping: "per X", "by X", "for each X"…; in a ranking "by X" names the measure instead. A
    // marker followed by a value ("payments by gift card") is a filter, checked once values are known.
    size_t unresolved_marker = npos;
    for (const char* marker : {"per", "each", "every", "across", "by"}) {
      const size_t at = m.index_of(marker);
      if (at == npos || at + 1 >= w.size()) continue;
      if (std::string(marker) == "by" && p.rank != 0) continue;
      Span sp;
      const auto* c = column_at(m, t, at + 1, &sp);
      if (c != nullptr && (!is_numeric_type(c->type) || is_id_column(*c))) {
        p.group = c;
        used.push_back(sp);
        unresolved_marker = npos;
        break;
      }
      if (unresolved_marker == npos) unresolved_marker = at;
    }

    // The measure: the numeric (or, for min/max, date) column named, preferring the one after
    // the aggregate word or after "by" in a ranking.
    size_t anchor = 0;
    for (const char* a : {"average", "avg", "mean", "total", "sum", "maximum", "max", "minimum", "min", "highest",
                          "lowest", "largest", "smallest", "biggest", "earliest", "latest", "by"}) {
      if (const auto at = m.index_of(a); at != npos) {
        anchor = at;
        break;
      }
    }
    Span measure_span;
    for (size_t from : {anchor, size_t{0}}) {
      for (const auto& c : t.columns) {
        const bool temporal_ok = (p.agg == Aggregate::min || p.agg == Aggregate::max) && is_temporal_type(c.type);
        if (!is_numeric_type(c.type) && !temporal_ok) continue;
        if (is_id_column(c)) continue;
        const auto sp = m.find_column(c, from);
        // "order date" is a column even though "order" also names the orders table.
        if (sp.pos == npos || (sp.overlaps(p.table_span) && sp.len <= p.table_span.len)) continue;
        if (p.measure == nullptr || sp.pos < measure_span.pos ||
            (sp.pos == measure_span.pos && sp.len > measure_span.len)) {
          p.measure = &c;
          measure_span = sp;
        }
      }
      if (p.measure != nullptr) break;
    }
    if (p.measure != nullptr) used.push_back(measure_span);

    // Filters on values named in the question; a value inside a longer one named at the same place
    // ("card" in "gift card") is not a match of its own.
    struct ValueMatch {
      const ColumnCandidate* column;
      std::string value;
      Span span;
    };
    std::vector<ValueMatch> matches;
    for (const auto& c : t.columns) {
      for (const auto& [value, sp] : value_matches(m, c)) {
        bool clash = false;
        for (const auto& u : used) clash = clash || u.overlaps(sp);
        if (!clash) matches.push_back({&c, value, sp});
      }
    }
    for (const auto& vm : matches) {
      const bool inside_longer = std::any_of(matches.begin(), matches.end(), [&](const ValueMatch& o) {
        return o.span.len > vm.span.len && o.span.overlaps(vm.span);
      });
      if (inside_longer) continue;
      used.push_back(vm.span);
      auto it =
          std::find_if(p.filters.begin(), p.filters.end(), [&](const Filter& f) { return f.column == vm.column; });
      if (it == p.filters.end()) {
        p.filters.push_back(Filter{vm.column, {vm.value}, 0, ""});
      } else if (std::find(it->values.begin(), it->values.end(), vm.value) == it->values.end()) {
        it->values.push_back(vm.value);
      }
    }
    // The same value in two columns: keep the column the question names, else the first.
    for (size_t i = 0; i < p.filters.size(); ++i) {
      for (size_t j = i + 1; j < p.filters.size();) {
        if (p.filters[i].values == p.filters[j].values) {
          const bool j_named = m.find_column(*p.filters[j].column).pos != npos;
          const bool i_named = m.find_column(*p.filters[i].column).pos != npos;
          if (j_named && !i_named) std::swap(p.filters[i], p.filters[j]);
          p.filters.erase(p.filters.begin() + static_cast<std::ptrdiff_t>(j));
        } else {
          ++j;
        }
      }
    }
    // A value that only another table has would need a join.
    {
      for (const auto& other : schema) {
        if (&other == &t) continue;
        for (const auto& c : other.columns) {
          for (const auto& [value, sp] : value_matches(m, c)) {
            bool ours = false;
            for (const auto& f : p.filters)
              ours = ours || std::find(f.values.begin(), f.values.end(), value) != f.values.end();
            bool clash = false;
            for (const auto& u : used) clash = clash || u.overlaps(sp);
            if (!ours && !clash) {
              p.problem = "'" + value + "' is a value of " + other.name + "." + c.name + ", so answering about " +
                          noun(t) + " needs a join with " + noun(other) + ", which the offline planner does not write";
              return p;
            }
          }
        }
      }
    }
    // Flags: "active products" is is_active = true ("inactive", "not active": false).
    for (const auto& c : t.columns) {
      if (c.type != "BOOLEAN") continue;
      auto cw = stems(words(c.name));
      if (cw.size() > 1 && (cw[0] == "is" || cw[0] == "has")) cw.erase(cw.begin());
      bool value = true;
      Span sp = m.find(cw);
      if (sp.pos == npos && cw.size() == 1) {
        sp = m.find({"in" + cw[0]});
        value = false;
      }
      if (sp.pos == npos) continue;
      if (sp.pos > 0 && (w[sp.pos - 1] == "not" || w[sp.pos - 1] == "non")) value = !value;
      used.push_back(sp);
      p.filters.push_back(Filter{&c, {value ? "true" : "false"}, 0, "bool"});
    }
    // An unknown word right before the table's name ("big orders") qualifies it in a way these
    // rules cannot follow.
    const bool table_inside_column = std::any_of(
        used.begin(), used.end(), [&](const Span& u) { return u.len > p.table_span.len && u.overlaps(p.table_span); });
    if (p.table_span.pos != npos && p.table_span.pos > 0 && !table_inside_column) {
      const size_t i = p.table_span.pos - 1;
      static const std::set<std::string> kHarmless = {"distinct", "different", "unique", "registered",
                                                      "recorded", "earliest",  "latest", "cheapest"};
      bool covered = false;
      for (const auto& u : used) covered = covered || u.overlaps(Span{i, 1});
      if (!covered && !is_stop_word(w[i]) && !is_number(w[i]) && number_word(w[i]) < 0 && kHarmless.count(w[i]) == 0) {
        p.problem = "I could not match '" + w[i] + "' to a column or a value of " + noun(t);
        return p;
      }
    }
    // Years: "in 2024", "since 2023", "before 2025".
    for (size_t i = 1; i < w.size(); ++i) {
      if (!is_number(w[i]) || w[i].size() != 4) continue;
      const int year = std::stoi(w[i]);
      if (year < 1900 || year > 2100) continue;
      const auto& prev = w[i - 1];
      std::string op;
      if (prev == "in" || prev == "during" || prev == "for" || prev == "of") op = "=";
      if (prev == "since" || prev == "from" || prev == "after") op = ">=";
      if (prev == "before") op = "<";
      if (op.empty()) continue;
      const ColumnCandidate* date_col = nullptr;
      for (const auto& c : t.columns) {
        if (!is_temporal_type(c.type)) continue;
        if (date_col == nullptr || m.find_column(c).pos != npos) date_col = &c;
      }
      if (date_col == nullptr) {
        p.problem = noun(t) + " has no date column to filter on " + w[i];
        return p;
      }
      p.filters.push_back(Filter{date_col, {}, prev == "after" ? year + 1 : year, op});
    }

    // A word after "in", "from", "with"… that matches nothing ("customers in Atlantis") would be
    // silently ignored; say so instead of answering a different question.
    std::set<std::string> known;
    for (const auto& x : table_words(t.name)) known.insert(x);
    for (const auto& c : t.columns) {
      for (const auto& x : stems(words(c.name))) known.insert(x);
    }
    for (size_t i = 1; i < w.size(); ++i) {
      static const std::set<std::string> kPrepositions = {"in", "from", "with", "at", "where", "named", "called"};
      if (kPrepositions.count(w[i - 1]) == 0 || is_stop_word(w[i]) || is_number(w[i])) continue;
      if (known.count(m.stems_()[i]) != 0 || number_word(w[i]) >= 0) continue;
      bool covered = false;
      for (const auto& u : used) covered = covered || u.overlaps(Span{i, 1});
      if (!covered) {
        p.problem = "I could not match '" + w[i] + "' to a column or a value of " + noun(t) +
                    " (values are matched against a sample of the data)";
        return p;
      }
    }

    if (unresolved_marker != npos) {
      bool is_filter = false;
      for (const auto& f : p.filters) {
        for (const auto& v : f.values) {
          const auto sp = m.find(stems(words(v)), unresolved_marker);
          is_filter = is_filter || (sp.pos != npos && sp.pos <= unresolved_marker + 2);
        }
      }
      if (!is_filter) {
        p.problem =
            "I could not find a column of " + noun(t) + " named after '" + w[unresolved_marker] + "' to group by";
        return p;
      }
    }

    // The shape of the query.
    if (p.rank != 0) {
      if (p.limit <= 0) p.limit = m.index_of("top") != npos || m.index_of("bottom") != npos ? 10 : 1;
      // The entity ranked: a column named right after N / "top" (groups), else rows of the table.
      size_t after = npos;
      for (const char* a : {"top", "bottom"}) {
        if (const auto at = m.index_of(a); at != npos) after = at + 1;
      }
      for (size_t i = 0; i < w.size(); ++i) {
        if (number_word(w[i]) > 0) after = i + 1;
      }
      const ColumnCandidate* entity = nullptr;
      if (after != npos && after < w.size()) {
        Span sp;
        entity = column_at(m, t, after, &sp);
        if (entity != nullptr &&
            ((is_numeric_type(entity->type) && !is_id_column(*entity)) || sp.overlaps(p.table_span))) {
          entity = nullptr;
        }
      }
      if (entity != nullptr) {
        p.shape = Shape::top_groups;
        p.group = entity;
        if (p.measure == nullptr) {
          p.agg = Aggregate::count;
        } else if (p.agg == Aggregate::none) {
          p.agg = Aggregate::sum;
        }
      } else {
        p.shape = Shape::top_rows;
        if (p.agg == Aggregate::count) {
          p.problem = "ranking " + noun(t) +
                      " by a count of related rows needs a join, which the offline planner "
                      "does not write";
          return p;
        }
        if (p.measure == nullptr) {
          p.problem = "I could not find the numeric column of " + noun(t) + " to rank by";
          return p;
        }
      }
      return p;
    }
    switch (p.agg) {
      case Aggregate::count: {
        // "how many countries…": the thing counted is a column, so count its distinct values.
        const size_t at = m.index_of("many") != npos ? m.index_of("many") + 1
                          : m.index_of("of") != npos ? m.index_of("of") + 1
                                                     : npos;
        if (at != npos && at < w.size() && p.group == nullptr) {
          Span sp;
          const auto* c = column_at(m, t, at, &sp);
          if (c != nullptr && !sp.overlaps(p.table_span) && p.table_span.pos != at && p.table_span.pos != at + 1) {
            p.distinct = c;
            p.shape = Shape::count_distinct;
            return p;
          }
        }
        p.shape = p.group != nullptr ? Shape::count_by : Shape::count;
        return p;
      }
      case Aggregate::sum:
      case Aggregate::avg:
      case Aggregate::min:
      case Aggregate::max:
        if (p.measure == nullptr) {
          std::vector<std::string> numeric;
          for (const auto& c : t.columns) {
            if (is_numeric_type(c.type) && !is_id_column(c)) numeric.push_back(c.name);
          }
          p.problem = "I could not find which column of " + noun(t) + " to aggregate" +
                      (numeric.empty() ? std::string(" (it has no numeric columns)")
                                       : " (numeric columns: " + join(numeric, ", ") + ")");
          return p;
        }
        p.shape = p.group != nullptr ? Shape::aggregate_by : Shape::aggregate;
        return p;
      case Aggregate::none: break;
    }
    if (m.index_of("list") != npos || m.index_of("show") != npos || m.index_of("which") != npos ||
        m.index_of("who") != npos || !p.filters.empty()) {
      p.shape = Shape::list;
      if (p.limit <= 0) p.limit = 20;
      return p;
    }
    if (p.group != nullptr) {
      p.shape = Shape::count_by;
      p.agg = Aggregate::count;
      return p;
    }
    p.problem = "I could not tell what to compute (a count, a ranking, a sum, an average, a minimum or a maximum)";
    p.vague = true;
    return p;
  }

  // A follow-up question merged into the previous one: what it restates replaces the old.
  Parse merge(const Parse& prev, const std::string& question, const std::vector<TableCandidate>& schema) const {
    std::vector<TableCandidate> one = {*prev.table};
    // Parse the follow-up against the previous table only, with its name prepended so it binds.
    Parse now = parse(prev.table->name + " " + question, one);
    Parse out = prev;
    const TableCandidate* table = prev.table;
    for (const auto& t : schema) {
      if (t.sql_name == prev.table->sql_name) table = &t;
    }
    auto remap = [&](const ColumnCandidate* c) -> const ColumnCandidate* {
      if (c == nullptr) return nullptr;
      for (const auto& col : table->columns) {
        if (col.name == c->name) return &col;
      }
      return nullptr;
    };
    out.table = table;
    if (!now.problem.empty() && !now.vague) {
      out.problem = now.problem;
      return out;
    }
    const auto w = words(question);
    if (aggregate_in(w) != Aggregate::none || ranking_in(w) != 0) {
      out.agg = now.agg;
      out.rank = now.rank;
      out.shape = now.shape;
      out.limit = now.limit;
      out.measure = remap(now.measure);
      out.distinct = remap(now.distinct);
    }
    if (now.group != nullptr) {
      out.group = remap(now.group);
      if (out.shape == Shape::count) out.shape = Shape::count_by;
      if (out.shape == Shape::aggregate) out.shape = Shape::aggregate_by;
    }
    if (now.measure != nullptr && (out.shape == Shape::aggregate || out.shape == Shape::aggregate_by)) {
      out.measure = remap(now.measure);
    }
    out.group = out.group != nullptr ? remap(out.group) : nullptr;
    out.measure = out.measure != nullptr ? remap(out.measure) : nullptr;
    std::vector<Filter> filters;
    for (const auto& f : prev.filters) {
      bool replaced = false;
      for (const auto& g : now.filters) replaced = replaced || g.column->name == f.column->name;
      if (!replaced) filters.push_back(Filter{remap(f.column), f.values, f.year, f.year_op});
    }
    for (const auto& g : now.filters) filters.push_back(Filter{remap(g.column), g.values, g.year, g.year_op});
    out.filters = filters;
    return out;
  }

  // Values of `c` named in the question, with where they were named.
  static std::vector<std::pair<std::string, Span>> value_matches(const Matcher& m, const ColumnCandidate& c) {
    std::vector<std::pair<std::string, Span>> out;
    if (!is_text_type(c.type)) return out;
    for (const auto& v : c.values) {
      const auto vw = words(v);
      if (vw.empty() || vw.size() > 6) continue;
      if (vw.size() == 1 && (vw[0].size() < 3 || is_number(vw[0]) || is_stop_word(vw[0]))) continue;
      auto sp = m.find(stems(vw));
      if (sp.pos != npos) out.emplace_back(v, sp);
    }
    return out;
  }

  static std::string agg_sql(Aggregate a) {
    switch (a) {
      case Aggregate::sum: return "sum";
      case Aggregate::avg: return "avg";
      case Aggregate::min: return "min";
      case Aggregate::max: return "max";
      case Aggregate::count: return "count";
      case Aggregate::none: break;
    }
    return "count";
  }
  static std::string agg_alias(Aggregate a, const ColumnCandidate& c) {
    switch (a) {
      case Aggregate::sum: return "total_" + c.name;
      case Aggregate::avg: return "avg_" + c.name;
      case Aggregate::min: return "min_" + c.name;
      case Aggregate::max: return "max_" + c.name;
      case Aggregate::count:
      case Aggregate::none: break;
    }
    return c.name;
  }
  static std::string agg_word(Aggregate a) {
    switch (a) {
      case Aggregate::sum: return "total";
      case Aggregate::avg: return "average";
      case Aggregate::min: return "lowest";
      case Aggregate::max: return "highest";
      case Aggregate::count:
      case Aggregate::none: break;
    }
    return "number of";
  }
  static std::string count_alias(const TableCandidate& t) {
    const auto w = table_words(t.name);
    return join(w, "_") + "_count";
  }

  static std::string where_sql(const Parse& p) {
    std::vector<std::string> parts;
    for (const auto& f : p.filters) {
      const auto col = quote_if_needed(f.column->name);
      if (f.year != 0) {
        if (f.year_op == "=") {
          parts.push_back("year(" + col + ") = " + std::to_string(f.year));
        } else {
          parts.push_back(col + " " + f.year_op + " DATE '" + std::to_string(f.year) + "-01-01'");
        }
      } else if (f.year_op == "bool") {
        parts.push_back(col + " = " + f.values[0]);
      } else if (f.values.size() == 1) {
        parts.push_back(col + " = " + warehouse::quote_literal(f.values[0]));
      } else {
        std::vector<std::string> lits;
        for (const auto& v : f.values) lits.push_back(warehouse::quote_literal(v));
        parts.push_back(col + " IN (" + join(lits, ", ") + ")");
      }
    }
    return parts.empty() ? std::string() : " WHERE " + join(parts, " AND ");
  }

  static const ColumnCandidate* label_column(const TableCandidate& t) {
    for (const auto& c : t.columns) {
      const auto w = words(c.name);
      if (is_text_type(c.type) && std::find(w.begin(), w.end(), "name") != w.end()) return &c;
    }
    for (const auto& c : t.columns) {
      if (is_text_type(c.type)) return &c;
    }
    return t.columns.empty() ? nullptr : &t.columns[0];
  }

  static std::string build_sql(const Parse& p) {
    const auto& t = *p.table;
    const auto from = " FROM " + t.sql_name + where_sql(p);
    switch (p.shape) {
      case Shape::count: return "SELECT count(*) AS " + count_alias(t) + from;
      case Shape::count_distinct: {
        const auto c = quote_if_needed(p.distinct->name);
        return "SELECT count(DISTINCT " + c + ") AS " + quote_if_needed("distinct_" + p.distinct->name) + from;
      }
      case Shape::count_by: {
        const auto g = quote_if_needed(p.group->name);
        const auto a = count_alias(t);
        return "SELECT " + g + ", count(*) AS " + a + from + " GROUP BY " + g + " ORDER BY " + a + " DESC, " + g;
      }
      case Shape::aggregate: {
        return "SELECT " + agg_sql(p.agg) + "(" + quote_if_needed(p.measure->name) + ") AS " +
               quote_if_needed(agg_alias(p.agg, *p.measure)) + from;
      }
      case Shape::aggregate_by: {
        const auto g = quote_if_needed(p.group->name);
        const auto a = quote_if_needed(agg_alias(p.agg, *p.measure));
        return "SELECT " + g + ", " + agg_sql(p.agg) + "(" + quote_if_needed(p.measure->name) + ") AS " + a + from +
               " GROUP BY " + g + " ORDER BY " + a + " DESC NULLS LAST, " + g;
      }
      case Shape::top_rows: {
        std::vector<std::string> cols;
        if (!t.columns.empty() && is_id_column(t.columns[0])) cols.push_back(quote_if_needed(t.columns[0].name));
        if (const auto* l = label_column(t); l != nullptr && l != p.measure) {
          const auto q = quote_if_needed(l->name);
          if (std::find(cols.begin(), cols.end(), q) == cols.end()) cols.push_back(q);
        }
        const auto m = quote_if_needed(p.measure->name);
        cols.push_back(m);
        return "SELECT " + join(cols, ", ") + from + " ORDER BY " + m + (p.rank > 0 ? " DESC" : " ASC") +
               " NULLS LAST LIMIT " + std::to_string(p.limit);
      }
      case Shape::top_groups: {
        const auto g = quote_if_needed(p.group->name);
        std::string value;
        std::string alias;
        if (p.measure == nullptr || p.agg == Aggregate::count) {
          value = "count(*)";
          alias = count_alias(t);
        } else {
          value = agg_sql(p.agg) + "(" + quote_if_needed(p.measure->name) + ")";
          alias = quote_if_needed(agg_alias(p.agg, *p.measure));
        }
        return "SELECT " + g + ", " + value + " AS " + alias + from + " GROUP BY " + g + " ORDER BY " + alias +
               (p.rank > 0 ? " DESC" : " ASC") + " NULLS LAST, " + g + " LIMIT " + std::to_string(p.limit);
      }
      case Shape::list: return "SELECT *" + from + " LIMIT " + std::to_string(p.limit);
    }
    return {};
  }

  static std::string where_words(const Parse& p) {
    if (p.filters.empty()) return {};
    std::vector<std::string> parts;
    for (const auto& f : p.filters) parts.push_back(f.describe());
    return " where " + join(parts, " and ");
  }

  static std::string explain(const Parse& p) {
    const auto t = noun(*p.table);
    switch (p.shape) {
      case Shape::count: return "count the rows of " + t + where_words(p);
      case Shape::count_distinct: return "count the distinct " + p.distinct->name + " values of " + t + where_words(p);
      case Shape::count_by: return "count the rows of " + t + " per " + p.group->name + where_words(p);
      case Shape::aggregate: return agg_sql(p.agg) + " of " + p.measure->name + " over " + t + where_words(p);
      case Shape::aggregate_by:
        return agg_sql(p.agg) + " of " + p.measure->name + " over " + t + " per " + p.group->name + where_words(p);
      case Shape::top_rows:
        return std::string(p.rank > 0 ? "the highest" : "the lowest") + " " + std::to_string(p.limit) + " " + t +
               " by " + p.measure->name + where_words(p);
      case Shape::top_groups:
        return std::string(p.rank > 0 ? "the top " : "the bottom ") + std::to_string(p.limit) + " " + p.group->name +
               " values of " + t + where_words(p);
      case Shape::list: return "rows of " + t + where_words(p);
    }
    return {};
  }

  static std::string cell(const json& v) {
    if (v.is_null()) return "NULL";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_float()) {
      const double d = v.get<double>();
      char buf[64];
      if (std::fabs(d - std::round(d)) < 1e-9 && std::fabs(d) < 1e15) {
        std::snprintf(buf, sizeof buf, "%.0f", d);
      } else {
        std::snprintf(buf, sizeof buf, "%.2f", d);
      }
      return buf;
    }
    return v.dump();
  }

  static std::string pairs(const ResultPreview& r, size_t label, size_t value, size_t max) {
    std::vector<std::string> parts;
    for (size_t i = 0; i < r.rows.size() && i < max; ++i) {
      const auto& row = r.rows[i];
      if (!row.is_array() || row.size() <= std::max(label, value)) continue;
      parts.push_back(cell(row[label]) + " (" + cell(row[value]) + ")");
    }
    std::string out = join(parts, ", ");
    if (static_cast<size_t>(r.row_count) > parts.size()) {
      out += ", and " + std::to_string(static_cast<size_t>(r.row_count) - parts.size()) + " more";
    }
    return out;
  }

  static std::string phrase_answer(const Parse& p, const ResultPreview& r) {
    const auto t = noun(*p.table);
    const auto where = where_words(p);
    const json first = !r.rows.empty() && r.rows[0].is_array() ? r.rows[0] : json::array();
    switch (p.shape) {
      case Shape::count: {
        const auto n = first.empty() ? std::string("0") : cell(first[0]);
        return (n == "1" ? "There is 1 " : "There are " + n + " ") + t + where + ".";
      }
      case Shape::count_distinct: {
        const auto n = first.empty() ? std::string("0") : cell(first[0]);
        return "There are " + n + " distinct " + p.distinct->name + " values in " + t + where + ".";
      }
      case Shape::count_by:
        if (r.rows.empty()) return "No " + t + " match" + where + ".";
        return "Number of " + t + " per " + p.group->name + where + ": " + pairs(r, 0, 1, 10) + ".";
      case Shape::aggregate: {
        const auto v = first.empty() ? std::string("NULL") : cell(first[0]);
        const bool temporal = is_temporal_type(p.measure->type);
        const std::string word = temporal && p.agg == Aggregate::min   ? "earliest"
                                 : temporal && p.agg == Aggregate::max ? "latest"
                                                                       : agg_word(p.agg);
        return "The " + word + " " + p.measure->name + " of " + t + where + " is " + v + ".";
      }
      case Shape::aggregate_by:
        if (r.rows.empty()) return "No " + t + " match" + where + ".";
        return capitalise(agg_word(p.agg)) + " " + p.measure->name + " of " + t + " per " + p.group->name + where +
               ": " + pairs(r, 0, 1, 10) + ".";
      case Shape::top_rows: {
        if (r.rows.empty()) return "No " + t + " match" + where + ".";
        const size_t value = r.columns.size() - 1;
        const size_t label = r.columns.size() >= 2 ? r.columns.size() - 2 : 0;
        return std::string(p.rank > 0 ? "Top " : "Bottom ") + std::to_string(r.rows.size()) + " " + t + " by " +
               p.measure->name + where + ": " + pairs(r, label, value, r.rows.size()) + ".";
      }
      case Shape::top_groups:
        if (r.rows.empty()) return "No " + t + " match" + where + ".";
        return std::string(p.rank > 0 ? "Top " : "Bottom ") + std::to_string(r.rows.size()) + " " + p.group->name +
               " by " +
               (p.measure == nullptr || p.agg == Aggregate::count ? "number of " + t
                                                                  : agg_word(p.agg) + " " + p.measure->name) +
               where + ": " + pairs(r, 0, 1, r.rows.size()) + ".";
      case Shape::list:
        if (r.rows.empty()) return "No " + t + " match" + where + ".";
        return "Here " +
               std::string(r.rows.size() == 1 ? "is 1 row" : "are " + std::to_string(r.rows.size()) + " rows") +
               " of " + t + where + (r.truncated ? " (more exist)" : "") + ".";
    }
    return generic_answer(r);
  }

  static std::string generic_answer(const ResultPreview& r) {
    return "The query returned " + std::to_string(r.row_count) + (r.row_count == 1 ? " row." : " rows.");
  }

  static std::string capitalise(std::string s) {
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
  }

  // Says plainly what is out of reach, with questions that work on this data.
  static std::string unsupported(const std::string& problem, const std::vector<TableCandidate>& schema,
                                 const TableCandidate* subject) {
    std::string out = "I can't answer that offline: " + problem + ".";
    const TableCandidate* t = subject != nullptr ? subject : (schema.empty() ? nullptr : &schema[0]);
    if (t == nullptr) {
      return out + " The warehouse has no tables yet: load data first (pluto-duck ingest), then ask again.";
    }
    const ColumnCandidate* group = nullptr;
    const ColumnCandidate* measure = nullptr;
    std::string value;
    for (const auto& c : t->columns) {
      if (group == nullptr && is_text_type(c.type) && c.values_complete && c.values.size() >= 2 &&
          c.values.size() <= 50) {
        group = &c;
        value = c.values[0];
      }
      if (measure == nullptr && is_numeric_type(c.type) && !is_id_column(c)) measure = &c;
    }
    const auto n = noun(*t);
    std::vector<std::string> examples = {"\"how many " + n + " are there?\""};
    if (group != nullptr) examples.push_back("\"" + n + " per " + join(words(group->name), " ") + "\"");
    if (measure != nullptr) {
      examples.push_back("\"top 5 " + n + " by " + join(words(measure->name), " ") + "\"");
      examples.push_back("\"average " + join(words(measure->name), " ") + " of " + n +
                         (group != nullptr ? " by " + join(words(group->name), " ") : std::string()) + "\"");
    }
    if (group != nullptr)
      examples.push_back("\"how many " + n + " with " + join(words(group->name), " ") + " " + value + "?\"");
    std::vector<std::string> names;
    for (const auto& s : schema) names.push_back(s.name);
    out +=
        " Offline I answer counts, counts per group, top/bottom N by a column, and sum, average, minimum or "
        "maximum of a column overall or per group, filtered by values named in the question — for example " +
        join(examples, ", ") + ". Tables: " + join(names, ", ") +
        ". For other questions use a language model: --provider openai (any OpenAI-compatible server, e.g. a "
        "local Ollama) or --provider anthropic.";
    return out;
  }
};

}  // namespace

std::unique_ptr<Brain> make_offline_brain() {
  return std::make_unique<OfflineBrain>();
}

}  // namespace pluto::agent
