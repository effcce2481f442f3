#!/usr/bin/env bash
# Start, in the background, what the action's self-test deploys against:
# the AWS emulator, a demo stack (listener -> web-blue, green in web-green)
# and steady traffic through the emulated ALB. Then hand the workflow's next
# steps the variables they read, as KEY=VALUE lines appended to $GITHUB_ENV
# (printed on stdout when GITHUB_ENV is unset):
#   AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
#   AWS_EC2_METADATA_DISABLED (the emulator's), LISTENER_ARN, GREEN_HEALTH_URL.
#
#   scripts/self-test-env.sh [GREEN_ERROR_RATE]    # e.g. 0 (promote), 0.5 (revert)
#
# Everything listens on 127.0.0.1 only. The emulator and the demo apps stop
# by themselves after an hour, the traffic after 50 minutes (the job builds
# the binary first, which takes minutes); their process IDs are in
# $RUNNER_TEMP/alb-rollout-self-test/pids, to stop them sooner. CloudWatch
# minutes arrive 20 s after they end (the emulator's default is AWS's 90 s),
# as in scripts/try-it.sh, so a canary of a few minutes judges real minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

rate=${1:-0}
work="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/alb-rollout-self-test"
mkdir -p "$work"
py=tests/emulator/.venv/bin/python

tests/emulator/setup.sh >&2
nohup timeout 3600 tests/emulator/start.sh --port 0 --metrics-delay 20 \
  > "$work/emulator.out" 2> "$work/emulator.err" < /dev/null &
echo $! > "$work/pids"
for _ in $(seq 600); do
  grep -q '^ALB_EMULATOR_ENDPOINT=' "$work/emulator.out" 2> /dev/null && break
  sleep 0.2
done
endpoint=$(sed -n 's/^ALB_EMULATOR_ENDPOINT=//p' "$work/emulator.out")
if [[ -z "$endpoint" ]]; then
  echo "::error::the emulator did not start"
  cat "$work/emulator.err" >&2
  exit 1
fi

nohup timeout 3600 "$py" tests/emulator/demo.py --endpoint "$endpoint" --prefix web \
  --green-error-rate "$rate" --serve > "$work/demo.json" 2> "$work/demo.err" < /dev/null &
echo $! >> "$work/pids"
for _ in $(seq 300); do
  [[ -s "$work/demo.json" ]] && break
  sleep 0.2
done
field() { "$py" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])' "$work/demo.json" "$1"; }
if ! listener=$(field listener_arn); then
  echo "::error::the demo stack was not created"
  cat "$work/demo.err" >&2
  exit 1
fi

nohup "$py" scripts/traffic.py --url "$(field listener_url)/" --rps 20 --duration 3000 --quiet \
  > "$work/traffic.out" 2>&1 < /dev/null &
echo $! >> "$work/pids"

{
  echo "AWS_ENDPOINT_URL=$endpoint"
  echo "AWS_ACCESS_KEY_ID=test"
  echo "AWS_SECRET_ACCESS_KEY=test"
  echo "AWS_REGION=us-east-1"
  echo "AWS_EC2_METADATA_DISABLED=true"
  echo "LISTENER_ARN=$listener"
  echo "GREEN_HEALTH_URL=$(field green_app_url)/"
} >> "${GITHUB_ENV:-/dev/stdout}"
echo "emulator at $endpoint, listener $listener, green error rate $rate" >&2
