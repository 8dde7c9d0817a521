#!/bin/bash
# Boot a real systemd (Debian 12, systemd 252) in systemd-nspawn on a host whose PID 1 is NOT systemd.
# The rootfs is cached under target/ so that a CI run builds it once for all its tests.
# usage: systemd-testhost.sh up | exec CMD... | down        (needs root)
# Seen working on this kind of machine: systemd 252 boots in ~0.3 s from a cached rootfs (debootstrap
# the first time: ~50 s, ~300 MB). Talk to it with `exec` (nsenter); `systemctl -M` does not work here
# (no machined on the host). `--output=json` works for list-units; journalctl -o json works.
# Timers: OnUnitActiveSec= alone never fires the first time; add OnActiveSec= or OnBootSec=, and
# AccuracySec=1s for short test intervals. MainPIDs are the container's: kill from inside.
# Resource controls (MemoryMax=, CPUQuota=) are probably not enforced in this container.
# NSPAWN_ARGS passes extra options, e.g. "--bind-ro=$PWD/target/release:/opt/orchestrator".
set -euo pipefail
BASE=${BASE:-$(cd "$(dirname "$0")/.." && pwd)/target/systemd-testhost}; ROOT=$BASE/rootfs; NAME=${NAME:-sdtest}; CG=nspawn-$NAME
HIER="systemd unified"          # cgroup-v1 name=systemd + cgroup2 'unified' (hybrid host)
init_pid() { cat /sys/fs/cgroup/systemd/$CG/payload/init.scope/cgroup.procs 2>/dev/null | head -1; }
case "${1:-}" in
up)
  if ! command -v systemd-nspawn >/dev/null || ! command -v debootstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd-container debootstrap
  fi
  mkdir -p "$BASE"
  if [ ! -x "$ROOT/lib/systemd/systemd" ]; then            # cacheable: tar up $ROOT between CI runs
    # the same Debian mirror apt uses on this machine
    MIRROR=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1)
    [ -n "$MIRROR" ] || MIRROR=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    # Built beside the cache and renamed into place only when whole: a run killed halfway leaves
    # no partial root that the check above would take for a finished one.
    rm -rf "$ROOT.partial" "$ROOT"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,procps,python3 \
      bookworm "$ROOT.partial" ${MIRROR:+"$MIRROR"}
    echo "$NAME" > "$ROOT.partial/etc/hostname"
    systemctl --root="$ROOT.partial" mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer
    mv "$ROOT.partial" "$ROOT"
  fi
  # Run nspawn inside its own cgroup so its "payload" sub-cgroup is private and removable afterwards.
  for h in $HIER; do mkdir -p /sys/fs/cgroup/$h/$CG; done
  ( for h in $HIER; do echo $BASHPID > /sys/fs/cgroup/$h/$CG/cgroup.procs; done
    exec setsid systemd-nspawn -D "$ROOT" -b -M "$NAME" --register=no --keep-unit \
         --console=read-only ${NSPAWN_ARGS:-} </dev/null >"$BASE/$NAME.console.log" 2>&1 ) &
  echo $! > "$BASE/$NAME.pid"
  for i in $(seq 300); do                                  # wait (max 30 s) until boot finished
    P=$(init_pid || true)
    if [ -n "$P" ]; then
      S=$(timeout 30 nsenter -t "$P" -a systemctl is-system-running --wait 2>/dev/null || true)
      case "$S" in running|degraded) echo "container $NAME up: init pid $P, state $S"; exit 0;; esac
    fi
    kill -0 "$(cat "$BASE/$NAME.pid")" || { cat "$BASE/$NAME.console.log"; exit 1; }
    sleep 0.1
  done
  echo "boot timeout"; exit 1 ;;
exec)
  shift; exec nsenter -t "$(init_pid)" -a "$@" ;;
down)
  N=$(cat "$BASE/$NAME.pid")
  kill -TERM "$N" 2>/dev/null || true                       # nspawn -> SIGRTMIN+3 -> clean poweroff
  timeout 30 tail --pid="$N" -f /dev/null || kill -KILL "$N"
  for h in $HIER; do [ -d /sys/fs/cgroup/$h/$CG ] && find /sys/fs/cgroup/$h/$CG -depth -type d -exec rmdir {} \; ; done
  rm -rf /run/systemd/nspawn/propagate/"$NAME" "$BASE/$NAME.pid"
  echo "container $NAME down" ;;
*) echo "usage: $0 up|exec CMD...|down" >&2; exit 2 ;;
esac
