#!/usr/bin/env bash
# Memory of the portal under requests that must not grow it: the release server on the
# bundled sample plan, its resident memory (RSS, from /proc) read before and after 2,000
# requests with distinct parameters to a page, the API and each kind of download:
#
#   bogus     ?n=1 … ?n=2000: parameters no route takes (answered 400, never kept)
#   tracking  ?utm_source=1 … : links shared with tracking parameters (answered 200 from the
#             one cached copy of the plain URL)
#
# and, on a second server started with a small cache (SMALL, default 16MiB), 2,000 distinct
# searches (all answered 200 and worth keeping): the cache stays within its budget.
# Prints a Markdown table. Nothing leaves 127.0.0.1.
#
#   bench/cache.sh
#   KEIKAKU_BIN=/path/to/keikaku bench/cache.sh     # measure another build
#   REQUESTS=500 bench/cache.sh
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${REQUESTS:-2000}"
small="${SMALL:-16MiB}"
if [ -z "${KEIKAKU_BIN:-}" ]; then
  cargo build --release --quiet
  KEIKAKU_BIN="${CARGO_TARGET_DIR:-target}/release/keikaku"
fi
bin=$(realpath "$KEIKAKU_BIN")
work=$(mktemp -d)
servers=()
cleanup() {
  for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" --db "sqlite://$work/bench.db" demo >/dev/null

start() { # name extra-args… ; sets $base and $pid
  local log="$work/serve-$1.log"
  shift
  (cd "$work" && exec "$bin" --db "sqlite://$work/bench.db" serve --addr 127.0.0.1:0 "$@") >"$log" 2>&1 &
  pid=$!
  servers+=("$pid")
  for _ in $(seq 1 100); do grep -q "serving http://" "$log" && break; sleep 0.1; done
  base=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -n 1)
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "$base/healthz" && break; sleep 0.1; done
}

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; } # KiB

# Sends REQUESTS requests to URL with a distinct parameter NAME=i each, on one keep-alive
# connection; prints the count of each status.
hammer() { # base path name
  python3 - "$1" "$2" "$3" "$requests" <<'PY'
import collections, http.client, sys, urllib.parse
base, path, name, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
host = urllib.parse.urlparse(base).netloc
conn = http.client.HTTPConnection(host, timeout=60)
statuses = collections.Counter()
sep = "&" if "?" in path else "?"
for i in range(1, count + 1):
    value = f"{name}{i}" if "=" in name else f"{name}={i}"
    conn.request("GET", f"{path}{sep}{value}")
    response = conn.getresponse()
    response.read()
    statuses[response.status] += 1
print(" ".join(f"{s}×{n}" for s, n in sorted(statuses.items())))
PY
}

targets=(
  "/072052/r2-r4/policies/7-1"
  "/api/v1/municipalities/072052/editions/r2-r4/projects"
  "/opendata/072052/r2-r4/csv"
  "/opendata/072052/r2-r4/csv-sjis"
  "/opendata/072052/r2-r4/xlsx"
  "/opendata/072052/r2-r4/json"
  "/opendata/072052/r2-r4/datapackage"
  "/opendata/all/xlsx"
)

start default
echo "$requests requests per row, one connection, $(nproc) logical CPUs, $(date -u +%Y-%m-%dT%H:%MZ); binary $bin"
echo
# Every URL once without parameters: what is kept from now on is the steady state.
for t in "${targets[@]}"; do curl -fsS -o /dev/null "$base$t"; done
echo "| requests | answers | RSS before | RSS after | growth |"
echo "|---|---|---:|---:|---:|"
row() { # label path name
  local before after answers
  before=$(rss "$pid")
  answers=$(hammer "$base" "$2" "$3")
  after=$(rss "$pid")
  printf '| %s | %s | %.1f MiB | %.1f MiB | %+.1f MiB |\n' "$1" "$answers" \
    "$(bc -l <<<"$before/1024")" "$(bc -l <<<"$after/1024")" "$(bc -l <<<"($after-$before)/1024")"
}
first=$(rss "$pid")
for t in "${targets[@]}"; do row "\`$t?n=…\` (bogus)" "$t" n; done
for t in "${targets[@]}"; do row "\`$t?utm_source=…\` (tracking)" "$t" utm_source; done
last=$(rss "$pid")
printf '| **all of the above** (%d requests) | | %.1f MiB | %.1f MiB | **%+.1f MiB** |\n' \
  "$((requests * ${#targets[@]} * 2))" "$(bc -l <<<"$first/1024")" "$(bc -l <<<"$last/1024")" \
  "$(bc -l <<<"($last-$first)/1024")"

if ! "$bin" serve --help | grep -q -- --cache-bytes; then
  echo
  echo "(this binary has no --cache-bytes: the bounded-cache rows are skipped)"
  exit 0
fi
start small --cache-bytes "$small"
curl -fsS -o /dev/null "$base/072052/r2-r4"
first=$(rss "$pid")
row "\`/072052/r2-r4/search?q=事業 1…\` (distinct searches, \`--cache-bytes $small\`)" \
  "/072052/r2-r4/search" "q=%E4%BA%8B%E6%A5%AD+"
row "\`/072052/r2-r4/search?q=事業 x1…\` (2,000 more distinct searches)" \
  "/072052/r2-r4/search" "q=%E4%BA%8B%E6%A5%AD+x"
last=$(rss "$pid")
printf '| **both** (%d distinct pages, each kept until evicted) | | %.1f MiB | %.1f MiB | **%+.1f MiB** |\n' \
  "$((requests * 2))" "$(bc -l <<<"$first/1024")" "$(bc -l <<<"$last/1024")" \
  "$(bc -l <<<"($last-$first)/1024")"
