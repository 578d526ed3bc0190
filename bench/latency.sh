#!/usr/bin/env bash
# The service's latency per article: starts `casie serve` on 127.0.0.1 with
# MODEL and THREADS workers, then one client POSTs each dev article (the
# corpus's source texts, in the split's order) one request at a time, so
# that each request finds the other workers idle, and prints the p50, p95
# and mean of curl's total time, after one warm-up pass over the first 10.
#   bench/latency.sh [MODEL=accurate] [THREADS=1]   (CASIE=build/casie,
#   CASIE_CORPUS=../shared/casie, N=100 articles)
set -euo pipefail
model=${1:-accurate}
threads=${2:-1}
casie=${CASIE:-build/casie}
corpus=${CASIE_CORPUS:-../shared/casie}
n=${N:-100}
[ -f "$corpus/splits/dev.txt" ] || { echo "latency: no corpus at $corpus" >&2; exit 1; }
port=$((20000 + RANDOM % 20000))
"$casie" serve --port "$port" -m "$model" --threads "$threads" 2>/dev/null &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
post() {
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H 'Content-Type: text/plain' \
    --data-binary @"$corpus/source/$1.txt" "http://127.0.0.1:$port/v1/extract"
}
for id in $(head -n 10 "$corpus/splits/dev.txt"); do post "$id" >/dev/null; done
times=$(for id in $(head -n "$n" "$corpus/splits/dev.txt"); do post "$id"; done)
bad=$(awk '$1 != 200' <<<"$times" | wc -l)
[ "$bad" -eq 0 ] || { echo "latency: $bad requests without a 200" >&2; exit 1; }
sort -n -k2 <<<"$times" | awk -v model="$model" -v threads="$threads" '{ t[NR] = $2; s += $2 } END {
  p50 = t[int(0.50 * (NR - 1)) + 1]; p95 = t[int(0.95 * (NR - 1)) + 1]
  printf "latency: %s model, %d threads, %d articles one at a time: p50 %.0f ms, p95 %.0f ms, mean %.0f ms\n",
    model, threads, NR, 1000 * p50, 1000 * p95, 1000 * s / NR }'
