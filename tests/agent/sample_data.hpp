#pragma once
// Loads the bundled sample shop (data/sample/shop/*.csv) into a real DuckDB warehouse file.
#include <string>

#include "pluto/warehouse/duckdb_api.hpp"
#include "pluto/warehouse/warehouse.hpp"

namespace pluto::testing {

inline constexpr const char* kShopTables[] = {"customers", "products", "orders", "order_items", "payments"};

inline Status load_sample_shop(warehouse::Connection& conn) {
  for (const char* table : kShopTables) {
    const std::string path = std::string(PLUTO_SOURCE_DIR) + "/data/sample/shop/" + table + ".csv";
    PLUTO_TRY(conn.run("CREATE OR REPLACE TABLE " + warehouse::quote_identifier(table) + " AS SELECT * FROM read_csv(" +
                       warehouse::quote_literal(path) + ")"));
  }
  return {};
}

inline warehouse::WarehouseOptions warehouse_options_for(const std::string& path) {
  warehouse::WarehouseOptions o;
  o.path = path;
  o.pool_size = 4;
  o.threads = 2;
  return o;
}

}  // namespace pluto::testing
