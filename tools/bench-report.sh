#!/usr/bin/env bash
# The whole performance report in one run, in the order BENCHMARKS.md gives it:
#   1. filters: ns per call (getppid, an argument-conditioned personality, a denied syslog) and
#      load time, as ratios to no filter; BPF instructions executed per syscall (emulator);
#      straitjacket against libseccomp's default and binary-tree layouts on the same profile;
#   2. compile time of Docker's default profile (x86_64 + i386 + x32, as runc loads it),
#      against libseccomp building the same filter;
#   3. start-up of `run -- /bin/true` against bare, the fork-exec-wait floor, bubblewrap and
#      firejail (where installed), with the peak memory (max RSS) and page faults of each;
#   4. the supervisor's round trip (a supervised open against bare, Landlock and ptrace).
# Each part prints its own ratios, measured within that part's run.
#
# Needs: python3 with python3-seccomp (libseccomp's side of 1 and 2), bc, GNU time; bwrap
# and firejail are measured when installed. What is missing is named, and its part skipped.
# Usage: tools/bench-report.sh [STARTS]   (starts per start-up batch, default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
starts=${1:-200}
if ! [[ $starts =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: tools/bench-report.sh [STARTS]: STARTS is a positive whole number, not \`$starts'" >&2
    exit 2
fi

echo "# straitjacket performance report"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%MZ); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- command: tools/bench-report.sh $starts"

missing=()
# The benches run /usr/bin/python3 (Debian's python3-seccomp), whatever python3 PATH finds.
lsc() { /usr/bin/python3 -c 'import seccomp' 2>/dev/null; }
lsc || missing+=("python3-seccomp for /usr/bin/python3 (libseccomp's filters)")
command -v bc >/dev/null || missing+=("bc (start-up ratios)")
[ -x /usr/bin/time ] || missing+=("GNU time (start-up peak memory)")

section() { echo; echo "## $1"; echo; echo "\`$2\`"; echo; }

section "1. Filters" "cargo bench -p straitjacket-cli --bench filters"
if lsc; then
    cargo bench -q -p straitjacket-cli --bench filters 2>&1
else
    echo "skipped: python3-seccomp is not installed"
fi

section "2. Compile time" "cargo bench -p straitjacket-policy --bench compile"
cargo bench -q -p straitjacket-policy --bench compile 2>&1

section "3. Start-up and peak memory" "tools/build-static.sh && tools/bench-startup.sh $starts 3"
if command -v bc >/dev/null && [ -x /usr/bin/time ]; then
    # The static-pie row is of this commit too.
    tools/build-static.sh >/dev/null 2>&1 || echo "static-pie: build failed, its row is of an older build if any"
    tools/bench-startup.sh "$starts" 3
else
    echo "skipped: needs bc and GNU time"
fi

section "4. Supervisor round trip" "cargo bench -p straitjacket-cli --bench supervisor"
cargo bench -q -p straitjacket-cli --bench supervisor 2>&1

if [ ${#missing[@]} -gt 0 ]; then
    echo
    printf 'missing: %s\n' "${missing[@]}"
fi
