#!/usr/bin/env bash
# Check that BINARY is a statically linked ELF for MACHINE (x86_64 or
# aarch64), as the release's Linux musl binaries must be; exit 1 naming what
# is wrong. Used by .github/workflows/release.yml; .ci/run checks that it
# accepts a static-pie and a static binary and refuses a dynamic one.
#
#   scripts/check-static.sh BINARY MACHINE
#
# It cannot pass by accident: each tool must succeed and say something
# positive. `file` reports Rust's musl binaries as "static-pie linked" (not
# "statically linked"), and `ldd` says "not a dynamic executable" for any
# binary of another architecture, so neither is trusted alone: the ELF
# header must name MACHINE, the program headers must be readable and have
# no INTERP (no dynamic loader), and the dynamic section, if any, no NEEDED
# library.
set -euo pipefail

fail() { echo "check-static: $bin: $*" >&2; exit 1; }
[[ $# -eq 2 ]] || { echo "usage: $0 BINARY x86_64|aarch64" >&2; exit 2; }
bin=$1
case "$2" in
  x86_64) machine="Advanced Micro Devices X86-64" ;;
  aarch64) machine="AArch64" ;;
  *) echo "unknown machine: $2" >&2; exit 2 ;;
esac
[[ -s "$bin" ]] || fail "missing or empty"

header=$(readelf -hW "$bin") || fail "readelf cannot read its ELF header"
grep -Eq "^ +Machine: +$machine\$" <<< "$header" || fail "not a $2 ELF: $(grep Machine: <<< "$header")"

phdrs=$(readelf -lW "$bin") || fail "readelf cannot read its program headers"
grep -q "^Program Headers:" <<< "$phdrs" || fail "no program headers"
if grep -q "INTERP" <<< "$phdrs"; then
  fail "has a dynamic loader: $(grep -A1 INTERP <<< "$phdrs" | tail -1 | tr -s ' ')"
fi

dynamic=$(readelf -dW "$bin") || fail "readelf cannot read its dynamic section"
if grep -q "(NEEDED)" <<< "$dynamic"; then
  fail "needs shared libraries: $(grep '(NEEDED)' <<< "$dynamic" | sed 's/.*\[\(.*\)\]/\1/' | tr '\n' ' ')"
fi

kind=$(file -b "$bin") || fail "file cannot read it"
case "$kind" in
  *"dynamically linked"*) fail "file says: $kind" ;;
  *"static-pie linked"* | *"statically linked"*) ;;
  *) fail "file does not say static-pie or statically linked: $kind" ;;
esac
echo "check-static: $bin: static $2 ELF, no loader, no shared libraries ($kind)"
