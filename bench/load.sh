#!/usr/bin/env bash
# The service under load: starts `casie serve` on 127.0.0.1, then
#  1. wrk, CONNS connections for SECONDS (30 s timeout per request), POSTing
#     real articles (the dev annotations of the corpus when it is there, else
#     tests/data and the sample article) with one malformed request in 20
#     (bench/load.lua), after a warm-up under the same load until RSS
#     settles; the server's RSS sampled every second;
#  2. slow clients: SLOW connections that send a request a byte a second,
#     while good requests go on; each must be cut by --timeout, and the
#     good requests must keep their latency;
#  3. stopping under load: SIGTERM while wrk keeps CONNS keep-alive
#     connections busy, once on GET /healthz and once POSTing articles (a
#     fresh server each, --shutdown-timeout 5);
# then checks: no socket error, no 5xx, every malformed request a 4xx, every
# other a 200, RSS flat (end within 10% + 8 MB of the level after warm-up),
# slow clients cut, good requests under 2 s while they hang on, and each
# stop under load ends with exit 0 within the shutdown timeout.
#   bench/load.sh [SECONDS=60] [CONNS=64] [SLOW=16]      (CASIE=build/casie)
# and, apart:
#   bench/load.sh memory FILE...     (CTYPE=text/plain, FORMAT=json, ARGS=)
# posts each file once to a fresh server (one worker, no --max-memory, the
# largest --max-body) and prints the rise of its peak RSS (VmHWM) per byte.
set -uo pipefail
if [ "${1:-}" = memory ]; then
  shift
  casie=${CASIE:-build/casie}
  for f in "$@"; do
    port=$((20000 + RANDOM % 20000))
    # shellcheck disable=SC2086
    "$casie" serve --port "$port" --threads 1 --max-body 268435456 --max-memory 0 ${ARGS:-} 2>/dev/null &
    srv=$!
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    hwm() { awk '/^VmHWM/ {print $2}' "/proc/$srv/status"; }
    base=$(hwm)
    out=$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{time_total}' -H "Content-Type: ${CTYPE:-text/plain}" \
      --data-binary @"$f" "http://127.0.0.1:$port/v1/extract?format=${FORMAT:-json}")
    peak=$(hwm)
    size=$(stat -c %s "$f")
    read -r code got took <<< "$out"
    echo "memory: $f: $size bytes, status $code, answer $got bytes in $took s; peak RSS $((base / 1024)) -> $((peak / 1024)) MB," \
      "$(( (peak - base) * 1024 / size )) bytes per byte"
    kill "$srv"; wait "$srv"
  done
  exit 0
fi
secs=${1:-60}; conns=${2:-64}; slow=${3:-16}
casie=${CASIE:-build/casie}
corpus=${CASIE_CORPUS:-../shared/casie}
port=${PORT:-$((20000 + RANDOM % 20000))}
timeout=${TIMEOUT:-5}
max_body=1048576
tmp=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; [ -n "$srv" ] && wait "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$2"; then echo "load: ok   $1"; else echo "load: FAIL $1"; fail=1; fi; }

if [ -f "$corpus/splits/dev.txt" ]; then
  sed "s|^|$corpus/annotation/|;s|\$|.json|" "$corpus/splits/dev.txt" > "$tmp/list"
else
  printf '%s\n' examples/sample-article.txt tests/data/drift.json > "$tmp/list"
fi
"$casie" serve --port "$port" --threads 2 --max-body "$max_body" --max-connections 256 --timeout "$timeout" \
  2>"$tmp/serve.log" &
srv=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
echo "load: casie serve pid $srv on 127.0.0.1:$port, $(wc -l < "$tmp/list") articles, $conns connections, $secs s"

rss() { awk '/^VmRSS/ {print int($2 / 1024)}' "/proc/$srv/status"; }
# warm-up: rounds of 10 s of the same load until RSS settles (a round adds
# under 5% + 2 MB; 6 rounds at most), so that RSS starts from its working level
# (taken as the last round's highest sample)
# (the bodies in flight, the allocator's arenas, each worker's buffers grown to
# the largest article it has met) and the check is for growth. The accurate
# model answers about 20 times fewer requests a second than the fast one, so it
# needs more rounds to meet every article.
rss0=$(rss)
( while kill -0 "$srv" 2>/dev/null; do rss >> "$tmp/rss_warm"; sleep 1; done ) &
warm_sampler=$!
for round in 1 2 3 4 5 6; do
  wrk -t 2 -c "$conns" -d 10s --timeout 30s -s bench/load.lua "http://127.0.0.1:$port" -- "$tmp/list" 20 "$max_body" \
    > "$tmp/warm.out" 2>&1
  prev=$rss0; rss0=$(rss)
  [ "$rss0" -le $((prev + prev / 20 + 2)) ] && break
done
kill "$warm_sampler" 2>/dev/null
# the working level: the highest RSS sampled in the warm-up's last round (the
# requests in flight at one sampling differ from those at the next)
warm_max=$(tail -n 10 "$tmp/rss_warm" | sort -n | tail -1)
[ -n "$warm_max" ] && [ "$warm_max" -gt "$rss0" ] && rss0=$warm_max
echo "load: warm-up $round round(s) of 10 s, RSS $rss0 MB (the last round's highest sample)"
( while kill -0 "$srv" 2>/dev/null; do rss >> "$tmp/rss"; sleep 1; done ) &
sampler=$!
wrk -t 2 -c "$conns" -d "${secs}s" --timeout 30s -s bench/load.lua "http://127.0.0.1:$port" -- "$tmp/list" 20 "$max_body" \
  > "$tmp/wrk.out" 2>&1
kill "$sampler" 2>/dev/null
rss1=$(rss)
grep '^load:' "$tmp/wrk.out"
rss_max=$(sort -n "$tmp/rss" | tail -1)
echo "load: RSS after warm-up $rss0 MB, at the end $rss1 MB, max $rss_max MB (samples: $(tr '\n' ' ' < "$tmp/rss" | cut -c1-200))"
statuses=$(grep '^load: statuses' "$tmp/wrk.out")
sent_bad=$(grep -o 'malformed sent [0-9]*' "$tmp/wrk.out" | grep -o '[0-9]*$')
n4xx=0; n200=0; nother=0
for kv in ${statuses#load: statuses }; do
  k=${kv%=*}; v=${kv#*=}
  case $k in 200) n200=$((n200 + v)) ;; 4??) n4xx=$((n4xx + v)) ;; *) nother=$((nother + v)) ;; esac
done
errs=$(grep -o 'errors connect [0-9]* read [0-9]* write [0-9]* timeout [0-9]*' "$tmp/wrk.out")
check "no socket errors ($errs)" '[ "$(echo "$errs" | grep -o "[0-9]*" | awk "{s += \$1} END {print s + 0}")" = 0 ]'
check "no status other than 200 and 4xx ($nother)" '[ "$nother" -eq 0 ]'
# the last requests of each connection may be sent but not answered when wrk stops
check "every malformed request a 4xx ($n4xx of $sent_bad sent)" '[ "$n4xx" -le "$sent_bad" ] && [ "$n4xx" -ge $((sent_bad - conns)) ]'
check "good requests answered 200 ($n200)" '[ "$n200" -gt 0 ]'
check "RSS flat ($rss0 -> $rss1 MB)" '[ "$rss1" -le $((rss0 + rss0 / 10 + 8)) ]'

# ---- slow clients: a byte a second ----
# The time of one good request alone, first (the quickest of three: the first
# waits while the server finishes what wrk left in flight). The accurate model
# is slow on a slow CPU, so "unaffected" is measured against it.
alone=1e9
for _ in 1 2 3; do
  t=$(curl -s -o /dev/null -w '%{time_total}' -H 'Content-Type: text/plain' \
    --data-binary @examples/sample-article.txt "http://127.0.0.1:$port/v1/extract")
  alone=$(echo "$t $alone" | awk '{print ($1 < $2) ? $1 : $2}')
done
bound=$(echo "$alone" | awk '{printf "%.3f", 2 * $1 + 1}')
req=$'POST /v1/extract HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\nHackers stole data.\n'
for i in $(seq "$slow"); do
  ( trap '' PIPE # a write to the cut connection fails (EPIPE) instead of killing the client
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    t0=$(date +%s)
    for ((k = 0; k < ${#req}; k++)); do
      printf '%s' "${req:k:1}" >&3 2>/dev/null || break
      sleep 1
    done
    echo $(( $(date +%s) - t0 )) > "$tmp/slow.$i" ) 2>/dev/null &
done
sleep 1
worst=0; good=0; bad_good=0
t_end=$(( $(date +%s) + timeout + 3 ))
while [ "$(date +%s)" -lt "$t_end" ]; do
  out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'Content-Type: text/plain' \
    --data-binary @examples/sample-article.txt "http://127.0.0.1:$port/v1/extract")
  code=${out% *}; t=${out#* }
  if [ "$code" = 200 ]; then good=$((good + 1)); else bad_good=$((bad_good + 1)); fi
  worst=$(echo "$t $worst" | awk '{print ($1 > $2) ? $1 : $2}')
done
wait_deadline=$(( $(date +%s) + 10 ))
while [ "$(ls "$tmp"/slow.* 2>/dev/null | wc -l)" -lt "$slow" ] && [ "$(date +%s)" -lt "$wait_deadline" ]; do sleep 0.5; done
cut=$(cat "$tmp"/slow.* 2>/dev/null | awk -v lim=$((timeout + 3)) '$1 <= lim' | wc -l)
echo "load: slow clients $slow (a byte a second, --timeout $timeout s): $cut cut within $((timeout + 3)) s;" \
  "meanwhile $good good requests, $bad_good failed, slowest $worst s (alone $alone s)"
check "slow clients cut by the timeout ($cut of $slow)" '[ "$cut" -eq "$slow" ]'
check "good requests unaffected by slow clients ($good ok, $bad_good failed, slowest $worst s, bound $bound s)" \
  '[ "$bad_good" -eq 0 ] && [ "$good" -gt 0 ] && awk "BEGIN{exit !($worst < $bound)}"'
check "server alive" 'kill -0 "$srv"'
kill "$srv"; wait "$srv"

# ---- stopping under load: SIGTERM with every connection kept busy ----
stop_under() { # NAME, then wrk's arguments after the URL's path
  local name=$1 path=$2; shift 2
  port=$((port + 1))
  "$casie" serve --port "$port" --threads 2 --max-body "$max_body" --shutdown-timeout 5 2>"$tmp/stop.log" &
  srv=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  wrk -t 2 -c "$conns" -d 30s --timeout 30s "$@" "http://127.0.0.1:$port$path" > "$tmp/stop.wrk" 2>&1 &
  local load=$! t0 t1 st
  sleep 3
  t0=$(date +%s.%N)
  kill -TERM "$srv"
  wait "$srv"; st=$?
  t1=$(date +%s.%N)
  kill "$load" 2>/dev/null; wait "$load" 2>/dev/null
  local took; took=$(echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}')
  echo "load: SIGTERM under $name load ($conns keep-alive connections): exit $st after $took s; $(grep -a '^serve: stopped' "$tmp/stop.log")"
  check "stops under $name load (exit $st in $took s)" '[ "$st" -eq 0 ] && awk "BEGIN{exit !($took < 6)}"'
}
stop_under "GET /healthz" /healthz
stop_under "POST /v1/extract" "" -s bench/load.lua -- "$tmp/list" 20 "$max_body"
srv=
exit $fail
