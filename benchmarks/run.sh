#!/usr/bin/env bash
# Builds the benchmarks module and runs the suite with the JDK 25 the build uses (scripts/jdk25).
#
#   benchmarks/run.sh              the full suite (12-15 min on 2 cores, estimated; skynet alone ~2.5 min): JMH (-prof gc), memory, scale,
#                                  then regenerates docs/BENCHMARKS.md, docs/benchmarks.png, docs/coro-vs-kotlinx.png, docs/results/
#   benchmarks/run.sh quick        a quick subset (~1 min): switch, round trip, yield N=2, virtual-thread handoffs;
#                                  report in benchmarks/target/quick/docs (docs/ is left alone)
#   benchmarks/run.sh jmh ARGS...  JMH itself, e.g. `jmh SwitchBenchmark -f 1 -prof gc`, `jmh 'kotlin|rivals' -f 1`
#   benchmarks/run.sh interleaved  switch and round trip against raw, in alternating slices (load-proof ratios)
#   benchmarks/run.sh memory       bytes per suspended coroutine vs raw continuation
#   benchmarks/run.sh scale        1,000,000 coroutines x 10 yields, cold and warm
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


JDK=$(scripts/jdk25) # the JDK 25 the build's toolchain selects
JAVA=$JDK/bin/java

build() {
  if [[ "${SKIP_BUILD:-0}" == 1 && -f "$JAR" ]]; then return; fi
  echo "== building the benchmarks with $JDK"
  # Maven runs on the JDK 25 too: on 17, maven-jar-plugin 3.3.0 fails on a fresh build of coro's
  # modular jar (it runs Maven's own jar tool over JDK 25 class files).
  JAVA_HOME=$JDK mvn -q -pl benchmarks -am package -DskipTests 2>&1 | grep -v "sun.misc.Unsafe\|^WARNING: " || true
  [[ -f "$JAR" ]] || { echo "run.sh: the build did not produce $JAR" >&2; exit 1; }
}

environment() { # machine description for the report
  {
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "Commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
    echo "Memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
    echo "OS: $(uname -sr)"
    echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: other builds run beside this one)"
    echo "Java: $JAVA"
  } > "$1/env.txt"
}

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
    echo "== report"
    report "$RES" "$ROOT/docs"
    mkdir -p "$ROOT/docs/results"
    cp "$RES/jmh.json" "$RES/interleaved.json" "$RES/memory.json" "$RES/scale.json" "$RES/env.txt" "$ROOT/docs/results/"
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
  interleaved) build; "$JAVA" "$EXPORTS" -cp "$JAR" dev.coro.bench.InterleavedRatio "$@" ;;
  loop) build; "$JAVA" "$EXPORTS" -cp "$JAR" dev.coro.bench.SwitchLoop "$@" ;;
  memory) build; "$JAVA" -Xmx3g "$EXPORTS" $MEMORY_FLAGS -cp "$JAR" dev.coro.bench.MemoryFootprint "$@" ;;
  scale) build; "$JAVA" -cp "$JAR" dev.coro.bench.ScaleRunner "$@" ;;
  report) SKIP_BUILD=1 build; report "${1:-$ROOT/benchmarks/target/results}" "$ROOT/docs" ;;
  *) echo "usage: benchmarks/run.sh [full|quick|jmh ARGS...|interleaved|loop|memory|scale|report [DIR]]" >&2; exit 2 ;;
esac
