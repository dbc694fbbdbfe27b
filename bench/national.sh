#!/usr/bin/env bash
# National-scale benchmark: a synthetic set of every municipality (1,741 × 3 editions,
# about 1.5 million project-year rows) generated, imported into SQLite and PostgreSQL,
# checked, backed up; the aggregations behind reports and comparisons timed on both, the
# same question answered by DuckDB from the exported CSV loaded with typed columns (same
# script: from every project row, and from a table of per-edition totals like keikaku's
# stored ones; ratios printed, figures compared); the portal loaded with wrk (2 threads, 50 connections) on policy, project,
# search and comparison pages and the comparison API, on both backends; search latency over
# many different queries; and the portal's p99 while an import runs. Prints Markdown.
#
# Needs: wrk, curl, python3 (the script makes a venv with duckdb under target/), PostgreSQL
# at $KEIKAKU_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres; the
# database $KEIKAKU_BENCH_DB, default keikaku_bench, is dropped and created, and dropped again
# at the end unless KEEP_BENCH_DB=1). Nothing leaves 127.0.0.1.
#
#   bench/national.sh                       # the full set, 10 s per URL
#   MUNICIPALITIES=200 DURATION=3 bench/national.sh   # a quick run
#   PROFILE=debug MUNICIPALITIES=30 DURATION=1 RUNS=3 bench/national.sh   # CI's smoke test
#   PORTAL=0 bench/national.sh              # import, aggregations and DuckDB only (no wrk)
#
# Exits non-zero if a step fails or DuckDB's figures differ from keikaku's.
set -euo pipefail
cd "$(dirname "$0")/.."
municipalities="${MUNICIPALITIES:-1741}"
editions="${EDITIONS:-3}"
duration="${DURATION:-10}"
runs="${RUNS:-30}"
pg_base="${KEIKAKU_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
bench_db="${KEIKAKU_BENCH_DB:-keikaku_bench}"
case "$bench_db" in *[!a-z0-9_]*|"") echo "KEIKAKU_BENCH_DB: lower-case letters, digits and _ only"; exit 2 ;; esac
pg_url="${pg_base%/*}/$bench_db"
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
  if [ -z "${KEEP_BENCH_DB:-}" ] && [ -n "${bench_db_made:-}" ]; then
    psql -q "$pg_base" -c "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" || true
  fi
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
psql -q "$pg_base" -c "DROP DATABASE IF EXISTS $bench_db" -c "CREATE DATABASE $bench_db"
bench_db_made=1
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
# Loaded as a DuckDB user would: read_csv detects the text columns; the codes keep their
# leading zeros and the numbers are typed (an empty amount is NULL, not 0).
money = ["事業費（千円）", "特定財源（千円）", "一般財源（千円）", "国庫支出金（千円）", "県支出金（千円）",
         "国・県支出金（千円）", "地方債（千円）", "その他特定財源（千円）"]
types = {"全国地方公共団体コード": "VARCHAR", "基本目標番号": "INTEGER", "事業番号": "INTEGER",
         "年度": "SMALLINT", **{m: "BIGINT" for m in money}}
types_sql = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
start = time.perf_counter()
con.execute(f"CREATE TABLE costs AS SELECT * FROM read_csv('{csv}', header = true, types = {types_sql})")
load = time.perf_counter() - start
column_types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                "WHERE table_name = 'costs'").fetchall())
# The same question as keikaku's national totals by 区分: for each municipality the latest
# edition covering the year (an edition's years are those its rows carry); every project of
# it counted, its cost in that year summed.
from_rows = f"""
WITH editions AS (
  SELECT "全国地方公共団体コード" AS code, "計画期間" AS span, min("年度") AS first, max("年度") AS last
  FROM costs GROUP BY ALL),
chosen AS (
  SELECT code, arg_max(span, first) AS span FROM editions
  WHERE first <= {year} AND last >= {year} GROUP BY code),
projects AS (
  SELECT c."事業ID" AS id, any_value(c."区分") AS status,
         SUM(c."事業費（千円）") FILTER (WHERE c."年度" = {year}) AS total
  FROM costs c JOIN chosen ch ON ch.code = c."全国地方公共団体コード" AND ch.span = c."計画期間"
  GROUP BY c."事業ID")
SELECT status, COUNT(*) AS projects, COALESCE(SUM(total), 0) AS total
FROM projects GROUP BY status ORDER BY total DESC, status
"""
# keikaku answers the portal's questions from totals it stores per edition, year and group
# when an edition is written. The same in DuckDB: a table built once, then the question.
start = time.perf_counter()
con.execute("""
CREATE TABLE edition_totals AS
WITH editions AS (
  SELECT "全国地方公共団体コード" AS code, "計画期間" AS span, min("年度") AS first, max("年度") AS last
  FROM costs GROUP BY ALL)
SELECT e.code, e.span, e.first, e.last, c."区分" AS status, c."年度" AS year,
       COUNT(*) AS projects, SUM(c."事業費（千円）") AS total
FROM costs c JOIN editions e ON e.code = c."全国地方公共団体コード" AND e.span = c."計画期間"
GROUP BY ALL""")
build = time.perf_counter() - start
from_totals = f"""
WITH editions AS (SELECT DISTINCT code, span, first, last FROM edition_totals),
chosen AS (
  SELECT code, arg_max(span, first) AS span FROM editions
  WHERE first <= {year} AND last >= {year} GROUP BY code)
SELECT t.status, SUM(t.projects) AS projects, COALESCE(SUM(t.total), 0) AS total
FROM edition_totals t JOIN chosen ch ON ch.code = t.code AND ch.span = t.span
WHERE t.year = {year}
GROUP BY t.status ORDER BY total DESC, t.status
"""

def timed(query):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = con.execute(query).fetchall()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return samples[len(samples) // 2], {s: (int(p), int(t)) for s, p, t in result}

duck_rows, theirs_rows = timed(from_rows)
duck_totals, theirs_totals = timed(from_totals)
mine = {r["status"]: (r["projects"], r["total"]) for r in pg["national_by_status"]}
same = mine == theirs_rows == theirs_totals
print()
print(f"DuckDB {duckdb.__version__}, the same national totals by 区分 for FY{year} from the exported CSV, "
      f"loaded with typed columns in {load:.1f} s (年度 {column_types['年度']}, 事業費 "
      f"{column_types['事業費（千円）']}, 区分 {column_types['区分']}), {runs} runs each: "
      f"from every project row p50 {duck_rows:.1f} ms; from a table of per-edition totals "
      f"(built once in {build:.1f} s) p50 {duck_totals:.1f} ms; same figures as keikaku: "
      f"{'yes' if same else 'NO: ' + repr((mine, theirs_rows, theirs_totals))}")
if not same:
    sys.exit(1)

def p50(run, name):
    return {q["name"]: q for q in run["queries"]}[name]["p50_ms"]

stored_name = "national totals by status (stored totals)"
raw_name = "national totals by status from every project (no stored totals)"
print()
print("| national totals by 区分, p50 | keikaku on PostgreSQL | keikaku on SQLite | DuckDB | "
      "PostgreSQL / DuckDB | SQLite / DuckDB |")
print("|---|---:|---:|---:|---:|---:|")
for label, name, duck in [("from every project", raw_name, duck_rows),
                          ("from stored per-edition totals", stored_name, duck_totals)]:
    a, b = p50(pg, name), p50(lite, name)
    print(f"| {label} | {a:.1f} ms | {b:.1f} ms | {duck:.1f} ms | {a / duck:.2f}× | {b / duck:.2f}× |")
print()
print("(a ratio below 1 means keikaku answers faster than DuckDB)")
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

[ "${PORTAL:-1}" = 0 ] && exit 0

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
