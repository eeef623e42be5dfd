# Pluto-Duck front door. `make run` and `make test` are the only commands a new user needs:
# both run the setup first (idempotent, about a second when already done).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PRESET      ?= debug
TEST_PRESET ?= asan-ubsan
JOBS        ?= $(shell nproc)
DATA_DIR    ?= $(CURDIR)/build/demo-data
CMAKE_FLAGS ?=
ifeq ($(CI),true)
  CMAKE_FLAGS += -DPLUTO_WERROR=ON
endif

.PHONY: help setup build release test run demo bench format format-check lint clean

help:
	@echo "make run      set up, build (release) and start Pluto-Duck on the bundled sample data"
	@echo "make demo     the same data, shown through the CLI (tables, a query, doctor)"
	@echo "make test     set up, build with AddressSanitizer+UBSan and run every test"
	@echo "make build    build the debug preset (PRESET=release|asan-ubsan|tsan to change)"
	@echo "make bench    build release and run the benchmarks (results in docs/benchmarks.md)"
	@echo "make format   clang-format our sources;  make lint: format check + clang-tidy"

setup:
	@scripts/setup

build: setup
	@cmake --preset $(PRESET) $(CMAKE_FLAGS) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

release:
	@$(MAKE) --no-print-directory build PRESET=release

test: setup
	@cmake --preset $(TEST_PRESET) $(CMAKE_FLAGS) >/dev/null
	@cmake --build --preset $(TEST_PRESET) -j $(JOBS)
	@ctest --preset $(TEST_PRESET) -j $(JOBS)

run: setup release
	@scripts/run "$(CURDIR)/build/release/bin/pluto-duck" "$(DATA_DIR)"

demo: setup release
	@scripts/demo "$(CURDIR)/build/release/bin/pluto-duck" "$(DATA_DIR)"

bench: setup release
	@scripts/bench "$(CURDIR)/build/release"

SOURCES = $(shell git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 2>/dev/null)

format:
	@clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run -Werror $(SOURCES)

lint: setup format-check
	@cmake --preset debug $(CMAKE_FLAGS) >/dev/null
	@run-clang-tidy -quiet -p build/debug $(filter %.cpp,$(filter src/%,$(SOURCES))) 2>/dev/null || \
	  clang-tidy -quiet -p build/debug $(filter %.cpp,$(filter src/%,$(SOURCES)))

clean:
	@rm -rf build
