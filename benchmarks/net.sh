#!/usr/bin/env bash
# The echo benchmark: each server alone in its own JVM, loaded by EchoLoad (one NIO thread, its own JVM)
# over loopback, with a JDK 25 found as benchmarks/run.sh finds it.
#
#   benchmarks/net.sh          full: C in 1 100 1000 10000, 5 s warm-up + 10 s measured per run
#                              (6 servers x 4 C: about 12 min), results in benchmarks/target/net/full
#   benchmarks/net.sh quick    smoke test: C in 1 100, 1 s + 3 s (about 3 min), benchmarks/target/net/quick
#   benchmarks/net.sh report DIR   regenerates DIR/net.md and DIR/net.png from DIR/results.jsonl
#
# For every C, every server in turn (interleaved: A B C A B C ... when NET_REPEATS > 1): start the server,
# wait for its READY line, run the timed load, then hold NET_IDLE idle connections (each after one echo)
# and read the server's VmRSS, then stop the server. Each run appends JSON lines to results.jsonl; at the
# end NetReport writes net.md (table) and net.png (chart) beside it.
#
# Settings (environment): NET_CS="1 100", NET_WARMUP / NET_MEASURE (seconds), NET_REPEATS (1),
# NET_IDLE (10000), NET_HOLD (idle hold, seconds), NET_SERVERS="nio,coro" (a subset by name:
# nio, netty, vt, vt-1carrier, coro, coro-threads),
# NET_SERVER_OPTS (JVM flags of every server, default -Xmx1g), NET_LOAD_OPTS (the load generator's),
# NET_PORT (first port; each server start takes the next one), NET_SUB_WINDOW_MS / NET_STARVE_MS (the
# starvation criteria, 1000 each), SKIP_BUILD=1 (reuse the jar).
# Loopback only; every step is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JAR=$ROOT/benchmarks/target/benchmarks.jar
# shellcheck source=benchmarks/common.sh
source "$ROOT/benchmarks/common.sh"

# The servers: NAME|MAIN CLASS|JVM FLAGS, one line each. coro runs on its continuation engine (which
# needs the exports flag), coro-threads on its thread engine (a virtual thread per coroutine).
SERVERS=(
  "nio|dev.coro.bench.net.NioEchoServer|"
  "netty|dev.coro.bench.net.NettyEchoServer|"
  "vt|dev.coro.bench.net.VirtualThreadEchoServer|"
  "vt-1carrier|dev.coro.bench.net.VirtualThreadEchoServer|-Djdk.virtualThreadScheduler.parallelism=1 -Djdk.virtualThreadScheduler.maxPoolSize=1"
  "coro|dev.coro.bench.net.CoroEchoServer|--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED -Dcoro.engine=continuation"
  "coro-threads|dev.coro.bench.net.CoroEchoServer|-Dcoro.engine=threads"
)

LOAD_MAIN=dev.coro.bench.net.EchoLoad
SERVER_OPTS=${NET_SERVER_OPTS:-"-Xmx1g"}
# The client allocates next to nothing: a small heap and the serial collector keep its own threads few.
LOAD_OPTS=${NET_LOAD_OPTS:-"-Xms256m -Xmx256m -XX:+UseSerialGC"}
PORT=${NET_PORT:-23400} # below the ephemeral range (32768-60999), so no client port can take it
server_pid=""

stop_server() {
  [[ -z "$server_pid" ]] && return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap stop_server EXIT

start_server() { # name main flags port log; sets server_pid, returns 1 if no READY line within 30 s
  local name=$1 main=$2 flags=$3 port=$4 log=$5 i
  : > "$log" # exists before the first grep below
  # shellcheck disable=SC2086
  "$JAVA" $SERVER_OPTS $flags -cp "$JAR" "$main" "$port" > "$log" 2>&1 &
  server_pid=$!
  for ((i = 0; i < 300; i++)); do
    if grep -q '^READY' "$log"; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "   $name did not get ready (see $log)" >&2
  stop_server
  return 1
}

selected() { # name: true if NET_SERVERS is unset or lists it
  [[ -z "${NET_SERVERS:-}" ]] && return 0
  [[ ",$NET_SERVERS," == *",$1,"* ]]
}

run_all() { # results dir
  local res=$1 c rep entry name main flags log
  mkdir -p "$res/logs"
  : > "$res/results.jsonl"
  environment "$res"
  {
    echo "Server JVM flags: $SERVER_OPTS (plus each server's own)"
    echo "Load generator JVM flags: $LOAD_OPTS"
    echo "Windows: ${WARMUP} s warm-up, ${MEASURE} s measured; idle: ${IDLE} connections held ${HOLD} s; repeats: ${REPEATS}"
  } >> "$res/env.txt"
  for c in $CS; do
    for ((rep = 1; rep <= REPEATS; rep++)); do
      for entry in "${SERVERS[@]}"; do
        IFS='|' read -r name main flags <<< "$entry"
        selected "$name" || continue
        PORT=$((PORT + 1))
        log=$res/logs/$name-c$c-r$rep.log
        echo "== $name, C=$c, run $rep (port $PORT)"
        start_server "$name" "$main" "$flags" "$PORT" "$log" || continue
        # shellcheck disable=SC2086
        timeout --kill-after=10 $((WARMUP + MEASURE + 90)) "$JAVA" $LOAD_OPTS -cp "$JAR" "$LOAD_MAIN" load \
          --port "$PORT" --connections "$c" --warmup "$WARMUP" --measure "$MEASURE" --server-pid "$server_pid" \
          --sub-window-ms "${NET_SUB_WINDOW_MS:-1000}" --starve-ms "${NET_STARVE_MS:-1000}" \
          --label "$name" --rep "$rep" --json "$res/results.jsonl" 2>&1 | tee -a "$res/load.log" | grep -v '^{' \
          || echo "   the timed run failed or saw errors (see $res/load.log)"
        # shellcheck disable=SC2086
        timeout --kill-after=10 $((HOLD + 150)) "$JAVA" $LOAD_OPTS -cp "$JAR" "$LOAD_MAIN" idle \
          --port "$PORT" --connections "$IDLE" --hold "$HOLD" --server-pid "$server_pid" --for-connections "$c" \
          --label "$name" --rep "$rep" --json "$res/results.jsonl" 2>&1 | tee -a "$res/load.log" | grep -v '^{' \
          || echo "   the idle run failed or saw errors (see $res/load.log)"
        stop_server
      done
    done
  done
}

report() { # results dir
  "$JAVA" -Djava.awt.headless=true -cp "$JAR" dev.coro.bench.net.NetReport "$1"
}

mode=${1:-full}
[[ $# -gt 0 ]] && shift
case "$mode" in
  full)
    CS=${NET_CS:-"1 100 1000 10000"}; WARMUP=${NET_WARMUP:-5}; MEASURE=${NET_MEASURE:-10}; HOLD=${NET_HOLD:-5} ;;
  quick)
    CS=${NET_CS:-"1 100"}; WARMUP=${NET_WARMUP:-1}; MEASURE=${NET_MEASURE:-3}; HOLD=${NET_HOLD:-2} ;;
  report)
    SKIP_BUILD=1 build; report "${1:-$ROOT/benchmarks/target/net/full}"; exit 0 ;;
  *) echo "usage: benchmarks/net.sh [full|quick|report DIR]" >&2; exit 2 ;;
esac
REPEATS=${NET_REPEATS:-1}
IDLE=${NET_IDLE:-10000}

# Every connection is a descriptor on each side (the server and the load generator are separate processes).
need=$(( (IDLE > ${CS##* } ? IDLE : ${CS##* }) + 1000 ))
if (( $(ulimit -n) < need )); then
  ulimit -n "$need" 2>/dev/null || { echo "net.sh: ulimit -n is $(ulimit -n), $need needed" >&2; exit 1; }
fi

start=$(date +%s)
build
RES=$ROOT/benchmarks/target/net/$mode
rm -rf "$RES"; mkdir -p "$RES"
run_all "$RES"
report "$RES"
echo "== done in $(( $(date +%s) - start )) s: $RES/results.jsonl, $RES/net.md, $RES/net.png"
