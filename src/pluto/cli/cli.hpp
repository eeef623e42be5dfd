#pragma once
#include "pluto/cli/runtime.hpp"

namespace pluto::cli {

// Parses arguments, runs one subcommand and returns the process exit code.
int run(int argc, char** argv, const RuntimeFactory& factory);

}  // namespace pluto::cli
