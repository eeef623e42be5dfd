#include "pluto/agent/records.hpp"

#include <array>

#include "pluto/core/clock.hpp"
#include "pluto/store/store.hpp"

namespace pluto::agent {
namespace {

using nlohmann::json;

constexpr std::array kMigrations = {
    store::Migration{1, "agent conversations, runs and checkpoints", R"sql(
CREATE TABLE agent_conversations (
  id         TEXT PRIMARY KEY,
  title      TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE agent_messages (
  conversation_id TEXT NOT NULL REFERENCES agent_conversations (id),
  seq             INTEGER NOT NULL,
  role            TEXT NOT NULL,
  run_id          TEXT NOT NULL,
  content         TEXT NOT NULL,
  sql             TEXT NOT NULL DEFAULT '',
  data            TEXT NOT NULL DEFAULT '{}',
  created_at      TEXT NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);
CREATE TABLE agent_runs (
  run_id          TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL,
  question        TEXT NOT NULL,
  provider        TEXT NOT NULL,
  model           TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  resumed_from    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agent_runs_conversation ON agent_runs (conversation_id, created_at);
CREATE TABLE agent_checkpoints (
  run_id     TEXT NOT NULL,
  step       INTEGER NOT NULL,
  node       TEXT NOT NULL,
  next       TEXT NOT NULL,
  state      TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (run_id, step)
);
)sql"},
};

json parse_or_empty(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json::object() : j;
}

}  // namespace

json ConversationRecord::to_json() const {
  json msgs = json::array();
  for (const auto& m : messages) {
    msgs.push_back({{"seq", m.seq},
                    {"role", m.role},
                    {"run_id", m.run_id},
                    {"content", m.content},
                    {"sql", m.sql.empty() ? json() : json(m.sql)},
                    {"data", m.data},
                    {"created_at", m.created_at}});
  }
  return {{"conversation_id", id},
          {"title", title},
          {"created_at", created_at},
          {"updated_at", updated_at},
          {"messages", msgs}};
}

Status Records::migrate(store::Store& store) {
  return store.migrate("agent", kMigrations);
}

Result<std::string> Records::create_conversation(const std::string& title) {
  const auto id = new_id();
  const auto now = now_rfc3339();
  PLUTO_TRY(store_.with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("INSERT INTO agent_conversations (id, title, created_at, updated_at) "
                                               "VALUES (?, ?, ?, ?)"));
    st.bind(1, id).bind(2, title).bind(3, now).bind(4, now);
    return st.run();
  }));
  return id;
}

Result<std::optional<ConversationRecord>> Records::conversation(const std::string& id, bool with_messages) {
  std::optional<ConversationRecord> out;
  PLUTO_TRY(store_.with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("SELECT id, title, created_at, updated_at FROM agent_conversations "
                                               "WHERE id = ?"));
    st.bind(1, id);
    PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) return {};
    ConversationRecord c{st.text(0), st.text(1), st.text(2), st.text(3), {}};
    if (with_messages) {
      PLUTO_ASSIGN_OR_RETURN(auto m, db.prepare("SELECT seq, role, run_id, content, sql, data, created_at FROM "
                                                "agent_messages WHERE conversation_id = ? ORDER BY seq"));
      m.bind(1, id);
      while (true) {
        PLUTO_ASSIGN_OR_RETURN(bool more, m.step());
        if (!more) break;
        c.messages.push_back(
            {m.int64(0), m.text(1), m.text(2), m.text(3), m.text(4), parse_or_empty(m.text(5)), m.text(6)});
      }
    }
    out = std::move(c);
    return {};
  }));
  return out;
}

Status Records::add_message(const std::string& conversation_id, const MessageRecord& message) {
  const auto now = now_rfc3339();
  return store_.with_db(
      [&](store::SqliteDb& db) -> Status {
        PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("INSERT INTO agent_messages (conversation_id, seq, role, run_id, "
                                                   "content, sql, data, created_at) VALUES (?1, (SELECT "
                                                   "coalesce(max(seq), 0) + 1 FROM agent_messages WHERE "
                                                   "conversation_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7)"));
        st.bind(1, conversation_id).bind(2, message.role).bind(3, message.run_id).bind(4, message.content);
        st.bind(5, message.sql).bind(6, message.data.dump()).bind(7, now);
        PLUTO_TRY(st.run());
        PLUTO_ASSIGN_OR_RETURN(auto up, db.prepare("UPDATE agent_conversations SET updated_at = ? WHERE id = ?"));
        up.bind(1, now).bind(2, conversation_id);
        return up.run();
      },
      /*transaction=*/true);
}

Result<std::vector<Turn>> Records::turns(const std::string& conversation_id, size_t limit) {
  PLUTO_ASSIGN_OR_RETURN(auto c, conversation(conversation_id));
  std::vector<Turn> out;
  if (!c) return out;
  std::string question;
  for (const auto& m : c->messages) {
    if (m.role == "user") {
      question = m.content;
    } else if (m.role == "assistant" && !question.empty()) {
      out.push_back({question, m.sql, m.content});
      question.clear();
    }
  }
  if (out.size() > limit) out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
  return out;
}

Status Records::save_run(const RunRecord& run) {
  return store_.with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st,
                           db.prepare("INSERT OR REPLACE INTO agent_runs (run_id, conversation_id, question, "
                                      "provider, model, created_at, resumed_from) VALUES (?, ?, ?, ?, ?, ?, ?)"));
    st.bind(1, run.run_id).bind(2, run.conversation_id).bind(3, run.question).bind(4, run.provider);
    st.bind(5, run.model).bind(6, run.created_at).bind(7, run.resumed_from);
    return st.run();
  });
}

Result<std::optional<RunRecord>> Records::run(const std::string& run_id) {
  std::optional<RunRecord> out;
  PLUTO_TRY(store_.with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("SELECT run_id, conversation_id, question, provider, model, created_at, "
                                               "resumed_from FROM agent_runs WHERE run_id = ?"));
    st.bind(1, run_id);
    PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) out = RunRecord{st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), st.text(5), st.text(6)};
    return {};
  }));
  return out;
}

Status Records::save_checkpoint(const std::string& run_id, int step, const std::string& node, const std::string& next,
                                const json& state) {
  return store_.with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("INSERT OR REPLACE INTO agent_checkpoints (run_id, step, node, next, "
                                               "state, created_at) VALUES (?, ?, ?, ?, ?, ?)"));
    st.bind(1, run_id).bind(2, step).bind(3, node).bind(4, next);
    st.bind(5, state.dump(-1, ' ', false, json::error_handler_t::replace)).bind(6, now_rfc3339());
    return st.run();
  });
}

Result<std::vector<CheckpointRecord>> Records::checkpoints(const std::string& run_id, bool with_state) {
  std::vector<CheckpointRecord> out;
  PLUTO_TRY(store_.with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("SELECT step, node, next, created_at, CASE WHEN ?2 THEN state END "
                                               "FROM agent_checkpoints WHERE run_id = ?1 ORDER BY step"));
    st.bind(1, run_id).bind(2, with_state ? 1 : 0);
    while (true) {
      PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      CheckpointRecord c{run_id, static_cast<int>(st.int64(0)), st.text(1), st.text(2), st.text(3), nullptr};
      if (with_state && !st.is_null(4)) c.state = parse_or_empty(st.text(4));
      out.push_back(std::move(c));
    }
    return {};
  }));
  return out;
}

Result<std::optional<CheckpointRecord>> Records::last_checkpoint(const std::string& run_id) {
  std::optional<CheckpointRecord> out;
  PLUTO_TRY(store_.with_db([&](store::SqliteDb& db) -> Status {
    PLUTO_ASSIGN_OR_RETURN(auto st, db.prepare("SELECT step, node, next, created_at, state FROM agent_checkpoints "
                                               "WHERE run_id = ? ORDER BY step DESC LIMIT 1"));
    st.bind(1, run_id);
    PLUTO_ASSIGN_OR_RETURN(bool row, st.step());
    if (row) {
      out = CheckpointRecord{run_id,     static_cast<int>(st.int64(0)), st.text(1), st.text(2),
                             st.text(3), parse_or_empty(st.text(4))};
    }
    return {};
  }));
  return out;
}

}  // namespace pluto::agent
