#!/usr/bin/env bash
# National-scale benchmark: a synthetic set of every municipality (1,741 × 3 editions,
# about 1.5 million project-year rows) generated, imported into SQLite and PostgreSQL,
# checked, backed up; the aggregations behind reports and comparisons timed on both, the
# same aggregation timed in DuckDB over the exported CSV (same script, ratio printed, figures
# compared); the portal loaded with wrk (2 threads, 50 connections) on policy, project,
# search and comparison pages and the comparison API, on both backends; search latency over
# many different queries; and the portal's p99 while an import runs. Prints Markdown.
#
# Needs: wrk, curl, python3 (the script makes a venv with duckdb under target/), PostgreSQL
# at $KEIKAKU_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres; the
# database keikaku_bench is dropped and created). Nothing leaves 127.0.0.1.
#
#   bench/national.sh                       # the full set, 10 s per URL
#   MUNICIPALITIES=200 DURATION=3 bench/national.sh   # a quick run
#   PROFILE=debug MUNICIPALITIES=30 DURATION=1 RUNS=3 bench/national.sh   # CI's smoke test
#
# Exits non-zero if a step fails or DuckDB's figures differ from keikaku's.
set -euo pipefail
cd "$(dirname "$0")/.."
municipalities="${MUNICIPALITIES:-1741}"
editions="${EDITIONS:-3}"
duration="${DURATION:-10}"
runs="${RUNS:-30}"
pg_base="${KEIKAKU_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_url="${pg_base%/*}/keikaku_bench"
for tool in wrk curl python3 psql; do
  command -v "$tool" >/dev/null || { echo "bench/national.sh needs $tool (apt-get install wrk curl postgresql-client)"; exit 2; }
done
profile="${PROFILE:-release}"
if [ "$profile" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
bin="$target_dir/$profile/keikaku"
venv="$target_dir/bench-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import duckdb' 2>/dev/null || "$venv/bin/pip" install --quiet duckdb
work=$(mktemp -d)
cleanup() {
  [ -n "${server:-}" ] && kill -TERM "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# `measured LABEL CMD…`: runs CMD and prints a table row with wall time and peak memory.
measured() {
  local label=$1; shift
  python3 - "$label" "$@" <<'PY'
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
took = time.perf_counter() - start
if done.returncode != 0:
    sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
    sys.exit(done.returncode)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"| {sys.argv[1]} | {took:.1f} s | {rss:.0f} MiB |")
PY
}

echo "# keikaku national benchmark"
echo
echo "$(nproc) logical CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%dT%H:%MZ);"
echo "synthetic set: $municipalities municipalities × $editions editions (seed 1); $profile build"
echo
echo "## Generate, import, check, back up"
echo
echo "| step | wall time | peak memory |"
echo "|---|---:|---:|"
measured "synth" "$bin" synth --municipalities "$municipalities" --editions "$editions" --seed 1 --out "$work/plans"
rows=$(python3 - "$work/plans" <<'PY'
import json, os, sys
n = 0
for name in os.listdir(sys.argv[1]):
    with open(os.path.join(sys.argv[1], name), encoding="utf-8") as f:
        plan = json.load(f)
    for m in plan["municipalities"]:
        for e in m["editions"]:
            for g in e["goals"]:
                for p in g["policies"]:
                    for project in p["projects"]:
                        n += len(project["costs"])
print(n)
PY
)
measured "import into SQLite (1 writer)" "$bin" --db "sqlite://$work/nat.db" import "$work/plans"
psql -q "$pg_base" -c "DROP DATABASE IF EXISTS keikaku_bench" -c "CREATE DATABASE keikaku_bench"
measured "import into PostgreSQL (--jobs 2)" "$bin" --db "$pg_url" import --jobs 2 "$work/plans"
measured "check (SQLite)" "$bin" --db "sqlite://$work/nat.db" check
measured "check (PostgreSQL)" "$bin" --db "$pg_url" check
measured "backup (PostgreSQL)" "$bin" --db "$pg_url" backup --out "$work/backup.zip"
measured "export CSV (PostgreSQL)" "$bin" --db "$pg_url" export --format csv --out "$work/csv"
echo
echo "project-year rows: $rows; backup: $(du -h "$work/backup.zip" | cut -f1); CSV: $(du -h "$work/csv" | cut -f1)"

echo
echo "## Aggregations ($runs runs each)"
echo
"$bin" --db "$pg_url" bench --queries --json --runs "$runs" >"$work/pg.json"
"$bin" --db "sqlite://$work/nat.db" bench --queries --json --runs "$runs" >"$work/sqlite.json"
"$venv/bin/python" - "$work/pg.json" "$work/sqlite.json" "$work/csv" "$runs" <<'PY'
import glob, json, sys, time
import duckdb

pg, lite = (json.load(open(p)) for p in sys.argv[1:3])
runs = int(sys.argv[4])
print("| query | PostgreSQL p50 | PostgreSQL p99 | SQLite p50 | SQLite p99 |")
print("|---|---:|---:|---:|---:|")
for a, b in zip(pg["queries"], lite["queries"]):
    print(f"| {a['name']} | {a['p50_ms']:.1f} ms | {a['p99_ms']:.1f} ms | {b['p50_ms']:.1f} ms | {b['p99_ms']:.1f} ms |")

year = pg["year"]
csv = glob.glob(sys.argv[3] + "/*.csv")[0]
con = duckdb.connect()
start = time.perf_counter()
con.execute(f"CREATE TABLE costs AS SELECT * FROM read_csv('{csv}', header=true, all_varchar=true)")
load = time.perf_counter() - start
# The same question as keikaku's national totals by 区分: for each municipality the latest
# edition covering the year; every project of it counted, its cost in that year summed.
query = f"""
WITH editions AS (
  SELECT DISTINCT "全国地方公共団体コード" AS code, "計画期間" AS span,
         CAST(regexp_extract("計画期間", '^R(\\d+)', 1) AS INTEGER) + 2018 AS first,
         CAST(regexp_extract("計画期間", '-R(\\d+)$', 1) AS INTEGER) + 2018 AS last
  FROM costs),
chosen AS (
  SELECT code, arg_max(span, first) AS span FROM editions
  WHERE first <= {year} AND last >= {year} GROUP BY code),
projects AS (
  SELECT c."事業ID" AS id, any_value(c."区分") AS status,
         SUM(CASE WHEN c."年度" = '{year}' THEN TRY_CAST(c."事業費（千円）" AS BIGINT) END) AS total
  FROM costs c JOIN chosen ch ON ch.code = c."全国地方公共団体コード" AND ch.span = c."計画期間"
  GROUP BY c."事業ID")
SELECT status, COUNT(*) AS projects, COALESCE(SUM(total), 0) AS total
FROM projects GROUP BY status ORDER BY total DESC, status
"""
samples = []
for _ in range(runs):
    start = time.perf_counter()
    result = con.execute(query).fetchall()
    samples.append((time.perf_counter() - start) * 1000)
samples.sort()
duck = samples[len(samples) // 2]
mine = {r["status"]: (r["projects"], r["total"]) for r in pg["national_by_status"]}
theirs = {s: (p, t) for s, p, t in result}
print()
print(f"DuckDB {duckdb.__version__}, the same national totals by 区分 for FY{year} from the exported CSV "
      f"(loaded in {load:.1f} s): p50 {duck:.1f} ms over {runs} runs; same figures as keikaku: "
      f"{'yes' if mine == theirs else 'NO: ' + repr((mine, theirs))}")
if mine != theirs:
    sys.exit(1)
by_name = {q["name"]: q for q in pg["queries"]}
stored = by_name["national totals by status (stored totals)"]["p50_ms"]
raw = by_name["national totals by status from every project (no stored totals)"]["p50_ms"]
print(f"ratio to DuckDB (p50): keikaku on PostgreSQL with stored totals {stored / duck:.2f}×, "
      f"computed from every project {raw / duck:.2f}× (below 1 is faster than DuckDB)")
PY

# `serve_on URL`: starts the server and waits until it has loaded the plans.
serve_on() {
  "$bin" --db "$1" serve --addr 127.0.0.1:0 >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do grep -q "serving http://" "$work/serve.log" && break; sleep 0.1; done
  base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -n 1)
  local started=$SECONDS
  until curl -fs -o /dev/null "$base/healthz" 2>/dev/null; do sleep 0.2; done
  echo "server on $2 ready in $((SECONDS - started)) s; memory (RSS) $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' "/proc/$server/status")"
}

wrk_row() { # label url
  local out rps p50 p99 non2xx
  out=$(wrk -t2 -c50 -d"${duration}s" --latency "$2" 2>&1)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

# (Globs, not `ls | head`: with pipefail, head closing the pipe early would end the script.)
plans=("$work"/plans/*.json)
first=$(basename "${plans[0]}"); code=${first%.json}
ten=$(for f in "${plans[@]:0:10}"; do basename "$f" .json; done | paste -sd, -)
last_span=$(python3 -c "import json,sys; e=json.load(open(sys.argv[1]))['municipalities'][0]['editions'][-1]; print(f\"r{e['first_year']-2018}-r{e['last_year']-2018}\")" "$work/plans/$first")
policy="/$code/$last_span/policies/1-1"

for backend in PostgreSQL SQLite; do
  if [ "$backend" = PostgreSQL ]; then url="$pg_url"; else url="sqlite://$work/nat.db"; fi
  echo
  echo "## Portal on $backend (wrk -t2 -c50, ${duration} s per URL)"
  echo
  serve_on "$url" "$backend"
  project=$(curl -fsS "$base$policy" | grep -o "href=\"/$code/$last_span/projects/[0-9-]*\"" | head -n 1 | cut -d'"' -f2)
  echo
  echo "| URL | requests/s | p50 | p99 | non-2xx |"
  echo "|---|---:|---:|---:|---:|"
  wrk_row "policy page $policy" "$base$policy"
  wrk_row "project page $project" "$base$project"
  wrk_row "search across all municipalities (移住)" "$base/search?q=%E7%A7%BB%E4%BD%8F"
  wrk_row "search within a prefecture (子育て, 北海道)" "$base/search?q=%E5%AD%90%E8%82%B2%E3%81%A6&pref=1"
  wrk_row "comparison page (北海道, by field)" "$base/compare?pref=1&by=field"
  wrk_row "comparison API (10 municipalities)" "$base/api/v1/compare?municipalities=$ten&by=status"
  echo
  # Many different searches, one after another: no two alike, so none is answered from cache.
  python3 - "$base" <<'PY'
import random, sys, time, urllib.parse, urllib.request
words = ["移住", "子育て", "道路", "観光", "ふるさと", "防災", "学校", "福祉", "農業", "商店街", "公園",
         "上下水道", "ＩＣＴ", "ict", "デジタル", "健康", "高齢者", "図書", "文化", "スポーツ", "環境",
         "ごみ", "脱炭素", "交通", "バス", "空き家", "起業", "雇用", "保育", "給食", "相談", "情報発信",
         "整備", "支援", "推進", "補助", "協働", "協力隊", "再生可能", "森林"]
rng = random.Random(7)
samples = []
for i in range(400):
    q = rng.choice(words) if i % 3 else rng.choice(words) + " " + rng.choice(words)
    params = {"q": q, "page": str(1 + i % 3)}
    if i % 4 == 0:
        params["pref"] = str(1 + i % 47)
    url = sys.argv[1] + "/search?" + urllib.parse.urlencode(params)
    start = time.perf_counter()
    with urllib.request.urlopen(url) as reply:
        reply.read()
    samples.append((time.perf_counter() - start) * 1000)
samples.sort()
pick = lambda p: samples[min(len(samples) - 1, round((len(samples) - 1) * p))]
print(f"search, 400 different queries one at a time: p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {samples[-1]:.1f} ms")
PY
  if [ "$backend" = PostgreSQL ]; then
    # While 200 municipalities' plans are replaced, the portal keeps answering.
    mkdir -p "$work/some"
    cp "${plans[@]:0:200}" "$work/some/"
    "$bin" --db "$url" import --replace "$work/some" >/dev/null 2>&1 &
    importer=$!
    sleep 0.5
    echo
    echo "| during an import of 200 municipalities (--replace) | requests/s | p50 | p99 | non-2xx |"
    echo "|---|---:|---:|---:|---:|"
    wrk_row "policy page" "$base$policy"
    if kill -0 "$importer" 2>/dev/null; then still="still running"; else still="finished"; fi
    wait "$importer"
    echo
    echo "(the import was $still when wrk stopped)"
  fi
  kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=
done
