#!/usr/bin/env bash
# Load test of the portal on 127.0.0.1: the release server with the bundled sample plan,
# measured with wrk (2 threads, 50 connections, DURATION seconds per URL), and in the same run
# nginx serving a saved copy of the same policy page as a static file, for a ratio.
# Prints a table of requests/s and latency percentiles and the server's memory (RSS) after the
# run. Needs wrk and nginx (Debian: apt-get install wrk nginx). Nothing leaves 127.0.0.1.
#
#   bench/portal.sh            # 10 s per URL
#   DURATION=5 bench/portal.sh
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${DURATION:-10}"
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "bench/portal.sh needs $tool (apt-get install wrk nginx curl)"; exit 2; }
done
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/keikaku"
work=$(mktemp -d)
cleanup() {
  [ -n "${server:-}" ] && kill -TERM "$server" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" --db "sqlite://$work/bench.db" serve --addr 127.0.0.1:0 >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do grep -q "serving http://" "$work/serve.log" && break; sleep 0.1; done
base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -n 1)
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$base/healthz" && break; sleep 0.1; done

policy="/072052/r2-r4/policies/7-1"
mkdir -p "$work/www" "$work/tmp"
curl -fsS "$base$policy" -o "$work/www/policy.html"
# nginx workers run as an unprivileged user: let them read the page.
chmod 755 "$work" "$work/www" && chmod 644 "$work/www/policy.html"
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  server {
    listen 127.0.0.1:0;
    root $work/www;
    location = /policy.html { default_type "text/html; charset=utf-8"; }
  }
}
CONF
# nginx cannot listen on port 0: find a free port first.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
sed -i "s/listen 127.0.0.1:0;/listen 127.0.0.1:$port;/" "$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work/"
sleep 0.5
curl -fsS "http://127.0.0.1:$port/policy.html" -o /dev/null

run() { # label url
  local out
  out=$(wrk -t2 -c50 -d"${duration}s" --latency "$2" 2>&1)
  local rps p50 p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '| %-34s | %12s | %8s | %8s | %s |\n' "$1" "$rps" "$p50" "$p99" "${non2xx:-0}"
  echo "$rps" >"$work/rps-$3"
}

echo "wrk -t2 -c50 -d${duration}s on $(nproc) logical CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| URL | requests/s | p50 | p99 | non-2xx |"
echo "|---|---:|---:|---:|---:|"
run "nginx: saved policy page (static)" "http://127.0.0.1:$port/policy.html" nginx
run "keikaku: policy page" "$base$policy" policy
run "keikaku: project page" "$base/072052/r2-r4/projects/7-1-3" project
run "keikaku: search (ふるさと)" "$base/072052/r2-r4/search?q=%E3%81%B5%E3%82%8B%E3%81%95%E3%81%A8" search
run "keikaku: API project list" "$base/api/v1/municipalities/072052/editions/r2-r4/projects?per_page=50" api
run "keikaku: open-data CSV" "$base/opendata/072052/r2-r4/csv" csv
echo
ratio=$(awk -v k="$(cat "$work/rps-policy")" -v n="$(cat "$work/rps-nginx")" 'BEGIN { printf "%.0f%%", 100 * k / n }')
echo "policy page: keikaku serves $ratio of nginx's requests/s for the same page"
echo "page size: $(wc -c <"$work/www/policy.html") bytes"
rss=$(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' "/proc/$server/status")
echo "keikaku memory after the run (RSS): $rss"
