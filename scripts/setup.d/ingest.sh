# Ingestion test data: the csv-spectrum corpus (CSV edge cases, each with its expected JSON), from the
# npm registry, pinned and checksummed, into third_party/testdata/csv-spectrum. Sourced by
# scripts/setup (set -euo pipefail; ROOT, TP, log, die available). Idempotent: a stamp skips it.
CSV_SPECTRUM_VERSION=2.0.0
CSV_SPECTRUM_SHA256=002a6a938bf51ceb26af7b760f5c1b54baca4820b0e9142f135619210c93d021

csv_spectrum_ensure() {
  local dest="$TP/testdata/csv-spectrum" stamp="$TP/testdata/.stamp-csv-spectrum-$CSV_SPECTRUM_VERSION"
  [[ -f "$stamp" && -d "$dest/csvs" ]] && return 0
  log "putting the csv-spectrum $CSV_SPECTRUM_VERSION test corpus in place from the npm registry"
  command -v npm >/dev/null || die "npm is needed to fetch csv-spectrum (apt-get install npm)"
  local tgz="$TP/cache/csv-spectrum-$CSV_SPECTRUM_VERSION.tgz" tmp
  mkdir -p "$TP/cache" "$TP/testdata"
  if ! { [[ -f "$tgz" ]] && echo "$CSV_SPECTRUM_SHA256  $tgz" | sha256sum -c --status; }; then
    tmp=$(mktemp -d)
    if ! (cd "$tmp" && npm pack --silent "csv-spectrum@$CSV_SPECTRUM_VERSION" >/dev/null 2>&1); then
      rm -rf "$tmp"
      die "npm pack csv-spectrum@$CSV_SPECTRUM_VERSION failed (is the npm registry reachable?)"
    fi
    mv "$tmp"/csv-spectrum-*.tgz "$tgz"
    rm -rf "$tmp"
    echo "$CSV_SPECTRUM_SHA256  $tgz" | sha256sum -c --status || die "checksum mismatch for $tgz"
  fi
  rm -rf "$dest"
  mkdir -p "$dest"
  tar xzf "$tgz" -C "$dest" --strip-components=1 package/csvs package/json package/package.json package/readme.md
  compgen -G "$dest/csvs/*.csv" >/dev/null || die "csv-spectrum unpacked without csvs/*.csv"
  touch "$stamp"
}

csv_spectrum_ensure
