#!/usr/bin/env bash
# Compile-fail checks: misuse that the library turns into a compile error.
#
#   bash tests/compile_fail/check.sh <c++ compiler> <include dir> [extra compiler flags...]
#
# control.cpp must compile (otherwise the setup is broken and a failure proves nothing). Every
# fail_*.cpp must fail to compile with a diagnostic that matches the extended regular expression on
# its "// expect-error: " line. Exits 0 when all of that holds, 1 otherwise (2 on bad usage).
set -u

if [ $# -lt 2 ]; then
  echo "usage: bash $0 <c++ compiler> <include dir> [extra compiler flags...]" >&2
  exit 2
fi
cxx=$1
include_dir=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
flags=(-std=c++20 -fsyntax-only -I"$include_dir" "$@")

if ! output=$("$cxx" "${flags[@]}" "$here/control.cpp" 2>&1); then
  echo "FAIL: control.cpp does not compile, so the setup is broken:"
  echo "$output"
  exit 1
fi
echo "ok: control.cpp compiles"

status=0
for source in "$here"/fail_*.cpp; do
  name=$(basename "$source")
  expected=$(sed -n 's|^// expect-error: ||p' "$source" | head -n 1)
  if [ -z "$expected" ]; then
    echo "FAIL: $name has no '// expect-error: ' line"
    status=1
    continue
  fi
  if output=$("$cxx" "${flags[@]}" "$source" 2>&1); then
    echo "FAIL: $name compiled, but it must not"
    status=1
  elif grep -Eq -- "$expected" <<<"$output"; then
    echo "ok: $name does not compile ($expected)"
  else
    echo "FAIL: $name failed to compile for another reason than /$expected/:"
    echo "$output"
    status=1
  fi
done
exit $status
