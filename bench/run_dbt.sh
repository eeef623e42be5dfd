#!/usr/bin/env bash
# `pluto-duck dbt build` on the starter project against `dbt build` run directly with the same
# profile, project and warehouse: what the wrapper (job, warehouse close/reopen, JSON log
# streaming, events, run records) adds. Prints a markdown table; figures go in docs/dbt.md.
#
#   bench/run_dbt.sh BUILD_DIR            # e.g. build/release; BENCH_RUNS=N (default 5)
#
# Uses hyperfine when it is installed (apt-get install hyperfine), else (or with BENCH_LOOP=1)
# alternates the two commands N times each (alternating spreads background noise over both).
set -euo pipefail
BUILD=${1:?usage: bench/run_dbt.sh BUILD_DIR}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$(cd "$BUILD" && pwd)/bin/pluto-duck"
DBT="${DBT:-$ROOT/.venv/bin/dbt}"
RUNS=${BENCH_RUNS:-5}
[[ -x "$BIN" ]] || { echo "no pluto-duck at $BIN (build it first)" >&2; exit 2; }
[[ -x "$DBT" ]] || { echo "no dbt at $DBT (run scripts/setup)" >&2; exit 3; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DATA="$WORK/data"
export DBT_SEND_ANONYMOUS_USAGE_STATS=false DO_NOT_TRACK=1

# Warm-up: copies the starter project, writes the profile, loads the seeds, fills dbt's
# partial-parse cache; the direct runs then use the very same profile and project.
"$BIN" --data-dir "$DATA" dbt build >/dev/null
"$DBT" build --project-dir "$DATA/dbt" --profiles-dir "$DATA/dbt/target/profiles" --profile pluto_duck \
  --target warehouse --target-path "$WORK/direct-target" --log-path "$WORK/direct-target" >/dev/null

wrapper=("$BIN" --data-dir "$DATA" dbt build)
direct=("$DBT" build --project-dir "$DATA/dbt" --profiles-dir "$DATA/dbt/target/profiles" --profile pluto_duck
  --target warehouse --target-path "$WORK/direct-target" --log-path "$WORK/direct-target")

stats() { # seconds... -> "mean min max"
  printf '%s\n' "$@" | awk '{s+=$1; if(NR==1||$1<mn)mn=$1; if(NR==1||$1>mx)mx=$1} END {printf "%.3f %.3f %.3f", s/NR, mn, mx}'
}

if [[ -z "${BENCH_LOOP:-}" ]] && command -v hyperfine >/dev/null; then
  hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$WORK/h.json" \
    -n "pluto-duck dbt build" "${wrapper[*]}" -n "dbt build (direct)" "${direct[*]}" >/dev/null
  read -r w_mean w_min w_max d_mean d_min d_max < <(python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))["results"]
print(*[f"{x:.3f}" for x in (r[0]["mean"],r[0]["min"],r[0]["max"],r[1]["mean"],r[1]["min"],r[1]["max"])])' "$WORK/h.json")
  tool="hyperfine, $RUNS runs each after 1 warm-up"
else
  w=(); d=()
  for ((i = 0; i < RUNS; i++)); do
    t0=$(date +%s.%N); "${wrapper[@]}" >/dev/null; t1=$(date +%s.%N)
    "${direct[@]}" >/dev/null; t2=$(date +%s.%N)
    w+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
    d+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN {print b - a}')")
  done
  read -r w_mean w_min w_max <<<"$(stats "${w[@]}")"
  read -r d_mean d_min d_max <<<"$(stats "${d[@]}")"
  tool="alternating loop, $RUNS runs each"
fi
ratio=$(awk -v w="$w_mean" -v d="$d_mean" 'BEGIN {printf "%.3f", w / d}')

echo "dbt build of the starter project (45 nodes), $(nproc) cores, $tool"
echo
echo "| command | mean s | min s | max s |"
echo "|---|---|---|---|"
echo "| \`pluto-duck dbt build\` | $w_mean | $w_min | $w_max |"
echo "| \`dbt build\` (direct, same profile) | $d_mean | $d_min | $d_max |"
echo
echo "ratio pluto-duck / direct: **$ratio** (aim: under 1.05)"

# The wrapper's own fixed cost, without dbt's run-to-run spread: the same command with a dbt that does
# nothing (/bin/true), so what is left is process start, job, events, warehouse hand-off and reopen.
n=(); for ((i = 0; i < 10; i++)); do
  t0=$(date +%s.%N); "$BIN" --data-dir "$DATA" --set dbt.executable=/bin/true dbt build >/dev/null 2>&1 || true
  t1=$(date +%s.%N); n+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
done
read -r n_mean n_min n_max <<<"$(stats "${n[@]}")"
echo
echo "wrapper fixed cost (\`pluto-duck dbt build\` with dbt.executable=/bin/true, 10 runs): mean ${n_mean} s," \
  "min ${n_min} s = $(awk -v n="$n_mean" -v d="$d_mean" 'BEGIN {printf "%.3f", n / d}') of a direct build"
