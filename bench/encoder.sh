#!/usr/bin/env bash
# make bench, the encoder part: casie's transformer encoder on one thread
# (bench/encoder.c) beside the same encoder under ONNX Runtime on one thread
# (bench/encoder_ort.py, float32 and ONNX Runtime's own dynamic int8), for
# all-MiniLM-L6-v2 (6 layers) and a 12-layer encoder of the same shapes (its
# layers twice: bge-small-en-v1.5's and MiniLM-L12's shapes, 12 x 384), and
# all-mpnet-base-v2 (12 x 768, the accurate model's) when it is there, under
# both.
# Pieces per CPU second over sequences of 128 and 512 pieces.
#
# Skipped without the encoder (scripts/fetch_encoder.sh).  ONNX Runtime is
# installed from PyPI into build/bench-venv for the benchmark only; BENCH_ORT=0
# leaves it out (and needs no network).  BENCH_SECONDS (default 2) per figure.
set -euo pipefail
CASIE=${1:-build/casie}
BUILD=$(dirname "$CASIE")
ENC=models/encoders/minilm-l6.enc
SECS=${BENCH_SECONDS:-2}
if [ ! -f "$ENC" ]; then
  echo "bench encoder: skipped (no $ENC; scripts/fetch_encoder.sh minilm-l6 makes it)"
  exit 0
fi
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Iinclude -Isrc bench/encoder.c -o "$BUILD/bench_encoder" \
  "$BUILD/libcasie.a" $(pkg-config --libs jansson libutf8proc) -lstemmer -lpthread -lm
"$BUILD/bench_encoder" --stack 2 "$ENC" "$BUILD/minilm-l6x2.enc"
echo "## casie's encoder, one thread"
"$BUILD/bench_encoder" "$ENC" "$SECS"
echo
"$BUILD/bench_encoder" "$BUILD/minilm-l6x2.enc" "$SECS"
rm -f "$BUILD/minilm-l6x2.enc"
# the accurate model's encoder, 12 layers with their own weights, when fetched
# (scripts/fetch_encoder.sh mpnet-base)
if [ -f models/encoders/mpnet-base.enc ]; then
  echo
  "$BUILD/bench_encoder" models/encoders/mpnet-base.enc "$SECS"
fi

[ "${BENCH_ORT:-1}" = 1 ] || exit 0
echo
echo "## the same encoder under ONNX Runtime, one thread"
venv="$BUILD/bench-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import numpy, onnx, onnxruntime' 2>/dev/null; then
  python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check \
    numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0 ||
    { echo "bench encoder: could not install ONNX Runtime into $venv: skipped"; exit 0; }
fi
ckpt="$BUILD/bench-ckpt"
if [ ! -f "$ckpt/model.safetensors" ]; then
  KEEP_CHECKPOINT="$ckpt" FORCE=1 CASIE="$CASIE" bash scripts/fetch_encoder.sh minilm-l6 >/dev/null ||
    { echo "bench encoder: could not fetch the checkpoint: skipped"; exit 0; }
fi
echo "| runtime | pieces/s, 128 a pass | pieces/s, 512 a pass |"
echo "|---|---|---|"
for stack in 1 2; do
  for q in "" --int8; do
    "$venv/bin/python" bench/encoder_ort.py "$ckpt" --stack $stack --seconds "$SECS" $q ||
      echo "| ONNX Runtime ($((6 * stack)) layers${q:+, int8}): failed, see above | | |"
  done
done
# all-mpnet-base-v2 the same way, when it was fetched
if [ -f models/encoders/mpnet-base.enc ]; then
  mck="$BUILD/bench-ckpt-mpnet"
  if [ ! -f "$mck/model.safetensors" ]; then
    KEEP_CHECKPOINT="$mck" FORCE=1 CASIE="$CASIE" bash scripts/fetch_encoder.sh mpnet-base >/dev/null ||
      { echo "bench encoder: could not fetch all-mpnet-base-v2's checkpoint: skipped"; exit 0; }
  fi
  for q in "" --int8; do
    "$venv/bin/python" bench/encoder_ort.py "$mck" --seconds "$SECS" $q ||
      echo "| ONNX Runtime (MPNet-base${q:+, int8}): failed, see above | | |"
  done
fi
