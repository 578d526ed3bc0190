#!/usr/bin/env bash
# make run: extract events from the bundled sample article with the default
# model (the accurate one when its encoder is installed, else the fast one;
# MODEL=fast or MODEL=accurate picks one) and print them readably (JSON=1
# for the CASIE JSON).
set -euo pipefail
CASIE=${1:-build/casie}
SAMPLE=examples/sample-article.txt
if [ ! -f models/casie-fast.model ]; then
  echo "run: no models in models/; showing the text pipeline only (casie tokenize)" >&2
  "$CASIE" tokenize "$SAMPLE" | head -40
  exit 0
fi
args=()
[ -n "${MODEL:-}" ] && args=(-m "$MODEL")
unset CASIE_MODEL
if [ "${JSON:-0}" = 1 ]; then
  "$CASIE" extract "${args[@]}" "$SAMPLE"
else
  "$CASIE" extract "${args[@]}" --format text "$SAMPLE"
fi
