# dbt for the transform component: dbt-core + dbt-duckdb (on duckdb 1.4.4, the storage format of our
# libduckdb) from PyPI into the git-ignored virtual environment $ROOT/.venv, where pluto-duck finds
# $ROOT/.venv/bin/dbt by default (dbt.executable overrides it). Sourced by scripts/setup (bash,
# `set -euo pipefail`, ROOT, TP, log, die, apt_ensure). Idempotent: a stamp keyed on the lock file.

dbt_ensure() {
  local venv="$ROOT/.venv" req="$ROOT/scripts/setup.d/dbt.requirements.txt"
  local key stamp
  key=$(sha256sum "$req" | cut -c1-16)
  stamp="$TP/.stamp-dbt-$key"
  if [[ -f "$stamp" && -x "$venv/bin/dbt" ]]; then return 0; fi

  log "installing dbt-core + dbt-duckdb (pinned in scripts/setup.d/dbt.requirements.txt) into .venv"
  local py=python3
  # A venv that no longer runs (its python moved or was removed) is rebuilt from scratch.
  if [[ -d "$venv" ]] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then rm -rf "$venv"; fi
  if [[ ! -x "$venv/bin/python" ]]; then
    if ! "$py" -m venv "$venv" >/dev/null 2>&1; then
      # Debian's python3 ships venv (ensurepip) separately.
      rm -rf "$venv"
      apt_ensure python3-venv
      py=/usr/bin/python3
      "$py" -m venv "$venv" || die "cannot create a virtual environment at $venv with $py -m venv"
    fi
  fi

  # The lock holds the hashes of CPython 3.11 / Linux x86_64 wheels; elsewhere install the same
  # exact versions without hashes (other wheels of the same releases).
  local tag req_used="$req"
  tag=$("$venv/bin/python" -c 'import platform,sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}-{platform.machine()}")')
  if [[ "$tag" != "3.11-x86_64" ]]; then
    log "python is $tag (the lock's hashes are for 3.11-x86_64): installing the same pins without hashes"
    req_used=$(mktemp)
    sed -e 's/ \\$//' -e '/--hash=/d' "$req" >"$req_used"
  fi
  local hash_flag=()
  [[ "$req_used" == "$req" ]] && hash_flag=(--require-hashes)
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: "${hash_flag[@]}" \
    -r "$req_used" || die "pip install of the pinned dbt packages failed (is PyPI reachable?)"
  [[ "$req_used" != "$req" ]] && rm -f "$req_used"

  # Verify what the product relies on: the dbt CLI runs, the duckdb adapter loads, duckdb is 1.4.4.
  local want_core want_duckdb want_adapter
  want_core=$(sed -n 's/^dbt-core==\([^ ]*\).*/\1/p' "$req")
  want_adapter=$(sed -n 's/^dbt-duckdb==\([^ ]*\).*/\1/p' "$req")
  want_duckdb=$(sed -n 's/^duckdb==\([^ ]*\).*/\1/p' "$req")
  local versions
  versions=$("$venv/bin/python" -c 'import importlib.metadata as m, duckdb
print(m.version("dbt-core"), m.version("dbt-duckdb"), duckdb.__version__)') ||
    die "the dbt packages in $venv do not import"
  [[ "$versions" == "$want_core $want_adapter $want_duckdb" ]] ||
    die "dbt versions in $venv are '$versions', expected '$want_core $want_adapter $want_duckdb'"
  DBT_SEND_ANONYMOUS_USAGE_STATS=false "$venv/bin/dbt" --version 2>&1 | grep -q "duckdb" ||
    die "$venv/bin/dbt --version does not list the duckdb adapter"

  rm -f "$TP"/.stamp-dbt-*
  touch "$stamp"
  log "dbt-core $want_core with dbt-duckdb $want_adapter (duckdb $want_duckdb) ready in .venv"
}
dbt_ensure
