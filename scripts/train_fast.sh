#!/usr/bin/env bash
# Rebuilds models/casie-fast.model, byte for byte when run at the commit its
# metadata names ("commit"): averaged perceptrons and BiLSTM-CRF networks
# over GloVe vectors (scripts/fetch_glove.sh), on feature version 3, trained
# on the training split and tuned on dev (epochs, mixes, biases), with the
# argument category classifier trained on the training split.  7 minutes on
# 2 cores alone.
#   scripts/train_fast.sh [OUT]          (default models/casie-fast.model)
# Environment: CASIE_CORPUS (../shared/casie), CASIE (build/casie).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${CASIE_CORPUS:-../shared/casie}
casie=${CASIE:-build/casie}
out=${1:-models/casie-fast.model}
[ -f data/glove/clusters.tsv ] || bash scripts/fetch_glove.sh
commit=$(bash scripts/source_commit.sh)
"$casie" train --corpus "$corpus" --train train --dev dev --feature-version 3 \
  --recipe scripts/train_fast.sh --commit "$commit" -o "$out"
