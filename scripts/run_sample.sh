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
if [ -z "${MODEL:-}" ]; then # say which model the default is
  if echo . | "$CASIE" extract -m accurate >/dev/null 2>&1; then
    echo "run: the default model is the accurate one (models/casie-accurate.model and its encoder)" >&2
  else
    echo "run: the default model is the fast one (the accurate one's encoder is not installed)" >&2
  fi
fi
if [ "${JSON:-0}" = 1 ]; then
  "$CASIE" extract "${args[@]}" "$SAMPLE"
else
  "$CASIE" extract "${args[@]}" --format text "$SAMPLE"
fi
