#!/usr/bin/env bash
# The Python package's suite (python/tests): builds a virtual environment in
# build/pyenv with the pinned packages of python/tests/requirements.txt (once;
# again when that file changes), installs ./python into it as a user would
# (pip builds libcasie with this Makefile and bundles the models), checks the
# install left nothing in the source tree, and runs pytest.  The STIX
# consumers get a venv of their own, build/stixenv
# (python/tests/requirements-stix.txt).  Prints pytest's output; exits as
# pytest does.  Run from the repository root (make test).
set -euo pipefail
PY=${PYTHON:-python3}
VENV=${PYENV:-build/pyenv}
REQ=python/tests/requirements.txt
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "test_python: $PY not found (scripts/setup.sh installs python3 and python3-venv)" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$REQ" "$VENV/requirements.txt"; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$VENV/requirements.txt"
fi
# the STIX consumers of test_stix_consumers.py (MISP's importer, stix2, the
# OASIS validator): a venv of their own (misp-stix needs a newer setuptools
# than the package's build pins), every file hash-checked; without network
# it is left unbuilt and that test skips (which CI refuses)
SVENV=${STIXENV:-build/stixenv}
SREQ=python/tests/requirements-stix.txt
if [ ! -x "$SVENV/bin/python" ] || ! cmp -s "$SREQ" "$SVENV/requirements.txt"; then
  rm -rf "$SVENV"
  if "$PY" -m venv "$SVENV" &&
    "$SVENV/bin/pip" install -q --disable-pip-version-check --require-hashes -r "$SREQ" >&2; then
    cp "$SREQ" "$SVENV/requirements.txt"
  else
    echo "test_python: could not build $SVENV from $SREQ: test_stix_consumers will skip" >&2
    rm -rf "$SVENV"
  fi
fi
export STIXENV=$SVENV
before=$(git status --porcelain --untracked-files=all python 2>/dev/null || true)
# the exact tree as it is now; setuptools and wheel come pinned from the venv
"$VENV/bin/pip" install -q --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall ./python
after=$(git status --porcelain --untracked-files=all python 2>/dev/null || true)
if [ "$before" != "$after" ]; then
  echo "test_python: pip install ./python left files git shows:" >&2
  diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") >&2 || true
  exit 1
fi
exec "$VENV/bin/pytest" -p no:cacheprovider -rs "$@" python/tests
