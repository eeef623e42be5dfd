# Node-side test tools (tests/js): playwright-core, which drives Debian's chromium for the UI tests,
# and apache-arrow, which reads Arrow IPC downloads back. Both pinned by tests/js/package-lock.json
# (integrity hashes), installed with `npm ci`. Chromium comes from Debian (apt), never a downloaded
# browser build. Sourced by scripts/setup (set -euo pipefail; ROOT, TP, log, die, apt_ensure
# available). Idempotent: a stamp holding the lockfile's hash skips it.
js_tools_ensure() {
  apt_ensure chromium
  local dir="$ROOT/tests/js" stamp="$ROOT/tests/js/node_modules/.stamp-lock"
  local want
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && return 0
  log "installing the node test tools (playwright-core, apache-arrow) from tests/js/package-lock.json"
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) ||
    die "npm ci in tests/js failed (is the npm registry reachable?)"
  echo "$want" >"$stamp"
}

js_tools_ensure
