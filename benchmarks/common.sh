# Shared by benchmarks/run.sh and benchmarks/net.sh (sourced): finds a JDK 25+, builds the uber jar,
# describes the machine. Expects ROOT (the repository root) and JAR to be set.

JDK=$("$ROOT/scripts/jdk25") # the JDK 25 the build's toolchain selects
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
