#!/usr/bin/env bash
# Prints the commit a model is trained from, for its metadata: HEAD's id,
# with "-dirty" when the sources that make a model (src/, include/, tools/,
# the Makefile, the training scripts) differ from it, since such a model
# cannot be rebuilt from any commit; "unknown" outside a git checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! head=$(git rev-parse HEAD 2>/dev/null); then
  echo unknown
  exit 0
fi
if [ -n "$(git status --porcelain -- src include tools Makefile scripts/train_fast.sh scripts/train_accurate.sh)" ]; then
  echo "$head-dirty"
else
  echo "$head"
fi
