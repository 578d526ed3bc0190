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
# the model loader: mode byte 0 (as is) and 1 (checksums recomputed)
{ printf '\000'; cat "$dir/tiny.model"; } > "$c/model/tiny"
{ printf '\001'; cat "$dir/tiny.model"; } > "$c/model/tiny-fixed"
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
fi
echo "fuzz: seeds in $c ($(find "$c" -type f | wc -l) files)"
