#!/usr/bin/env bash
# A smoke run of the static-pie build (tools/build-static.sh): the filter, the supervisor and
# exit codes work as in the ordinary build, which the test suite covers in full.
set -euo pipefail
cd "$(dirname "$0")/.."
sj=target/static/straitjacket
fail() { echo "smoke-static: $*" >&2; exit 1; }
[ "$($sj run -- sh -c 'echo hello from inside')" = "hello from inside" ] || fail "run echo"
rc=0; $sj run -- sh -c 'exit 3' || rc=$?
[ "$rc" = 3 ] || fail "exit status $rc, want 3"
# The default policy denies unshare (EPERM), and the supervisor refuses a read outside the
# fs rules while allowing one inside.
err=$($sj run -- unshare -U true 2>&1) && fail "unshare was allowed"
grep -q "Operation not permitted" <<<"$err" || fail "unshare: $err"
$sj run --allow-read /etc -- cat /etc/passwd >/dev/null || fail "read inside the rules"
outside=$(mktemp)
trap 'rm -f "$outside"' EXIT
err=$($sj run --allow-read /etc -- cat "$outside" 2>&1) && fail "read outside the rules"
grep -q "Permission denied" <<<"$err" || fail "read outside: $err"
echo "smoke-static: ok"
