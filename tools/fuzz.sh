#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 40: seven targets, under five minutes in
# all). cargo-fuzz needs nightly features;
# RUSTC_BOOTSTRAP=1 lets the stable toolchain provide them. A crash fails the run and leaves
# its input in fuzz/artifacts/TARGET/ — add it to fuzz/regressions/TARGET/ with the fix.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-40}
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo fuzz build -O
for t in $(cargo fuzz list); do
    mkdir -p "corpus/$t"
    # Found inputs kept as regression tests and the committed real-world seeds run first,
    # then the time-bounded search (new inputs go to corpus/, which is not committed).
    seeds=()
    [ -d "regressions/$t" ] && seeds+=("regressions/$t")
    [ -d "seeds/$t" ] && seeds+=("seeds/$t")
    log=$(mktemp)
    if ! cargo fuzz run -O "$t" "corpus/$t" "${seeds[@]}" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
            -print_final_stats=1 >"$log" 2>&1; then
        tail -60 "$log"
        echo "fuzz: $t: FAILED (input in fuzz/artifacts/$t/)"
        exit 1
    fi
    runs=$(grep -oE "^stat::number_of_executed_units: [0-9]+" "$log" | grep -oE "[0-9]+$" || echo "?")
    rm -f "$log"
    echo "fuzz: $t: ok, $runs runs in ${secs}s"
done
