#!/usr/bin/env bash
# Benchmark of `scan` (issue 20), in one run on one machine:
#   one       a scan of one monitoring-plugin check (check_dummy)
#   fifty     a healthy scan of 50 checks: 20 in-process (disk, memory, load, tcp, process),
#             20 http against a local flaky-service, 10 monitoring-plugin commands; parallelism 8
#   ten       ten check_dummy plugin checks, on the quiet host, then with 2 000 extra idle
#             processes on it (the cost of a scan must not grow with the host)
# It prints the median over RUNS runs of wall time, CPU time (user+sys) and peak RSS of each,
# the ratios fifty/one and ten-loaded/ten-quiet, the slowest single check of `fifty`, and the
# CPU time its ten plugins take when run alone (what no scan can save: on N cores, `fifty`
# cannot take less than `one` plus about that time over N).
# The scans of `one`, `fifty` and `ten` take turns, so a load that comes and goes on a shared
# machine weighs on each alike.
#
# usage: scripts/bench-scan.sh [RUNS]   (default 15; needs python3, /usr/bin/time, monitoring-plugins)
#        ORCHESTRATOR_BIN=path scripts/bench-scan.sh   measures that binary (no build)
#        IDLE=N                                        extra idle processes (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-15}
IDLE=${IDLE:-2000}
cargo build --release --quiet --example flaky-service
if [ -z "${ORCHESTRATOR_BIN:-}" ]; then
  cargo build --release --quiet --bin orchestrator
fi
BIN=${ORCHESTRATOR_BIN:-$PWD/target/release/orchestrator}
SVC=$PWD/target/release/examples/flaky-service
PLUGINS=/usr/lib/nagios/plugins
for plugin in check_dummy check_tcp check_disk check_load; do
  [ -x "$PLUGINS/$plugin" ] || { echo "needs $PLUGINS/$plugin (apt-get install monitoring-plugins)" >&2; exit 1; }
done
WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
IDLE_PID=
cleanup() {
  [ -n "$IDLE_PID" ] && kill -- "-$IDLE_PID" 2>/dev/null
  [ -f "$WORK/svc.pid" ] && kill "$(cat "$WORK/svc.pid")" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
"$SVC" --daemon --port "$PORT" --pidfile "$WORK/svc.pid" >/dev/null

plugin() { # name, argv...
  local name=$1; shift
  printf '[[checks]]\nname = "%s"\nkind = "command"\ncommand = [' "$name"
  local sep=
  for word in "$@"; do printf '%s"%s"' "$sep" "$word"; sep=', '; done
  printf ']\n'
}

{ plugin dummy "$PLUGINS/check_dummy" 0 ok; } > "$WORK/one.toml"

{
  echo '[cycle]'; echo 'parallelism = 4'
  for i in $(seq 1 10); do plugin "dummy-$i" "$PLUGINS/check_dummy" 0 ok; done
} > "$WORK/ten.toml"

{
  echo '[cycle]'; echo 'parallelism = 8'
  for i in $(seq 1 4); do
    printf '[[checks]]\nname = "disk-%s"\nkind = "disk"\npath = "/"\n' "$i"
    printf '[[checks]]\nname = "memory-%s"\nkind = "memory"\n' "$i"
    printf '[[checks]]\nname = "load-%s"\nkind = "load"\nwarn = 50.0\ncrit = 99.0\n' "$i"
    printf '[[checks]]\nname = "tcp-%s"\nkind = "tcp"\naddress = "127.0.0.1:%s"\n' "$i" "$PORT"
    printf '[[checks]]\nname = "pid-%s"\nkind = "process"\npidfile = "%s/svc.pid"\n' "$i" "$WORK"
  done
  for i in $(seq 1 20); do
    printf '[[checks]]\nname = "http-%s"\nkind = "http"\nurl = "http://127.0.0.1:%s/health"\n' "$i" "$PORT"
  done
  for i in $(seq 1 4); do
    plugin "plugin-tcp-$i" "$PLUGINS/check_tcp" -H 127.0.0.1 -p "$PORT"
    plugin "plugin-disk-$i" "$PLUGINS/check_disk" -w 5% -c 2% -p /
  done
  for i in 1 2; do plugin "plugin-load-$i" "$PLUGINS/check_load" -w 50,50,50 -c 99,99,99; done
} > "$WORK/fifty.toml"

for name in one ten fifty; do
  "$BIN" -c "$WORK/$name.toml" config check >/dev/null 2>&1 || "$BIN" -c "$WORK/$name.toml" config check
  "$BIN" -q -c "$WORK/$name.toml" --db "$WORK/$name.db" scan >/dev/null   # create and migrate once
done

# Runs one scan; appends "wall_ms cpu_ms rss_kib slowest_check_ms" to WORK/NAME.times. Wall time
# from a monotonic clock around fork and wait; CPU time (the scan and every process it ran)
# from wait4's rusage; peak RSS from /usr/bin/time, a small program: a child forked by
# Python itself would carry Python's own pages into its peak until it execs.
measure() {
  python3 - "$BIN" "$WORK/$1.toml" "$WORK/$1.db" "$WORK/rss" >> "$WORK/$2.times" <<'PY'
import json, os, subprocess, sys, time
binary, config, db, rss = sys.argv[1:5]
started = time.perf_counter()
child = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss,
                          binary, "-q", "-c", config, "--db", db, "--json", "scan"],
                         stdout=subprocess.PIPE)
out = child.stdout.read()
_, status, usage = os.wait4(child.pid, 0)
wall = (time.perf_counter() - started) * 1000
checks = json.loads(out)["checks"]
bad = [c["name"] for c in checks if c["status"] != "ok"]
assert status == 0 and not bad, f"exit {status}, not healthy: {bad}"
cpu = (usage.ru_utime + usage.ru_stime) * 1000
peak = int(open(rss).read().split()[-1])
print(f"{wall:.2f} {cpu:.2f} {peak} {max(c['duration_ms'] for c in checks)}")
PY
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
column_median() { awk -v c="$2" '{print $c}' "$WORK/$1.times" | median; }

# The fifty's ten plugins run alone, one after the other: the sum of their median CPU times.
python3 - "$RUNS" "$WORK/fifty.toml" > "$WORK/plugins-alone" <<'PY'
import os, subprocess, sys, tomllib
runs = int(sys.argv[1])
checks = tomllib.load(open(sys.argv[2], "rb"))["checks"]
total = 0.0
for argv in [c["command"] for c in checks if c["kind"] == "command"]:
    cpu = []
    for _ in range(runs):
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        _, _, usage = os.wait4(child.pid, 0)
        cpu.append((usage.ru_utime + usage.ru_stime) * 1000)
    total += sorted(cpu)[len(cpu) // 2]
print(f"{total:.1f}")
PY

# Idle processes: one Python parent forks them (copy-on-write, a few pages each) in a process
# group of its own, so the cleanup ends them all at once.
start_idle() {
  python3 - "$IDLE" > "$WORK/idle.pid" <<'PY' &
import os, signal, sys
os.setpgid(0, 0)
print(os.getpid(), flush=True)
for _ in range(int(sys.argv[1])):
    if os.fork() == 0:
        while True:
            signal.pause()
while True:
    signal.pause()
PY
  until [ -s "$WORK/idle.pid" ]; do sleep 0.1; done
  IDLE_PID=$(cat "$WORK/idle.pid")
  until [ "$(pgrep -c -g "$IDLE_PID")" -gt "$IDLE" ]; do sleep 0.2; done
  LOADED=$(ls /proc | grep -c '^[0-9]')
}
stop_idle() {
  local group=$IDLE_PID
  kill -- "-$group"; IDLE_PID=; rm -f "$WORK/idle.pid"
  while pgrep -g "$group" >/dev/null; do sleep 0.1; done
}

# Three blocks, so that the machine's other load weighs on the quiet and the loaded runs
# alike: in each, a third of the runs of every scan on the quiet host, then a third of the
# ten-plugin runs beside the idle processes.
BEFORE=$(ls /proc | grep -c '^[0-9]')
for block in 1 2 3; do
  for _ in $(seq "$block" 3 "$RUNS"); do
    measure one one
    measure fifty fifty
    measure ten ten-quiet
  done
  start_idle
  for _ in $(seq "$block" 3 "$RUNS"); do measure ten ten-loaded; done
  stop_idle
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
report() { # name, label
  printf '  %-44s %7.1f ms wall  %7.1f ms CPU  %5.1f MiB peak RSS\n' "$2" \
    "$(column_median "$1" 1)" "$(column_median "$1" 2)" \
    "$(awk -v k="$(column_median "$1" 3)" 'BEGIN {print k / 1024}')"
}
echo "scan, median of $RUNS runs each ($(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)):"
report one "1 plugin check"
report fifty "50 checks (20 in-process, 20 http, 10 plugins)"
report ten-quiet "10 plugin checks, $BEFORE processes on the host"
report ten-loaded "10 plugin checks, $LOADED processes on the host"
echo "  50 checks / 1 check (wall)                   $(ratio "$(column_median fifty 1)" "$(column_median one 1)")   (goal <= 1.2)"
echo "  10 plugins loaded / quiet (wall)             $(ratio "$(column_median ten-loaded 1)" "$(column_median ten-quiet 1)")   (goal <= 1.3)"
echo "  peak RSS of the 50-check scan                $(awk -v k="$(column_median fifty 3)" 'BEGIN {printf "%.1f MiB = %.1f MB", k / 1024, k * 1.024 / 1000}')   (goal <= 10 MB)"
echo "  slowest single check of the 50               $(column_median fifty 4) ms"
echo "  its 10 plugins run alone                     $(cat "$WORK/plugins-alone") ms CPU (sum of medians)"
