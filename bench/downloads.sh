#!/usr/bin/env bash
# Memory of `keikaku serve` while it streams the whole database's downloads: generates the
# synthetic national set (1,741 municipalities × 3 editions, seed 1), imports it into SQLite,
# starts the server, and for /opendata/all/csv and /opendata/all/json (and the CSV to a
# client reading at 20 MB/s) prints the server's RSS before, at its peak during, and after
# each download, the size and time, and whether the bytes equal `keikaku export`'s.
# Prints Markdown. Nothing leaves 127.0.0.1.
#
#   bench/downloads.sh                                  # the national set, release build
#   MUNICIPALITIES=150 EDITIONS=2 bench/downloads.sh    # a quick run
#   PROFILE=debug MUNICIPALITIES=30 bench/downloads.sh  # a smoke test
#
# Needs curl and python3. Exits non-zero if a download differs from the CLI's export.
set -euo pipefail
cd "$(dirname "$0")/.."
municipalities="${MUNICIPALITIES:-1741}"
editions="${EDITIONS:-3}"
profile="${PROFILE:-release}"
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "bench/downloads.sh needs $tool"; exit 2; }
done
if [ "$profile" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
bin="$target_dir/$profile/keikaku"
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill -TERM "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

db="sqlite://$work/keikaku.db"
"$bin" synth --municipalities "$municipalities" --editions "$editions" --seed 1 --out "$work/plans" >/dev/null
"$bin" --db "$db" import "$work/plans" >/dev/null
"$bin" --db "$db" export --format csv --out "$work/cli" >/dev/null
"$bin" --db "$db" export --format json --out "$work/cli" >/dev/null

"$bin" --db "$db" serve --addr 127.0.0.1:0 --no-sample >"$work/serve.log" 2>&1 &
server=$!
addr=""
for _ in $(seq 600); do
  addr=$(sed -n 's|.*serving http://\([^/]*\)/.*|\1|p' "$work/serve.log")
  if [ -n "$addr" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/healthz")" = 200 ]; then break; fi
  sleep 0.1
done
[ -n "$addr" ] || { echo "the server did not start"; cat "$work/serve.log"; exit 1; }

rss() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }

# `download LABEL PATH [CURL OPTIONS…]`: one table row.
download() {
  local label=$1 path=$2; shift 2
  sleep 2
  local before; before=$(rss)
  : >"$work/samples"
  ( while :; do rss >>"$work/samples"; echo >>"$work/samples"; sleep 0.1; done ) &
  local sampler=$!
  local stats
  stats=$(curl -s "$@" -o "$work/got" -w '%{http_code} %{size_download} %{time_total}' "http://$addr$path")
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  sleep 2
  local after; after=$(rss)
  local peak; peak=$(sort -n "$work/samples" | tail -1)
  read -r code size took <<<"$stats"
  local same="no"
  case "$path" in
    */csv) cmp -s "$work/got" "$work"/cli/*.csv && same="yes" ;;
    */json) cmp -s "$work/got" "$work"/cli/*.json && same="yes" ;;
  esac
  printf '| %s | %s | %.0f MB | %.1f s | %s MiB | %s MiB | **+%s MiB** | %s MiB | %s |\n' \
    "$label" "$code" "$(awk "BEGIN {print $size / 1000000}")" "$took" "$before" "$peak" "$((peak - before))" "$after" "$same"
  [ "$code" = 200 ] && [ "$same" = yes ]
}

echo "# keikaku: memory while streaming the whole database"
echo
echo "$(nproc) logical CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%dT%H:%MZ);"
echo "synthetic set: $municipalities municipalities × $editions editions (seed 1), SQLite; $profile build"
echo
echo "| download | status | size | time | RSS before | RSS peak during | growth | RSS after | same bytes as \`keikaku export\` |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
download "/opendata/all/csv" /opendata/all/csv
download "/opendata/all/json" /opendata/all/json
download "/opendata/all/csv, client at 20 MB/s" /opendata/all/csv --limit-rate 20M
