#!/bin/sh
# The 50 MB stray-lines case through the command, as a user meets it: the sample plan followed
# by 16-byte lines that belong to no plan, to 50 MiB. Prints, for `validate` and `import`,
# the exit status, wall time, peak memory (RSS), the bytes printed and whether anything was
# stored. Needs GNU time (/usr/bin/time). Run from the repository root:
#
#   cargo build --release && bench/input.sh [path/to/keikaku]
#
# The figures are recorded in docs/benchmarks.md.
set -eu
bin=${1:-target/release/keikaku}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
seed=data/samples/shirakawa-r2-r4-goal7.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

size=$((50 * 1024 * 1024))
{
    cat "$seed"
    echo
    yes 'stray line 0000' | head -c $((size - $(wc -c <"$seed") - 1))
} >"$work/junk.txt"
echo "input: $(wc -c <"$work/junk.txt") bytes, $(wc -l <"$work/junk.txt") lines"

for command in validate import; do
    status=0
    /usr/bin/time -o "$work/time" -f '%e %M' \
        "$bin" --db "sqlite://$work/k.db" --lang en "$command" "$work/junk.txt" \
        --municipality 072052 --municipality-name 白河市 \
        >"$work/out" 2>"$work/err" || status=$?
    read -r seconds kib <<EOF
$(tail -n 1 "$work/time")
EOF
    printed=$(cat "$work/out" "$work/err" | wc -c)
    echo "$command: exit $status, ${seconds} s, peak RSS $((kib / 1024)) MiB, ${printed} bytes printed"
    tail -n 2 "$work/out" "$work/err" | cut -c1-200
done
stored=$("$bin" --db "sqlite://$work/k.db" --lang en editions 2>&1 | grep -c R2-R4 || true)
echo "editions stored: $stored"
