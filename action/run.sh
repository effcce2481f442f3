#!/usr/bin/env bash
# The alb-rollout GitHub Action's step (see action.yml): get the binary, then
# exec it, so that the SIGINT/SIGTERM a cancelled job sends to the step's
# process reach alb-rollout itself (bash would not forward them).
#
# Getting the binary, by default: the prebuilt static binary for this
# runner's OS/arch from the GitHub release named in action/checksums.sha256,
# verified against the sha256 listed there (so pinning the action's commit
# pins the binary's bytes) and kept in the runner's tool cache, where it is
# verified again on every use. A binary whose sha256 is not in the table is
# never run. With ALB_ROLLOUT_ACTION_BUILD_FROM_SOURCE=true: built from the
# action's own checkout with `cargo install --locked --path`.
#
# Inputs arrive as environment variables, never as text in a script:
#   ALB_ROLLOUT_ACTION_COMMAND            canary | blue-green | rolling | ab | dark | shadow | routes | rollback | status
#   ALB_ROLLOUT_ACTION_ARGS               extra arguments, split on whitespace (no quotes, no globs)
#   ALB_ROLLOUT_ACTION_BUILD_FROM_SOURCE  true | false
#   ALB_ROLLOUT_<FLAG>                    the binary's own flags (see README); empty ones are dropped
# Test-only: ALB_ROLLOUT_ACTION_TEST_RELEASE_BASE=http://127.0.0.1:PORT
# replaces https://github.com/REPO/releases/download/TAG (loopback only;
# action.yml sets it to empty, so a workflow cannot set it).
#
# Exit codes before the binary runs: 2 invalid input, 1 the binary could not
# be had (and `result=failed` is written to $GITHUB_OUTPUT). After that, the
# binary's own exit code (0 promoted, 1 reverted, 2 invalid, 3 revert
# incomplete, 130 cancelled).
#
# Written for bash 3.2 too (macOS's /bin/bash): no mapfile, no ${x,,}.
set -euo pipefail

readonly COMMANDS="canary blue-green rolling ab dark shadow routes rollback status"
readonly TABLE_REL="action/checksums.sha256"

# GitHub workflow commands take %, CR and LF escaped.
gh_escape() {
  # Replacements in variables: bash 3.2 and 5 treat quotes there differently.
  local s=$1 pct='%' e_pct='%25' cr=$'\r' e_cr='%0D' lf=$'\n' e_lf='%0A'
  s=${s//$pct/$e_pct}
  s=${s//$cr/$e_cr}
  s=${s//$lf/$e_lf}
  printf '%s' "$s"
}

error() { printf '::error title=alb-rollout action::%s\n' "$(gh_escape "$*")"; }

# The binary never ran: say so in the step's outputs too.
fail() {
  error "$*"
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then printf 'result=failed\n' >> "$GITHUB_OUTPUT"; fi
  exit 1
}

action_path() {
  if [[ -n "${GITHUB_ACTION_PATH:-}" ]]; then
    printf '%s\n' "$GITHUB_ACTION_PATH"
  else
    (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  fi
}

# The Rust target of the runner's OS/arch (RUNNER_OS/RUNNER_ARCH on GitHub,
# uname elsewhere).
target_triple() {
  local os=${RUNNER_OS:-$(uname -s)} arch=${RUNNER_ARCH:-$(uname -m)}
  case "$os/$arch" in
    Linux/X64 | Linux/x86_64 | Linux/amd64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64 | Linux/aarch64 | Linux/arm64) echo aarch64-unknown-linux-musl ;;
    macOS/ARM64 | Darwin/arm64 | Darwin/aarch64) echo aarch64-apple-darwin ;;
    macOS/X64 | Darwin/x86_64) echo x86_64-apple-darwin ;;
    *) return 1 ;;
  esac
}

sha256_of() {
  if command -v sha256sum > /dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

# table_get FILE KEY: the value of a `KEY VALUE` line (repository, tag).
table_get() {
  local key value
  while read -r key value; do
    if [[ "$key" == "$2" ]]; then
      printf '%s\n' "$value"
      return 0
    fi
  done < "$1"
  return 1
}

# table_sha FILE ASSET: the sha256 listed for ASSET (`HEX  ASSET` lines).
table_sha() {
  local sum name
  while read -r sum name; do
    if [[ "$sum" =~ ^[0-9a-f]{64}$ && "$name" == "$2" ]]; then
      printf '%s\n' "$sum"
      return 0
    fi
  done < "$1"
  return 1
}

# release_url REPO TAG ASSET: set URL to where the release asset is
# downloaded from.
release_url() {
  local base="https://github.com/$1/releases/download/$2"
  local test_base=${ALB_ROLLOUT_ACTION_TEST_RELEASE_BASE:-}
  if [[ -n "$test_base" ]]; then
    if [[ ! "$test_base" =~ ^http://(127\.0\.0\.1|localhost)(:[0-9]+)?(/[A-Za-z0-9._/-]*)?$ ]]; then
      error "ALB_ROLLOUT_ACTION_TEST_RELEASE_BASE must be a loopback http:// URL (tests only)"
      return 1
    fi
    base=${test_base%/}
  fi
  URL="$base/$3"
}

download() { # URL DEST
  local proto='=https'
  if [[ "$1" == http://* ]]; then proto='=http'; fi # loopback test release only
  curl --fail --location --silent --show-error \
    --proto "$proto" --proto-redir '=https' \
    --connect-timeout 10 --max-time 300 --retry 3 --retry-delay 2 \
    --output "$2" "$1"
}

# Set BIN to a verified prebuilt binary (tool cache, else download).
prebuilt_binary() {
  local root table target asset repo tag want cache_root dir bin url tmp got
  root=$(action_path)
  table="$root/$TABLE_REL"
  [[ -f "$table" ]] || fail "$TABLE_REL is missing from the action's checkout"
  if ! target=$(target_triple); then
    fail "no prebuilt alb-rollout for ${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)} (there are Linux x86_64 and aarch64, macOS arm64 and x86_64); set build-from-source: true"
  fi
  asset="alb-rollout-$target"
  if ! repo=$(table_get "$table" repository) || ! tag=$(table_get "$table" tag) \
    || ! want=$(table_sha "$table" "$asset"); then
    fail "this commit of the action lists no released binary for $target in $TABLE_REL (no release yet, or an unreleased commit or fork): pin a released commit of the action, or set build-from-source: true"
  fi
  [[ "$repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || fail "$TABLE_REL: bad repository '$repo'"
  [[ "$tag" =~ ^v[0-9A-Za-z.+-]+$ ]] || fail "$TABLE_REL: bad tag '$tag'"

  # The layout of @actions/tool-cache: TOOL/VERSION/ARCH and ARCH.complete.
  cache_root=${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/alb-rollout-action}
  dir="$cache_root/alb-rollout/${tag#v}/$target"
  bin="$dir/alb-rollout"
  if [[ -f "$dir.complete" && -x "$bin" ]]; then
    got=$(sha256_of "$bin")
    if [[ "$got" == "$want" ]]; then
      echo "alb-rollout $tag ($target) from the tool cache, sha256 $want" >&2
      BIN=$bin
      return 0
    fi
    echo "::warning title=alb-rollout action::the cached binary's sha256 is $got, not $want: downloading it again"
    rm -f "$dir.complete" "$bin"
  fi

  release_url "$repo" "$tag" "$asset" || fail "no download URL"
  url=$URL
  mkdir -p "$dir"
  tmp=$(mktemp "$dir/.download.XXXXXX")
  DOWNLOAD_TMP=$tmp
  trap 'rm -f "$DOWNLOAD_TMP"' EXIT
  echo "downloading $url" >&2
  if ! download "$url" "$tmp" >&2; then
    fail "could not download $url; set build-from-source: true to build the binary instead"
  fi
  got=$(sha256_of "$tmp")
  if [[ "$got" != "$want" ]]; then
    fail "refusing to run $asset from $tag: its sha256 is $got but $TABLE_REL lists $want"
  fi
  chmod 0755 "$tmp"
  mv -f "$tmp" "$bin"
  trap - EXIT
  : > "$dir.complete"
  echo "alb-rollout $tag ($target) downloaded and verified, sha256 $want" >&2
  BIN=$bin
}

# Set BIN to a binary built from the action's checkout.
source_binary() {
  local root build
  root=$(action_path)
  command -v cargo > /dev/null 2>&1 \
    || fail "build-from-source: true needs cargo on the runner (GitHub's hosted runners have it; elsewhere install Rust first)"
  build="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/alb-rollout-action"
  echo "::group::Build alb-rollout from source (cargo install --locked)" >&2
  # One target directory per job: a second use of the action in the same
  # job (e.g. the rollback step) rebuilds nothing.
  if ! CARGO_TARGET_DIR="$build/target" cargo install --locked --path "$root" --root "$build" >&2; then
    echo "::endgroup::" >&2
    fail "cargo install --locked --path $root failed"
  fi
  echo "::endgroup::" >&2
  BIN="$build/bin/alb-rollout"
}

main() {
  local command=${ALB_ROLLOUT_ACTION_COMMAND:-} from_source=${ALB_ROLLOUT_ACTION_BUILD_FROM_SOURCE:-false}
  local args=${ALB_ROLLOUT_ACTION_ARGS:-} name a known=false
  local -a extra=()

  for a in $COMMANDS; do
    if [[ "$command" == "$a" ]]; then known=true; fi
  done
  if [[ "$known" != true ]]; then
    error "command must be one of: $COMMANDS (got '$command')"
    exit 2
  fi
  case "$from_source" in
    true | false) ;;
    *)
      error "build-from-source must be true or false (got '$from_source')"
      exit 2
      ;;
  esac

  # Split `args` on whitespace, without globbing.
  set -f
  # shellcheck disable=SC2086 # splitting is the point
  for a in $args; do extra+=("$a"); done
  set +f

  BIN=
  if [[ "$from_source" == true ]]; then
    source_binary
  else
    prebuilt_binary
  fi

  # An input left empty is an unset flag: clap would read an empty
  # ALB_ROLLOUT_X as the value "". The action's own variables are not flags.
  for name in $(compgen -e); do
    case "$name" in
      ALB_ROLLOUT_ACTION_*) unset "$name" ;;
      ALB_ROLLOUT_*) if [[ -z "${!name}" ]]; then unset "$name"; fi ;;
    esac
  done

  exec "$BIN" "$command" ${extra[@]+"${extra[@]}"}
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
