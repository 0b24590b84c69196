#!/usr/bin/env bash
# Start-up cost of `straitjacket run -- /bin/true` against bare /bin/true, the floor of any
# launcher (coreutils timeout: fork, exec, wait), bubblewrap and
# firejail, and the peak memory (max RSS) of each, as ratios to bare in one run. The minor
# page faults of one start (the whole process tree) are deterministic where wall time on a
# shared machine is not: compare them to judge a change to start-up.
# Usage: tools/bench-startup.sh [N]   (N starts each, default 200; best of 3 batches)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
cargo build -q --release -p straitjacket
sj=$PWD/target/release/straitjacket
batch() { # prints the mean wall time per start in µs, best of 3 batches of N
    local best=
    for _ in 1 2 3; do
        local t0 t1
        t0=$(date +%s%N)
        for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 || true; done
        t1=$(date +%s%N)
        local us=$(( (t1 - t0) / n / 1000 ))
        if [ -z "$best" ] || [ "$us" -lt "$best" ]; then best=$us; fi
    done
    echo "$best"
}
# Max RSS (KiB) and minor page faults of one start, as two columns.
mem() { /usr/bin/time -f "%M %R" "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%12s %8s", $1, $2}'; }
printf '%-42s %10s %8s %12s %8s\n' run "µs/start" ratio "max RSS KiB" faults
bare=$(batch /bin/true)
printf '%-42s %10s %8s %s\n' "/bin/true" "$bare" "1.00" "$(mem /bin/true)"
row() {
    local name=$1; shift
    local us; us=$(batch "$@")
    printf '%-42s %10s %8s %s\n' "$name" "$us" "$(echo "scale=2; $us / $bare" | bc)" "$(mem "$@")"
}
# The floor for any launcher that forks, execs and waits to report the exit status, as `run`
# must: coreutils' timeout, a small C program that does only that.
row "floor: timeout 10 /bin/true" timeout 10 /bin/true
row "straitjacket run -- /bin/true" "$sj" run -- /bin/true
row "straitjacket run --preset strict" "$sj" run --preset strict -- /bin/true
if [ -x target/static/straitjacket ]; then
    row "static-pie: straitjacket run -- /bin/true" target/static/straitjacket run -- /bin/true
else
    echo "static-pie: not built (tools/build-static.sh), skipped"
fi
if command -v bwrap >/dev/null; then
    row "bwrap --ro-bind / / /bin/true" bwrap --ro-bind / / /bin/true
else
    echo "bwrap: not installed, skipped"
fi
if command -v firejail >/dev/null; then
    row "firejail --noprofile /bin/true" firejail --quiet --noprofile /bin/true
else
    echo "firejail: not installed, skipped"
fi
