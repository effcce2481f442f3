#!/usr/bin/env bash
# Print action/checksums.sha256 for a release: the repository and tag the
# action downloads from, and the sha256 of every alb-rollout-TARGET binary in
# DIR. Used by .github/workflows/release.yml; refuses a DIR that lacks one of
# the four targets the action serves.
#
#   action/write-checksums.sh DIR OWNER/NAME vX.Y.Z > action/checksums.sha256
set -euo pipefail

readonly TARGETS="x86_64-unknown-linux-musl aarch64-unknown-linux-musl aarch64-apple-darwin x86_64-apple-darwin"

if [[ $# -ne 3 ]]; then
  echo "usage: $0 DIR OWNER/NAME vX.Y.Z" >&2
  exit 2
fi
dir=$1 repo=$2 tag=$3
[[ "$repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || { echo "bad repository: $repo" >&2; exit 2; }
[[ "$tag" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || { echo "bad tag: $tag" >&2; exit 2; }

sha256_of() {
  if command -v sha256sum > /dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

cat << HEADER
# The release binaries this commit of the alb-rollout action runs.
#
# action/run.sh downloads alb-rollout-TARGET from the release TAG of
# REPOSITORY below and runs it only if its sha256 is the one listed here, so
# pinning the action's commit pins the binary's bytes. Written by
# .github/workflows/release.yml (action/write-checksums.sh).
repository $repo
tag $tag
HEADER
for t in $TARGETS; do
  f="$dir/alb-rollout-$t"
  [[ -f "$f" ]] || { echo "missing $f" >&2; exit 1; }
  printf '%s  %s\n' "$(sha256_of "$f")" "alb-rollout-$t"
done
