#!/usr/bin/env bash
# Try alb-rollout on a local AWS emulator: a demo ALB with blue (v1) and
# green (v2) target groups served by real local HTTP servers, traffic flowing
# through the emulated data plane, then:
#   1. status and a --dry-run,
#   2. a canary of a good green: promoted,
#   3. a canary of a bad green (30% errors): reverted automatically.
# Everything listens on 127.0.0.1 only and stops when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

say "building alb-rollout (first build compiles the AWS SDK: a few minutes)"
cargo build --quiet
BIN="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/alb-rollout"

say "starting the AWS emulator (first run installs its Python venv: about a minute)"
# Its CloudWatch behaves like AWS's (one-minute buckets, no zero datapoints),
# but each minute arrives 20 s after it ends instead of AWS's 1-3 minutes
# (the emulator's default is 90 s), so the demo takes ~4 minutes, not ~7.
tests/emulator/start.sh --port 0 --metrics-delay 20 > "$WORK/emu.out" 2> "$WORK/emu.err" &
PIDS+=($!)
for _ in $(seq 600); do grep -q ALB_EMULATOR_ENDPOINT "$WORK/emu.out" 2>/dev/null && break; sleep 0.2; done
AWS_ENDPOINT_URL=$(sed -n 's/ALB_EMULATOR_ENDPOINT=//p' "$WORK/emu.out")
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
[ -n "$AWS_ENDPOINT_URL" ] || { echo "emulator did not start:"; cat "$WORK/emu.err"; exit 1; }
echo "emulator at $AWS_ENDPOINT_URL"

# demo NAME GREEN_ERROR_RATE: a fresh stack, apps running, ARNs in $WORK/NAME.json
demo() {
  tests/emulator/.venv/bin/python tests/emulator/demo.py --endpoint "$AWS_ENDPOINT_URL" --prefix "$1" \
    --green-error-rate "$2" --serve > "$WORK/$1.json" 2>> "$WORK/demo.err" &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/$1.json" ] && break; sleep 0.2; done
  LISTENER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listener_arn"])' "$WORK/$1.json")
  URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listener_url"])' "$WORK/$1.json")
  GREEN_APP=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["green_app_url"])' "$WORK/$1.json")
}
traffic() {
  python3 scripts/traffic.py --url "$URL/" --rps 20 --duration 240 --quiet > "$WORK/traffic-$1.out" 2>&1 &
  PIDS+=($!)
}
# Checks every 10 s; everything else is the defaults.
OPTS=(--interval 10s)

say "a demo stack: listener forwarding to demo-blue (v1)"
demo demo 0
show "$BIN" status --listener "$LISTENER"

say "dry run: validate against live state, print the plan, change nothing"
show "$BIN" canary --listener "$LISTENER" --blue demo-blue --green demo-green --steps 25,100 "${OPTS[@]}" --dry-run

say "canary of a good green (v2), with traffic flowing: each CloudWatch minute is judged once it arrives"
traffic good
set +e
show "$BIN" canary --listener "$LISTENER" --blue demo-blue --green demo-green --steps 25,100 "${OPTS[@]}"
echo "exit code: $?"
set -e
show "$BIN" status --listener "$LISTENER"

say "canary of a bad green (30% of its responses are 500s), probed directly: no need to wait for CloudWatch"
demo bad 0.3
traffic bad
set +e
show "$BIN" canary --listener "$LISTENER" --blue bad-blue --green bad-green --steps 25,100 "${OPTS[@]}" --probe "$GREEN_APP/"
echo "exit code: $? (1 = reverted after a failed check)"
set -e
show "$BIN" status --listener "$LISTENER"
say "done: the good green was promoted, the bad one reverted automatically"
