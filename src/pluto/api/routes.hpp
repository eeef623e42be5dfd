#pragma once
// Route files, one per resource. Each registers its routes (with their OpenAPI docs) on the router.
#include "pluto/api/router.hpp"
#include "pluto/api/server.hpp"

namespace pluto::api {

void register_system_routes(Router& r, Services& s, const ServerOptions& o);  // health, actions
void register_query_routes(Router& r, Services& s, const ServerOptions& o);
void register_job_routes(Router& r, Services& s, const ServerOptions& o);
void register_catalog_routes(Router& r, Services& s, const ServerOptions& o);
void register_ingest_routes(Router& r, Services& s, const ServerOptions& o);  // when s.ingest is set
void register_dbt_routes(Router& r, Services& s, const ServerOptions& o);     // when s.dbt is set
void register_agent_routes(Router& r, Services& s, const ServerOptions& o);   // when s.agent is set

}  // namespace pluto::api
