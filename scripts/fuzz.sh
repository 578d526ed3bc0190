#!/usr/bin/env bash
# Runs the fuzz targets one after the other (nice'd), each on its corpus in
# build-fuzz/fuzz/corpus/<target>/ for at most SECONDS and RUNS executions:
#   scripts/fuzz.sh SECONDS [RUNS] [TARGET...]     (default: all, 0 = no run limit)
# Crashes, leaks, timeouts and sanitizer reports stop a target, leave the
# reproducer in build-fuzz/fuzz/findings/<target>/ and make the exit status 1.
# One line per target: executions, seconds, findings.  `make fuzz` first.
set -uo pipefail
secs=${1:?usage: fuzz.sh SECONDS [RUNS] [TARGET...]}
runs=${2:-0}
shift $(( $# >= 2 ? 2 : 1 ))
dir=build-fuzz/fuzz
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(tokenize json jsonl model http extract outname)
rc=0
for t in "${targets[@]}"; do
  mkdir -p "$dir/findings/$t"
  log=$dir/$t.log
  start=$(date +%s)
  args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$dir/findings/$t/")
  [ "$runs" -gt 0 ] && args+=(-runs="$runs")
  # the targets that extract are slow per byte: shorter inputs, more of them,
  # and a longer timeout (an input of 13 ms natively takes 0.7 s in this build,
  # and over 10 s at nice 19 on a busy machine)
  case $t in jsonl|http|extract) args+=(-max_len=4096 -timeout=30) ;; esac
  [ -f "fuzz/$t.dict" ] && args+=(-dict="fuzz/$t.dict")
  nice -n 19 "$dir/fuzz_$t" "${args[@]}" "$dir/corpus/$t" >"$log" 2>&1
  st=$?
  took=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  found=$(find "$dir/findings/$t" -type f | wc -l)
  printf 'fuzz %-9s %12s execs %6d s  exit %d  findings %d  (log %s)\n' "$t" "${execs:-?}" "$took" "$st" "$found" "$log"
  if [ $st -ne 0 ]; then rc=1; grep -m5 -E 'ERROR|SUMMARY|runtime error' "$log"; fi
done
exit $rc
