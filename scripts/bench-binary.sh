#!/usr/bin/env bash
# The figures of docs/benchmarks.md: the release binary's size, and its
# cold start (`--help`, `--version`, and a `status` against the local AWS
# emulator), each the mean, min and max wall time of RUNS runs.
#
#   scripts/bench-binary.sh [BINARY]     (default: cargo build --release)
#   RUNS=50 scripts/bench-binary.sh
#
# A plain shell loop (no hyperfine needed): each run is one process start,
# timed with `date +%s%N` around it, output to /dev/null. The emulator and
# its demo stack listen on 127.0.0.1 only and stop when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-20}"
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

if [ $# -ge 1 ]; then
  BIN="$1"
else
  cargo build --quiet --locked --release --bin alb-rollout
  BIN="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/alb-rollout"
fi

echo "machine: $(uname -sm), $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "rustc: $(rustc --version)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $BIN"
BYTES=$(stat -c %s "$BIN")
echo "size: $BYTES bytes ($(awk -v b="$BYTES" 'BEGIN { printf "%.1f MiB", b / 1048576 }'))"
file -b "$BIN"

# time_it LABEL CMD...: RUNS runs after one warm-up; min/median/mean/max in
# ms (on a shared machine the minimum is the least disturbed).
time_it() {
  local label="$1"; shift
  "$@" > /dev/null 2>&1 || true
  local t0 t1 all=()
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s%N)
    "$@" > /dev/null 2>&1 || true
    t1=$(date +%s%N)
    all+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${all[@]}" | sort -n | awk -v l="$label" -v n="$RUNS" '
    { v[NR] = $1; s += $1 }
    END { printf "%-24s min %7.2f  median %7.2f  mean %7.2f  max %7.2f ms  (%d runs)\n",
          l, v[1] / 1000, v[int((n + 1) / 2)] / 1000, s / n / 1000, v[n] / 1000, n }'
}

time_it "--help" "$BIN" --help
time_it "--version" "$BIN" --version

tests/emulator/setup.sh > /dev/null
tests/emulator/start.sh --port 0 > "$WORK/emu.out" 2> "$WORK/emu.err" &
PIDS+=($!)
for _ in $(seq 600); do grep -q ALB_EMULATOR_ENDPOINT "$WORK/emu.out" 2>/dev/null && break; sleep 0.2; done
AWS_ENDPOINT_URL=$(sed -n 's/ALB_EMULATOR_ENDPOINT=//p' "$WORK/emu.out")
[ -n "$AWS_ENDPOINT_URL" ] || { echo "emulator did not start:"; cat "$WORK/emu.err"; exit 1; }
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
tests/emulator/.venv/bin/python tests/emulator/demo.py --endpoint "$AWS_ENDPOINT_URL" --prefix bench \
  --serve > "$WORK/demo.json" 2> "$WORK/demo.err" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/demo.json" ] && break; sleep 0.2; done
LISTENER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listener_arn"])' "$WORK/demo.json")
"$BIN" status --listener "$LISTENER" > /dev/null || { echo "status failed against the emulator"; exit 1; }
time_it "status (emulator)" "$BIN" status --listener "$LISTENER"
time_it "status --listener nope" "$BIN" status --listener nope
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
