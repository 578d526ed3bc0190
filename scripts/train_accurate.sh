#!/usr/bin/env bash
# Trains models/casie-accurate.model: the fast model's networks over the
# all-mpnet-base-v2 encoder (scripts/fetch_encoder.sh; the mean of its layers
# 4-7, two trigger networks), with every choice made
# on a fixed slice of the training split, never on dev: the first 627
# training documents train, the last 70 choose the epochs, mixes, biases,
# confidence scales and coreference settings.  28 minutes on 2 cores (1.2 GB
# peak RSS); the encoder reads 7 of its 12 layers.
#   scripts/train_accurate.sh [OUT]      (default models/casie-accurate.model)
# Environment: CASIE_CORPUS (../shared/casie), ENCODER
# (models/encoders/mpnet-base.enc), CASIE (build/casie).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${CASIE_CORPUS:-../shared/casie}
encoder=${ENCODER:-models/encoders/mpnet-base.enc}
casie=${CASIE:-build/casie}
out=${1:-models/casie-accurate.model}
[ -f "$encoder" ] || { echo "train_accurate: no encoder at $encoder (scripts/fetch_encoder.sh)" >&2; exit 1; }
[ -f data/glove/clusters.tsv ] || bash scripts/fetch_glove.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=$(grep -c . "$corpus/splits/train.txt")
head -n $((n - 70)) "$corpus/splits/train.txt" > "$tmp/fit.txt"
tail -n 70 "$corpus/splits/train.txt" > "$tmp/tune.txt"
"$casie" train --corpus "$corpus" --train "$tmp/fit.txt" --dev "$tmp/tune.txt" --encoder "$encoder" \
  --enc-first 4 --enc-last 7 --trig-nets 2 -o "$out"
