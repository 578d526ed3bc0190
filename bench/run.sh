#!/usr/bin/env bash
# make bench: builds bench/bench.c against the library and prints the table;
# with the peak RSS of `casie extract` over the dev articles.
# BENCH_MB (default 50) sets how much text the throughput runs process.
set -euo pipefail
CASIE=${1:-build/casie}
BUILD=$(dirname "$CASIE")
CORPUS=${CASIE_CORPUS:-../shared/casie}
MODEL=${MODEL:-models/casie-default.model}
if [ ! -f "$CORPUS/splits/dev.txt" ] || [ ! -f "$MODEL" ]; then
  echo "bench: skipped (needs the corpus at $CORPUS and the model at $MODEL)"
  exit 0
fi
cc -std=c11 -D_GNU_SOURCE -O2 -g -Iinclude -Isrc bench/bench.c -o "$BUILD/bench" "$BUILD/libcasie.a" \
  $(pkg-config --libs jansson libutf8proc) -lstemmer -lpthread -lm
"$BUILD/bench" "$MODEL" "$CORPUS" "${BENCH_MB:-50}" "$CASIE"
