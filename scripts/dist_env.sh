#!/usr/bin/env bash
# The virtual environment that builds the self-contained wheel and runs
# Spark: build/distenv (DISTENV overrides), with the pinned, hashed packages of
# python/requirements-build.txt (setuptools, wheel, auditwheel) and
# python/requirements-spark.txt (pyspark, py4j), installed with
# --require-hashes.  Idempotent: quick when the environment matches both
# files; rebuilt when either changes.  make test runs it (--soft outside CI:
# a failure, e.g. no network, is a note and the wheel and Spark tests say
# they are skipped; under CI=true it fails the run).
#
#   scripts/dist_env.sh [--soft]
set -euo pipefail
soft=0
if [ "${1:-}" = "--soft" ]; then soft=1; shift; fi
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${DISTENV:-build/distenv}
BREQ=python/requirements-build.txt
SREQ=python/requirements-spark.txt
fail() {
  echo "dist_env: $*" >&2
  if [ $soft -eq 1 ]; then
    echo "dist_env: continuing without $VENV (the wheel and Spark tests will be skipped)" >&2
    exit 0
  fi
  exit 1
}
if [ -x "$VENV/bin/python" ] && cat "$BREQ" "$SREQ" | cmp -s - "$VENV/requirements.txt"; then
  exit 0
fi
command -v "$PY" >/dev/null 2>&1 || fail "$PY not found (scripts/setup.sh installs python3-venv)"
rm -rf "$VENV"
"$PY" -m venv "$VENV" || fail "cannot make a virtual environment in $VENV"
pip=("$VENV/bin/pip" install -q --disable-pip-version-check --require-hashes)
echo "dist_env: installing $BREQ and $SREQ into $VENV (pyspark: a 318 MB download, once)" >&2
"${pip[@]}" -r "$BREQ" || { rm -rf "$VENV"; fail "pip could not install $BREQ"; }
# pyspark is an sdist: built with the setuptools just installed, not a fetched one
"${pip[@]}" --no-build-isolation -r "$SREQ" || { rm -rf "$VENV"; fail "pip could not install $SREQ"; }
cat "$BREQ" "$SREQ" > "$VENV/requirements.txt"
