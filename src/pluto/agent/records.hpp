#pragma once
// The agent's tables in the metadata store (its own migrations): conversations and their messages,
// runs (which conversation, which provider, resumed from where), and a checkpoint of the state
// after every graph step.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "pluto/agent/state.hpp"
#include "pluto/core/error.hpp"

namespace pluto::store {
class Store;
}

namespace pluto::agent {

struct MessageRecord {
  int64_t seq = 0;
  std::string role;  // user, assistant
  std::string run_id;
  std::string content;
  std::string sql;
  nlohmann::json data = nlohmann::json::object();  // chart, row_count, error…
  std::string created_at;
};

struct ConversationRecord {
  std::string id;
  std::string title;
  std::string created_at;
  std::string updated_at;
  std::vector<MessageRecord> messages;
  nlohmann::json to_json() const;
};

struct RunRecord {
  std::string run_id;
  std::string conversation_id;
  std::string question;
  std::string provider;
  std::string model;
  std::string created_at;
  std::string resumed_from;  // run id, or empty
};

struct CheckpointRecord {
  std::string run_id;
  int step = 0;
  std::string node;
  std::string next;
  std::string created_at;
  nlohmann::json state;  // null unless asked for
};

class Records {
 public:
  explicit Records(store::Store& store) : store_(store) {}
  static Status migrate(store::Store& store);

  Result<std::string> create_conversation(const std::string& title);
  Result<std::optional<ConversationRecord>> conversation(const std::string& id, bool with_messages = true);
  Status add_message(const std::string& conversation_id, const MessageRecord& message);
  // Question/answer pairs of a conversation, oldest first (the last `limit`).
  Result<std::vector<Turn>> turns(const std::string& conversation_id, size_t limit);

  Status save_run(const RunRecord& run);
  Result<std::optional<RunRecord>> run(const std::string& run_id);

  Status save_checkpoint(const std::string& run_id, int step, const std::string& node, const std::string& next,
                         const nlohmann::json& state);
  Result<std::vector<CheckpointRecord>> checkpoints(const std::string& run_id, bool with_state);
  Result<std::optional<CheckpointRecord>> last_checkpoint(const std::string& run_id);

 private:
  store::Store& store_;
};

}  // namespace pluto::agent
