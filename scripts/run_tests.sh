#!/usr/bin/env bash
# Runs every test executable given, then prints one closing line:
#   tests: N passed, N failed, N skipped
# A test binary is one cmocka group; its cases are counted from cmocka's output.
set -u
# The CLI's default is the accurate model when its encoder is installed: the
# suites run the fast one unless told otherwise (test_model_encoder checks
# the accurate one and how the default is chosen).
export CASIE_MODEL=${CASIE_MODEL:-fast}
build=${BUILD:-build}
# Under CI every skip must be on the allow-list (tests/skips.allowed): a test
# that cannot run what ships fails there instead of passing by skipping.
allowed() { # BINARY CASE
  grep -v '^#' tests/skips.allowed | awk -v b="$build" -v t="$1" -v c="$2" \
    '($1 == b || $1 == "*") && $2 == t && $3 == c { ok = 1 } END { exit !ok }'
}
pass=0; fail=0; skip=0; failed_bins=(); unallowed=()
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
  s=$(printf '%s\n' "$out" | grep '^\[  SKIPPED \] [a-z_0-9]*$' | sort -u | wc -l)
  if [ "${CI:-}" = true ]; then
    for c in $(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([a-z_0-9]*\)$/\1/p' | sort -u); do
      allowed "$(basename "$t")" "$c" || unallowed+=("$(basename "$t"):$c")
    done
  fi
  f=$(printf '%s\n' "$out" | grep '^\[  FAILED  \] [a-z_0-9]*$' | sort -u | wc -l)
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  pass=$((pass + p)); skip=$((skip + s)); fail=$((fail + f))
  [ $rc -ne 0 ] && failed_bins+=("$t")
done
# The Python package's suite (pytest), on the plain build only: the
# sanitizer builds' runtimes cannot be loaded into a Python interpreter.
if [ "$build" = build ]; then
  out=$(bash scripts/test_python.sh -q 2>&1); rc=$?
  printf '%s\n' "$out"
  last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ (passed|failed|skipped|error)|^=+ .*(passed|failed|error).* in ' | tail -1)
  num() { printf '%s\n' "$last" | grep -oE "[0-9]+ $1" | grep -oE '^[0-9]+' || echo 0; }
  p=$(num passed); s=$(num skipped); f=$(( $(num failed) + $(num error) ))
  # no Python test is on the allow-list: its skip reasons (-rs) say what was missing
  if [ "${CI:-}" = true ] && [ "$s" -gt 0 ]; then
    while IFS= read -r l; do unallowed+=("python: $l"); done < <(printf '%s\n' "$out" | grep '^SKIPPED ')
  fi
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  pass=$((pass + p)); skip=$((skip + s)); fail=$((fail + f))
  [ $rc -ne 0 ] && failed_bins+=("python/tests")
fi
if [ ${#unallowed[@]} -gt 0 ]; then
  echo "skipped under CI, not on tests/skips.allowed:"
  printf '  %s\n' "${unallowed[@]}"
  fail=$((fail + ${#unallowed[@]}))
fi
# The documentation against the code (tests/check_docs.sh): one test.
out=$(bash tests/check_docs.sh 2>&1); rc=$?
printf '%s\n' "$out"
if [ $rc -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed_bins+=("tests/check_docs.sh"); fi
# The shape of the code (tests/check_layers.py): no loop of files, headers
# included where used, no getenv in the library, file sizes: one test.
out=$(BUILD="$build" python3 tests/check_layers.py 2>&1); rc=$?
printf '%s\n' "$out"
if [ $rc -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); failed_bins+=("tests/check_layers.py"); fi
[ ${#failed_bins[@]} -gt 0 ] && echo "failing: ${failed_bins[*]}"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
