#!/usr/bin/env bash
# Builds the benchmarks module and runs the suite with the JDK 25 the build uses (scripts/jdk25).
#
#   benchmarks/run.sh              the full suite (12-15 min on 2 cores, estimated; skynet alone ~2.5 min): JMH (-prof gc), memory, scale, timer lateness,
#                                  then regenerates docs/BENCHMARKS.md, docs/benchmarks.png, docs/coro-vs-kotlinx.png, docs/results/
#   benchmarks/run.sh quick        a quick subset (~1 min): switch, round trip, yield N=2, virtual-thread handoffs;
#                                  report in benchmarks/target/quick/docs (docs/ is left alone)
#   benchmarks/run.sh jmh ARGS...  JMH itself, e.g. `jmh SwitchBenchmark -f 1 -prof gc`, `jmh 'kotlin|rivals' -f 1`
#   benchmarks/run.sh interleaved  each target's pair (sleep/yield, select/ping-pong, switch/raw, await/join ...) in
#                                  alternating slices (load-proof ratios); INTERLEAVED_ONLY=REGEX runs only the pairs named
#   benchmarks/run.sh buildratio OLD.jar NEW.jar [REGEX]   two builds of coro in one JVM, each workload (switch, yield,
#                                  sleep, sleep at scale, select, channel ...) in alternating slices: new / old (JVM flags for both via BUILDRATIO_FLAGS, e.g. a recording)
#   benchmarks/run.sh probe NAME ARGS...  one of the analysis's probes (dev.coro.bench.probe: ScaleRounds,
#                                  YieldCost, ReadAheadSumRatio, SuspendedHeap, SleepShapes, SleepLoop, AwaitMark, CrossCoreFloor, CrossThreadRivals, RawLateness, FrozenStack, AwaitOnPoolThreads), JVM flags via PROBE_FLAGS
#   benchmarks/run.sh memory       bytes per suspended coroutine vs raw continuation
#   benchmarks/run.sh scale        1,000,000 coroutines x 10 yields, cold and warm
#   benchmarks/run.sh lateness [N] [S] [R]  timer lateness on the real clock, both engines (seconds): N coroutines
#                                  (100,000) x S sleeps (10) of 1-100 ms, R rounds (3, all but the last warm-up);
#                                  the thread engine's N is LATENESS_THREADS_N (100,000 too by default)
#   benchmarks/run.sh report DIR   regenerates docs/ from the results in DIR (default benchmarks/target/results)
#
# JMH settings of the full run can be changed with JMH_OPTS (default below); SKIP_BUILD=1 reuses the jar.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JAR=$ROOT/benchmarks/target/benchmarks.jar
EXPORTS=--add-exports=java.base/jdk.internal.vm=ALL-UNNAMED
FULL_JMH_OPTS=${JMH_OPTS:-"-f 2 -wi 2 -w 1s -i 3 -r 1s"}
# MemoryFootprint.JVM_FLAGS: compile in the foreground, keep the suspend methods out of line
MEMORY_FLAGS="-XX:-BackgroundCompilation -XX:CompileCommand=quiet -XX:CompileCommand=dontinline,dev.coro.bench.MemoryFootprint::*Suspend"


# shellcheck source=benchmarks/common.sh
source "$ROOT/benchmarks/common.sh"

jmh() {
  "$JAVA" -jar "$JAR" "$@"
}

report() { # results dir, docs dir
  "$JAVA" -Djava.awt.headless=true -cp "$JAR" dev.coro.bench.report.Report "$1" "$2" "$ROOT/benchmarks/ANALYSIS.md"
}

mode=${1:-full}
[[ $# -gt 0 ]] && shift
case "$mode" in
  full)
    start=$(date +%s)
    build
    RES=$ROOT/benchmarks/target/results
    rm -rf "$RES"; mkdir -p "$RES"
    environment "$RES"
    echo "== JMH, all benchmarks ($FULL_JMH_OPTS -prof gc)"
    # shellcheck disable=SC2086
    jmh $FULL_JMH_OPTS -prof gc -rf json -rff "$RES/jmh.json" | tee "$RES/jmh.log" | grep --line-buffered -E "^# Benchmark:|^# Run progress|^([a-z]+\.)?[A-Z][A-Za-z]+Benchmark\." || true
    echo "== interleaved switch and round trip"
    "$JAVA" "$EXPORTS" -cp "$JAR" dev.coro.bench.InterleavedRatio "$RES/interleaved.json"
    echo "== memory"
    "$JAVA" -Xmx3g "$EXPORTS" $MEMORY_FLAGS -cp "$JAR" dev.coro.bench.MemoryFootprint "$RES/memory.json"
    echo "== scale"
    "$JAVA" -cp "$JAR" dev.coro.bench.ScaleRunner "$RES/scale.json"
    echo "== timer lateness, both engines"
    "$JAVA" "$EXPORTS" -cp "$JAR" dev.coro.bench.TimerLateness 100000 10 3 "$RES/lateness.jsonl"
    "$JAVA" "$EXPORTS" -Dcoro.engine=threads -cp "$JAR" dev.coro.bench.TimerLateness "${LATENESS_THREADS_N:-100000}" 10 3 "$RES/lateness.jsonl"
    echo "== report"
    report "$RES" "$ROOT/docs"
    mkdir -p "$ROOT/docs/results"
    cp "$RES/jmh.json" "$RES/interleaved.json" "$RES/memory.json" "$RES/scale.json" "$RES/lateness.jsonl" "$RES/env.txt" "$ROOT/docs/results/"
    echo "== done in $(( $(date +%s) - start )) s: docs/BENCHMARKS.md, docs/benchmarks.png, docs/coro-vs-kotlinx.png, docs/results/"
    ;;
  quick)
    build
    RES=$ROOT/benchmarks/target/quick/results
    rm -rf "$RES"; mkdir -p "$RES"
    environment "$RES"
    jmh 'SwitchBenchmark.(coroSwitchTo|rawTrampoline|vtParkUnpark|vtParkUnparkParallelism1)$|RoundTripBenchmark|YieldRoundRobinBenchmark.coroYieldN2$' \
      -f 1 -wi 2 -w 1s -i 3 -r 1s -prof gc -rf json -rff "$RES/jmh.json"
    report "$RES" "$ROOT/benchmarks/target/quick/docs"
    ;;
  jmh) build; jmh "$@" ;;
  interleaved) build; "$JAVA" "$EXPORTS" -Dinterleaved.only="${INTERLEAVED_ONLY:-.*}" -cp "$JAR" dev.coro.bench.InterleavedRatio "$@" ;;
  # shellcheck disable=SC2086
  probe) build; name=$1; shift; "$JAVA" "$EXPORTS" ${PROBE_FLAGS:-} -cp "$JAR" "dev.coro.bench.probe.$name" "$@" ;;
  loop) build; "$JAVA" "$EXPORTS" -cp "$JAR" dev.coro.bench.SwitchLoop "$@" ;;
  # shellcheck disable=SC2086
  buildratio) build; "$JAVA" "$EXPORTS" ${BUILDRATIO_FLAGS:-} -cp "$JAR" dev.coro.bench.BuildRatio "$@" ;;
  memory) build; "$JAVA" -Xmx3g "$EXPORTS" $MEMORY_FLAGS -cp "$JAR" dev.coro.bench.MemoryFootprint "$@" ;;
  scale) build; "$JAVA" -cp "$JAR" dev.coro.bench.ScaleRunner "$@" ;;
  lateness)
    build
    "$JAVA" "$EXPORTS" -cp "$JAR" dev.coro.bench.TimerLateness "${1:-100000}" "${2:-10}" "${3:-3}"
    "$JAVA" "$EXPORTS" -Dcoro.engine=threads -cp "$JAR" dev.coro.bench.TimerLateness "${LATENESS_THREADS_N:-${1:-100000}}" "${2:-10}" "${3:-3}"
    ;;
  report) SKIP_BUILD=1 build; report "${1:-$ROOT/benchmarks/target/results}" "$ROOT/docs" ;;
  *) echo "usage: benchmarks/run.sh [full|quick|jmh ARGS...|interleaved|buildratio OLD.jar NEW.jar|loop|memory|scale|lateness [N] [S] [R]|report [DIR]]" >&2; exit 2 ;;
esac
