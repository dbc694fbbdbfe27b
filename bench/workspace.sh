#!/usr/bin/env bash
# The staff workspace under load: a synthetic national set (default 1,741 municipalities × 3
# editions) imported into SQLite; 20 planning accounts each save project forms in a draft of
# their own through the admin API (validation + store + audit) while wrk reads the public
# portal. Prints save latency (p50/p90/p99/max) and the portal's requests/s and p99 alone and
# during the saves, in one run (see bench/workspace_save.py). Nothing leaves 127.0.0.1.
#
#   bench/workspace.sh                                  # the full national set
#   MUNICIPALITIES=100 DURATION=3 bench/workspace.sh    # a quick run
#   USERS=20 THINK=0.5 bench/workspace.sh               # more frequent saves
set -euo pipefail
cd "$(dirname "$0")/.."
municipalities="${MUNICIPALITIES:-1741}"
editions="${EDITIONS:-3}"
duration="${DURATION:-10}"
users="${USERS:-20}"
think="${THINK:-1}"
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "bench/workspace.sh needs $tool (apt-get install wrk curl)"; exit 2; }
done
profile="${PROFILE:-release}"
if [ "$profile" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
bin="$target_dir/$profile/keikaku"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" synth --municipalities "$municipalities" --editions "$editions" --seed 1 --out "$work/plans" >/dev/null
start=$EPOCHREALTIME
"$bin" --db "sqlite://$work/nat.db" import "$work/plans" >/dev/null
awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "national set imported in %.1f s\n\n", b - a }'
python3 bench/workspace_save.py --bin "$bin" --db "$work/nat.db" --users "$users" --duration "$duration" --think "$think"
