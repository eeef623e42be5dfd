#pragma once
// The ingestion entries of the actions catalog (source.list, source.tables, source.ingest) as plain
// functions: JSON params in, JSON result out, with their JSON Schemas. The actions component lists
// them; routes, the CLI and the agent all end up here.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pluto/core/error.hpp"

namespace pluto::jobs {
class JobRunner;
}

namespace pluto::ingest {

class IngestService;

struct ActionSpec {
  std::string name;         // "source.list"
  std::string description;  // one sentence
  nlohmann::json params_schema;
  nlohmann::json result_schema;
};

// source.list, source.tables, source.ingest.
std::vector<ActionSpec> action_specs();

// {} -> {"sources": [{"name","kind","location","password","attached",…}]} (never a password).
Result<nlohmann::json> source_list(IngestService& service, const nlohmann::json& params);
// {"source": NAME or SOURCE string} -> {"source", "tables": [{"schema","name","kind","bytes"}]}.
Result<nlohmann::json> source_tables(IngestService& service, const nlohmann::json& params);
// {"source","table","mode"?,"options"?} -> {"job_id","status","stream","events_url"}: the ingestion
// runs as a job. `restrict_paths` is set for callers that must stay inside ingest.allowed_dirs
// (HTTP, the agent).
Result<nlohmann::json> source_ingest(IngestService& service, jobs::JobRunner& runner, const nlohmann::json& params,
                                     const std::string& origin, bool restrict_paths);

}  // namespace pluto::ingest
