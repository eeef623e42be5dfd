#!/usr/bin/env bash
# Ingestion benchmark: CSV and Parquet (5,000,000 rows x 10 columns) through IngestService vs DuckDB's
# own CREATE TABLE AS SELECT, and PostgreSQL pgbench_accounts (1,000,000 rows) vs COPY TO STDOUT.
# Usage: bench/run_ingest.sh BUILD_DIR   (a release build; prints a markdown table)
# Environment: ROWS (5000000), PG_SCALE (10 = 1,000,000 rows), REPEAT (3).
set -euo pipefail
BUILD=${1:?usage: bench/run_ingest.sh BUILD_DIR}
BIN="$BUILD/bench/ingest_bench"
[[ -x "$BIN" ]] || { echo "no $BIN; build the ingest_bench target first" >&2; exit 2; }
"$BIN" --run --rows "${ROWS:-5000000}" --pg-scale "${PG_SCALE:-10}" --repeat "${REPEAT:-3}"
