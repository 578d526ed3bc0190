#!/usr/bin/env bash
# Seed corpora for the fuzz targets, in DIR/corpus/<target>/ (DIR is
# build-fuzz/fuzz): the fixtures and reproducers of tests/data, the sample article, the tiny
# model, and a few corpus documents when ../shared/casie is there (copied at
# build time, never committed).  Files the fuzzer adds later are kept.
set -euo pipefail
dir=$1
c=$dir/corpus
mkdir -p "$c"/{tokenize,json,jsonl,model,http,extract,outname,encoder_import}
corpus=${CASIE_CORPUS:-../shared/casie}
for f in tests/data/*; do
  [ -f "$f" ] || continue
  case $f in
    *.json) cp "$f" "$c/json/"; cp "$f" "$c/extract/" ;;
    *.jsonl) cp "$f" "$c/jsonl/" ;;
    */http_*) cp "$f" "$c/http/" ;;
    *.model) ;;
    *) cp "$f" "$c/tokenize/"; cp "$f" "$c/extract/" ;;
  esac
done
# the reproducers of fixed findings (tests/data/fuzz/<target>/, replayed by make test);
# encoder_import's are also its seeds: the tiny checkpoints of tests/data/encoder
# in its input format (fuzz/fuzz_encoder_import.c), and each defect refused
for t in tokenize json jsonl model http extract outname encoder_import; do
  for f in tests/data/fuzz/$t/*; do [ -f "$f" ] && cp "$f" "$c/$t/"; done
done
cp examples/sample-article.txt "$c/tokenize/"
cp examples/sample-article.txt "$c/extract/"
{ printf 'POST /v1/extract\ntext/plain\n\377'; cat examples/sample-article.txt; } > "$c/http/sample"
{ printf 'POST /v1/extract?format=stix\napplication/json\n\017'; head -c 3000 tests/data/drift.json; } > "$c/http/stix"
# scripts/fuzz.sh cuts the inputs of http to 1024 bytes, jsonl's to 768,
# extract's to 128: seeds that fit whole (the records of tests/data/records.jsonl are
# short), http's bodies under its --max-body (512) and budget (256)
{ printf 'POST /v1/extract\ntext/plain\n\377'; head -c 400 examples/sample-article.txt; } > "$c/http/sample-400"
{ printf 'POST /v1/extract?format=stix\napplication/json\n\017'; head -1 tests/data/records.jsonl; } > "$c/http/stix-short"
head -c 128 examples/sample-article.txt > "$c/extract/sample-128"
n=0
grep '^{.*}$' tests/data/records.jsonl | while IFS= read -r l; do
  n=$((n + 1))
  printf '%s\n' "$l" > "$c/extract/record-$n.json"
done
# the model loader: mode byte bit 0 clear (as is) or set (checksums
# recomputed); bit 1 set: extract with what loads (fuzz/fuzz_model.c)
{ printf '\000'; cat "$dir/tiny.model"; } > "$c/model/tiny-load"
{ printf '\001'; cat "$dir/tiny.model"; } > "$c/model/tiny-fixed-load"
{ printf '\002'; cat "$dir/tiny.model"; } > "$c/model/tiny"
{ printf '\003'; cat "$dir/tiny.model"; } > "$c/model/tiny-fixed"
# and the tiny model with a trigger bias of 0 (fuzz/make_tiny_model.c): on
# fuzz_model's article it finds 4 events with 10 arguments, where the
# sparse one finds none
if [ -x "$dir/make_tiny_model" ] && "$dir/make_tiny_model" models/casie-fast.model "$dir/tiny-dense.model" 64 0; then
  { printf '\002'; cat "$dir/tiny-dense.model"; } > "$c/model/tiny-dense"
  { printf '\003'; cat "$dir/tiny-dense.model"; } > "$c/model/tiny-dense-fixed"
fi
if [ -d "$corpus/annotation" ]; then
  # a few small documents (under 4 KB) from the annotated corpus
  find "$corpus/annotation" -name '*.json' -size -4k | sort | head -20 | while read -r f; do
    b=$(basename "$f" .json)
    cp "$f" "$c/json/$b.json"
    [ -f "$corpus/source/$b.txt" ] && cp "$corpus/source/$b.txt" "$c/tokenize/$b.txt"
  done
  find "$corpus/annotation" -name '*.json' -size -4k | sort | head -5 | while read -r f; do
    cp "$f" "$c/extract/"
    tr -d '\n' < "$f" >> "$c/jsonl/corpus.jsonl"; echo >> "$c/jsonl/corpus.jsonl"
  done
  # and three records of their first 300 bytes (whole words, JSON-escaped),
  # which fit under jsonl's 768
  find "$corpus/source" -name '*.txt' | sort | sed -n 1,3p | while read -r f; do
    t=$(head -c 300 "$f" | tr '\n\r\t' '   ' | sed -e 's/[^ ]*$//' -e 's/\\/\\\\/g' -e 's/"/\\"/g')
    printf '{"id": "%s", "text": "%s"}\n' "$(basename "$f" .txt)" "$t"
  done > "$c/jsonl/corpus-short.jsonl"
fi
echo "fuzz: seeds in $c ($(find "$c" -type f | wc -l) files)"
