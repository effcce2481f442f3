#!/usr/bin/env bash
# Run the alb-rollout action's step on your own machine, as a workflow would:
# the same script (action/run.sh), the same inputs (as the environment
# variables action.yml gives it), and temporary GITHUB_OUTPUT and
# GITHUB_STEP_SUMMARY files that are printed when the run ends. AWS
# credentials and region come from your shell (profile, AWS_* variables).
#
#   examples/local-run.sh INPUT=VALUE...
#   examples/local-run.sh command=status listener=arn:aws:elasticloadbalancing:...
#   examples/local-run.sh command=canary listener=arn:... blue=web-blue \
#     green=web-green steps=10:2m,50:2m,100 interval=30s dry-run=true
#
# INPUT is any input of action.yml (command, listener, steps, max-error-rate,
# args, ...). build-from-source defaults to true here (there is no release
# yet, and it builds this checkout); the build is kept in
# ${XDG_CACHE_HOME:-~/.cache}/alb-rollout-local-run, so the next run reuses it.
# Ctrl-C reaches alb-rollout, which reverts as on a cancelled job. The exit
# code is the step's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [[ $# -eq 0 ]]; then
  sed -n '2,19s/^# \{0,1\}//p' "$0"
  exit 2
fi

# The inputs action.yml declares (two-space-indented keys under `inputs:`).
inputs=$(sed -n '/^inputs:/,/^[a-z]/s/^  \([a-z][a-z-]*\):.*/\1/p' "$root/action.yml")
env_name() {
  case "$1" in
    command) echo ALB_ROLLOUT_ACTION_COMMAND ;;
    args) echo ALB_ROLLOUT_ACTION_ARGS ;;
    build-from-source) echo ALB_ROLLOUT_ACTION_BUILD_FROM_SOURCE ;;
    log) echo ALB_ROLLOUT_LOG ;;
    *) printf 'ALB_ROLLOUT_%s\n' "$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')" ;;
  esac
}

export ALB_ROLLOUT_ACTION_BUILD_FROM_SOURCE=true
for pair in "$@"; do
  name=${pair%%=*}
  if [[ "$pair" != *=* ]] || ! grep -qx -- "$name" <<< "$inputs"; then
    echo "unknown input '$name' (inputs: $(echo "$inputs" | tr '\n' ' '))" >&2
    exit 2
  fi
  export "$(env_name "$name")=${pair#*=}"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GITHUB_OUTPUT="$work/output" GITHUB_STEP_SUMMARY="$work/summary"
: > "$GITHUB_OUTPUT"
: > "$GITHUB_STEP_SUMMARY"
export GITHUB_ACTIONS=true GITHUB_ACTION_PATH="$root"
export RUNNER_TEMP="${XDG_CACHE_HOME:-$HOME/.cache}/alb-rollout-local-run"
mkdir -p "$RUNNER_TEMP"

code=0
bash "$root/action/run.sh" || code=$?

echo
echo "== step outputs (GITHUB_OUTPUT)"
cat "$GITHUB_OUTPUT"
if [[ -s "$GITHUB_STEP_SUMMARY" ]]; then
  echo "== job summary (GITHUB_STEP_SUMMARY)"
  cat "$GITHUB_STEP_SUMMARY"
fi
echo "== exit code $code"
exit "$code"
