// pluto-duck: a local-first analytics studio around an embedded DuckDB warehouse.
#include "pluto/app/app.hpp"
#include "pluto/cli/cli.hpp"

int main(int argc, char** argv) {
  return pluto::cli::run(argc, argv, pluto::app::runtime_factory());
}
