#!/usr/bin/env bash
# Start-up cost of `straitjacket run -- /bin/true` against bare /bin/true, the floor of any
# launcher (coreutils timeout: fork, exec, wait), bubblewrap and firejail, and the peak
# memory (max RSS) of each, as ratios to bare in one run. The minor page faults of one start
# (the whole process tree) are deterministic where wall time on a shared machine is not:
# compare them to judge a change to start-up.
#
# The rows are measured interleaved: each round runs a batch of N starts of every row (the
# first row rotating), and each row keeps its best batch, so the ratios compare rows that met
# the same moments of a shared machine.
# Usage: tools/bench-startup.sh [N] [ROUNDS]   (N starts per batch, default 200; 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
rounds=${2:-3}
for v in "$n" "$rounds"; do
    if ! [[ $v =~ ^[1-9][0-9]*$ ]]; then
        echo "usage: tools/bench-startup.sh [N] [ROUNDS]: N and ROUNDS are positive whole numbers, not \`$v'" >&2
        exit 2
    fi
done
cargo build -q --release -p straitjacket-cli
sj=$(printf '%q' "$PWD/target/release/straitjacket")

names=() cmds=()
add() { names+=("$1"); cmds+=("$2"); }
add "/bin/true" "/bin/true"
# The floor for any launcher that forks, execs and waits to report the exit status, as `run`
# must: coreutils' timeout, a small C program that does only that.
add "floor: timeout 10 /bin/true" "timeout 10 /bin/true"
add "straitjacket run -- /bin/true" "$sj run -- /bin/true"
add "straitjacket run --preset strict" "$sj run --preset strict -- /bin/true"
skipped=()
if [ -x target/static/straitjacket ]; then
    add "static-pie: straitjacket run -- /bin/true" "target/static/straitjacket run -- /bin/true"
else
    skipped+=("static-pie: not built (tools/build-static.sh), skipped")
fi
if command -v bwrap >/dev/null; then
    add "bwrap --ro-bind / / /bin/true" "bwrap --ro-bind / / /bin/true"
else
    skipped+=("bwrap: not installed, skipped")
fi
if command -v firejail >/dev/null; then
    add "firejail --noprofile /bin/true" "firejail --quiet --noprofile /bin/true"
else
    skipped+=("firejail: not installed, skipped")
fi

batch() { # the mean wall time per start of one batch of N, in µs
    local t0 t1
    t0=$(date +%s%N)
    for _ in $(seq "$n"); do eval "$1" >/dev/null 2>&1 || true; done
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / n / 1000 ))
}
rows=${#cmds[@]}
best=()
for ((r = 0; r < rounds; r++)); do
    for ((q = 0; q < rows; q++)); do
        i=$(( (q + r) % rows ))
        us=$(batch "${cmds[$i]}")
        if [ -z "${best[$i]:-}" ] || [ "$us" -lt "${best[$i]}" ]; then best[$i]=$us; fi
    done
done

# Max RSS (KiB) and minor page faults of one start, as two columns.
mem() { eval "/usr/bin/time -f '%M %R' $1" 2>&1 >/dev/null | tail -1 | awk '{printf "%12s %8s", $1, $2}'; }
printf '%-42s %10s %8s %12s %8s\n' run "µs/start" ratio "max RSS KiB" faults
for ((i = 0; i < rows; i++)); do
    printf '%-42s %10s %8s %s\n' "${names[$i]}" "${best[$i]}" \
        "$(echo "scale=2; ${best[$i]} / ${best[0]}" | bc)" "$(mem "${cmds[$i]}")"
done
for s in "${skipped[@]}"; do echo "$s"; done
