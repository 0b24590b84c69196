#!/usr/bin/env bash
# Builds the strict-mode guest SDK and the example guests (static, no libc) into OUT
# (default target/guests). The tests in crates/straitjacket-cli/tests/strict.rs do the same.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/guests}
mkdir -p "$OUT"
FLAGS=(--edition 2021 -C panic=abort -C opt-level=3 -C debuginfo=0 -C strip=debuginfo)
rustc "${FLAGS[@]}" --crate-type rlib --crate-name straitjacket_guest --cfg 'feature="runtime"' \
    crates/straitjacket-guest/src/lib.rs --out-dir "$OUT"
for g in crates/straitjacket-guest/guests/*.rs; do
    rustc "${FLAGS[@]}" --crate-type bin -C relocation-model=static \
        -C link-arg=-nostartfiles -C link-arg=-nostdlib -C link-arg=-static \
        --extern straitjacket_guest="$OUT/libstraitjacket_guest.rlib" \
        "$g" -o "$OUT/$(basename "$g" .rs)"
done
# The probe again as a static PIE (relocated by the SDK's _start).
rustc "${FLAGS[@]}" --crate-type bin -C target-feature=+crt-static \
    -C link-arg=-nostartfiles -C link-arg=-nostdlib \
    --extern straitjacket_guest="$OUT/libstraitjacket_guest.rlib" \
    crates/straitjacket-guest/guests/probe.rs -o "$OUT/probe-pie"
ls -l "$OUT"
