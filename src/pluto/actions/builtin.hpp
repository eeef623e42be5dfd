#pragma once
// The catalog entries of the query service and the warehouse catalog: query.run, query.cancel,
// query.status, table.list, table.describe, table.sample.
#include "pluto/actions/catalog.hpp"
#include "pluto/query/query_service.hpp"

namespace pluto::actions {

// Catalog reads wait for shared warehouse access like queries do (QueryService::with_connection).
// `safe_validator` is applied to query.run with "mode": "safe" (the SQL guard); may be empty, in
// which case safe mode is refused rather than silently unchecked.
void register_query_actions(Catalog& catalog, query::QueryService& queries, const query::SqlValidator& safe_validator);

}  // namespace pluto::actions
