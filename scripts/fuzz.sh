#!/usr/bin/env bash
# Runs the fuzz targets one after the other (nice'd), each on its corpus in
# build-fuzz/fuzz/corpus/<target>/ for at most SECONDS and RUNS executions:
#   scripts/fuzz.sh SECONDS [RUNS] [TARGET...]   (default: all, 0 = no run limit)
#   scripts/fuzz.sh 1200 jsonl http              (RUNS may be left out)
# Crashes, leaks, timeouts and sanitizer reports stop a target, leave the
# reproducer in build-fuzz/fuzz/findings/<target>/ and make the exit status 1.
# One line per target as it ends (executions, seconds, findings), and a
# table of every target's executions at the end.  FUZZ_NICE sets the nice
# level (19 unless set).  `make fuzz` first.
set -uo pipefail
secs=${1:?usage: fuzz.sh SECONDS [RUNS] [TARGET...]}
shift
runs=0
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then runs=$1; shift; fi
dir=build-fuzz/fuzz
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(tokenize json jsonl model http extract outname encoder_import)
rc=0
summary=()
for t in "${targets[@]}"; do
  if [ ! -x "$dir/fuzz_$t" ]; then
    echo "fuzz: no $dir/fuzz_$t (make fuzz)" >&2
    rc=1
    continue
  fi
  mkdir -p "$dir/findings/$t"
  log=$dir/$t.log
  start=$(date +%s)
  args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$dir/findings/$t/")
  [ "$runs" -gt 0 ] && args+=(-runs="$runs")
  # The targets that extract are slow per token (ASan over the networks):
  # short inputs, and a longer timeout (an input of 13 ms natively took 0.7 s
  # in this build, and over 10 s at nice 19 on a busy machine).  jsonl and
  # http extract with the tiny model: 768 and 1024 bytes still reach lines
  # longer than the reader's first buffer (256), a batch of 64 records,
  # http's --max-body and --max-memory (512 and 256 bytes, fuzz/fuzz_http.c)
  # and sentences longer than a network chunk (256 tokens).  extract runs the
  # default model, whose networks cost about 5 ms per 512 bytes here: 128.
  case $t in
    jsonl) args+=(-max_len=768 -timeout=30) ;;
    http) args+=(-max_len=1024 -timeout=30) ;;
    extract) args+=(-max_len=128 -timeout=30) ;;
  esac
  [ -f "fuzz/$t.dict" ] && args+=(-dict="fuzz/$t.dict")
  nice -n "${FUZZ_NICE:-19}" "$dir/fuzz_$t" "${args[@]}" "$dir/corpus/$t" >"$log" 2>&1
  st=$?
  took=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  # stopped by a finding: no final stats, the last status line's count
  [ -z "$execs" ] && execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  found=$(find "$dir/findings/$t" -type f | wc -l)
  printf 'fuzz %-14s %12s execs %6d s  exit %d  findings %d  (log %s)\n' "$t" "${execs:-?}" "$took" "$st" "$found" "$log"
  summary+=("$(printf '%-14s %12s %8d %10s %6d %8d' "$t" "${execs:-?}" "$took" \
    "$([ -n "$execs" ] && [ "$took" -gt 0 ] && echo $(( execs / took )) || echo '?')" "$st" "$found")")
  if [ $st -ne 0 ]; then rc=1; grep -m5 -E 'ERROR|SUMMARY|runtime error' "$log"; fi
done
echo "fuzz: totals ($secs s a target at most)"
printf '%-14s %12s %8s %10s %6s %8s\n' target execs seconds 'execs/s' exit findings
for l in "${summary[@]}"; do echo "$l"; done
exit $rc
