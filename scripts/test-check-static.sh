#!/usr/bin/env bash
# scripts/check-static.sh against binaries whose linking is known: it must
# accept a static-pie and a static C program, and refuse a dynamic one, a
# shared library (NEEDED without a loader), another architecture, and a
# missing file. Run by .ci/run (needs gcc with glibc's static libraries).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
printf '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' > "$WORK/hi.c"
gcc -static-pie -o "$WORK/static-pie" "$WORK/hi.c"
gcc -static -o "$WORK/static" "$WORK/hi.c"
gcc -o "$WORK/dynamic" "$WORK/hi.c"
gcc -shared -fPIC -o "$WORK/lib.so" "$WORK/hi.c"

host=$(uname -m)
other=aarch64
[[ "$host" == aarch64 ]] && other=x86_64
failures=0
expect() {
  local want=$1; shift
  if scripts/check-static.sh "$@" > "$WORK/out" 2>&1; then got=pass; else got=fail; fi
  if [[ "$got" != "$want" ]]; then
    echo "FAIL: check-static.sh $* should $want, did $got: $(cat "$WORK/out")"
    failures=$((failures + 1))
  fi
}
expect pass "$WORK/static-pie" "$host"
expect pass "$WORK/static" "$host"
expect fail "$WORK/dynamic" "$host"
expect fail "$WORK/lib.so" "$host"
expect fail "$WORK/static-pie" "$other"
expect fail "$WORK/missing" "$host"
[[ $failures -eq 0 ]] || exit 1
echo "check-static.sh: 6 passed, 0 failed"
