#!/usr/bin/env bash
# make run: extract events from the bundled sample article with the default
# model and print them readably (set JSON=1 for the CASIE JSON).
set -euo pipefail
CASIE=${1:-build/casie}
MODEL=models/casie-default.model
SAMPLE=examples/sample-article.txt
if [ ! -f "$MODEL" ]; then
  echo "run: no default model at $MODEL; showing the text pipeline only (casie tokenize)" >&2
  "$CASIE" tokenize "$SAMPLE" | head -40
  exit 0
fi
if [ "${JSON:-0}" = 1 ]; then
  "$CASIE" extract -m "$MODEL" "$SAMPLE"
else
  "$CASIE" extract -m "$MODEL" --format text "$SAMPLE"
fi
