#!/usr/bin/env bash
# make bench: builds bench/bench.c against the library and prints the table,
# with the peak RSS of `casie extract` over the dev articles, then the
# ablation table of bench/ablate.c.
# BENCH_MB (default 50) sets how much text the throughput runs process;
# BENCH_ACCURATE_ONLY=1 runs the accurate model's table alone (the AVX2 pass).
set -euo pipefail
CASIE=${1:-build/casie}
BUILD=$(dirname "$CASIE")
CORPUS=${CASIE_CORPUS:-../shared/casie}
MODEL=${MODEL:-models/casie-fast.model}
if [ ! -f "$CORPUS/splits/dev.txt" ] || [ ! -f "$MODEL" ]; then
  echo "bench: skipped (needs the corpus at $CORPUS and the model at $MODEL)"
  exit 0
fi
cc -std=c11 -D_GNU_SOURCE -O2 -g -Iinclude -Isrc bench/bench.c -o "$BUILD/bench" "$BUILD/libcasie.a" \
  $(pkg-config --libs jansson libutf8proc) -lstemmer -lpthread -lm
# passes: CPU seconds per extraction pass, for comparing builds (built here, run by hand)
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Iinclude bench/passes.c -o "$BUILD/passes" "$BUILD/libcasie.a" \
  $(pkg-config --libs jansson libutf8proc) -lstemmer -lpthread -lm
# ablate: the dev figures and CPU s per pass with the networks switched off a
# group at a time (what each part costs and buys)
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Iinclude -Isrc bench/ablate.c -o "$BUILD/ablate" "$BUILD/libcasie.a" \
  $(pkg-config --libs jansson libutf8proc) -lstemmer -lpthread -lm
# what made the figures: the CPU, and the SIMD path this build takes on it
cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')
if [ "${SIMD:-}" = avx2 ]; then
  path="AVX2 (a build without AVX-512: make SIMD=avx2)"
elif grep -qw avx512_vnni /proc/cpuinfo; then
  path="AVX-512 VNNI"
elif grep -qw avx2 /proc/cpuinfo; then
  path="AVX2"
else
  path="plain C"
fi
echo "## $cpu, $(nproc) cores; SIMD path: $path"
if [ "${BENCH_ACCURATE_ONLY:-0}" != 1 ]; then
  "$BUILD/bench" "$MODEL" "$CORPUS" "${BENCH_MB:-50}" "$CASIE"
  echo
  "$BUILD/ablate" "$MODEL" "$CORPUS" "${ABLATE_PASSES:-3}"
fi

# The accurate model, when it and its encoder are installed: the same table
# over less text (it reads about 60 times slower).
ACCURATE=models/casie-accurate.model
if [ -f "$ACCURATE" ] && [ -f models/encoders/mpnet-base.enc ]; then
  echo
  echo "accurate model ($ACCURATE):"
  "$BUILD/bench" "$ACCURATE" "$CORPUS" "${BENCH_ACCURATE_MB:-0.3}" "$CASIE"
fi

# Training time per stage (BENCH_TRAIN=1): the default model's recipe, timed
# from the timestamps casie train prints.
if [ "${BENCH_TRAIN:-0}" = 1 ]; then
  log=$(mktemp)
  clusters=()
  [ -f data/glove/clusters.tsv ] || clusters=(--clusters none)
  "$CASIE" train --corpus "$CORPUS" --train train --dev dev -o "$(mktemp -u).model" "${clusters[@]}" 2>"$log"
  stamp() { grep -E "$1" "$log" | tail -1 | sed -E 's/^train: \[ *([0-9.]+)s\].*/\1/'; }
  echo
  echo "| training stage (2 threads) | finished at |"
  echo "|---|---|"
  echo "| corpus read, features | $(stamp 'training on') s |"
  echo "| triggers, perceptron (own thread) | $(stamp 'triggers: epoch') s |"
  echo "| triggers, network (same thread) | $(stamp 'triggers \(network\): epoch') s |"
  echo "| arguments, perceptron | $(stamp 'arguments: epoch') s |"
  echo "| entity types, realis (perceptron) | $(stamp 'realis \(sparse\): epoch') s |"
  echo "| coreference | $(stamp 'coreference: epoch') s |"
  echo "| arguments and realis, network | $(stamp 'arguments \(network\): epoch') s |"
  echo "| tuning on dev, done | $(stamp 'training done') s |"
  rm -f "$log"
fi
