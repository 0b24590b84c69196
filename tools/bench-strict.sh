#!/usr/bin/env bash
# Benchmarks `straitjacket strict` (BENCHMARKS.md, section "strict"):
#  1. throughput of the SHA-256 guest on SIZE MiB of stdin, under strict mode and run
#     natively (the same static no_std binary: its calls — read, write, exit — run anywhere);
#  2. start-up: wall time of `straitjacket strict GUEST` vs plain exec of the same static
#     binary (and `straitjacket run --preset strict` once that subcommand exists).
# Usage: tools/bench-strict.sh [SIZE_MIB=256] [STARTS=200]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-256}
STARTS=${2:-200}
OUT=target/bench-strict
mkdir -p "$OUT"
cargo build --release -q -p straitjacket-cli
SJ=target/release/straitjacket
tools/build-guests.sh "$OUT" >/dev/null
INPUT="$OUT/input-${SIZE}M"
[ -f "$INPUT" ] || head -c "$((SIZE << 20))" /dev/urandom > "$INPUT"
cat "$INPUT" > /dev/null # into the page cache

now() { date +%s.%N; }
best() { # "WALL CPU": the best of 5 runs of "$@" (stdin from $INPUT), in seconds;
          # CPU is user + system time of the guest (and straitjacket), less sensitive to load
    local w=999999 c=999999
    for _ in 1 2 3 4 5; do
        /usr/bin/time -o "$OUT/time" -f "%e %U %S" "$@" < "$INPUT" > /dev/null
        read -r e u s < "$OUT/time"
        w=$(awk -v a="$e" -v b="$w" 'BEGIN{print (a < b) ? a : b}')
        c=$(awk -v a="$(echo "$u + $s" | bc -l)" -v b="$c" 'BEGIN{print (a < b) ? a : b}')
    done
    echo "$w $c"
}
echo "machine: $(nproc) cores, $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
want=$(sha256sum < "$INPUT")
got=$("$SJ" strict --stdin "$INPUT" "$OUT/sha256sum")
[ "$got" = "$want" ] || { echo "digest mismatch: $got vs $want"; exit 1; }
read -r native native_cpu < <(best "$OUT/sha256sum")
read -r strict strict_cpu < <(best "$SJ" strict "$OUT/sha256sum")
read -r coreutils coreutils_cpu < <(best sha256sum)
mbs() { echo "$SIZE / $1" | bc -l | xargs printf '%.1f'; }
echo "sha256 of $SIZE MiB (best of 5; wall time, and user+sys CPU time):"
row() { printf '  %-22s wall %6.2f s %7s MiB/s   cpu %6.2f s %7s MiB/s\n' "$1" "$2" "$(mbs "$2")" "$3" "$(mbs "$3")"; }
row "native guest" "$native" "$native_cpu"
row "strict guest" "$strict" "$strict_cpu"
row "coreutils sha256sum" "$coreutils" "$coreutils_cpu"
printf '  strict / native: wall %.3f, cpu %.3f\n' "$(echo "$strict / $native" | bc -l)" "$(echo "$strict_cpu / $native_cpu" | bc -l)"

loop() { # "WALL CPU": mean wall and user+sys CPU time per start of "$@", in microseconds
    local args
    args=$(printf '%q ' "$@")
    /usr/bin/time -o "$OUT/time" -f "%e %U %S" \
        bash -c "for _ in \$(seq $STARTS); do $args > /dev/null; done"
    read -r e u s < "$OUT/time"
    awk -v e="$e" -v u="$u" -v s="$s" -v n="$STARTS" \
        'BEGIN{printf "wall %6.0f us   cpu %6.0f us\n", e * 1e6 / n, (u + s) * 1e6 / n}'
}
echo "start-up, mean of $STARTS starts of a static binary that exits at once:"
printf '  %-34s %s\n' "plain exec" "$(loop "$OUT/probe" exit 0)"
printf '  %-34s %s\n' "straitjacket strict" "$(loop "$SJ" strict "$OUT/probe" exit 0)"
if "$SJ" run --help > /dev/null 2>&1; then
    printf '  %-34s %s\n' "straitjacket run --preset strict" "$(loop "$SJ" run --preset strict -- "$OUT/probe" exit 0)"
else
    echo "  straitjacket run --preset strict: (no \`run\` subcommand in this build yet)"
fi
printf '  %-34s %s\n' "straitjacket --version (own start)" "$(loop "$SJ" --version)"
