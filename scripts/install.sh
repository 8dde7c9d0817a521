#!/usr/bin/env bash
# Installs orchestrator: the binary, the systemd units, the man pages, shell completions and a
# commented example config (an existing config is never overwritten). It enables nothing unless
# asked to with --enable, and with DESTDIR it touches nothing outside DESTDIR.
#
# usage: scripts/install.sh [--prefix DIR] [--sysconfdir DIR] [--unitdir DIR] [--destdir DIR]
#                           [--binary PATH] [--enable] [--uninstall]
#   --prefix DIR      bin/, share/man, completions and lib/systemd/system go under DIR
#                     (default /usr/local)
#   --sysconfdir DIR  orchestrator/orchestrator.toml goes under DIR (default /etc when the
#                     prefix is /usr or /usr/local, where the binary looks; else PREFIX/etc,
#                     and then the units pass -c to the binary)
#   --unitdir DIR     the systemd units (default PREFIX/lib/systemd/system)
#   --destdir DIR     stage everything under DIR, as if it were / (packaging, tests); the same
#                     as DESTDIR=DIR, in the environment or as an argument; --root DIR is an
#                     older name for it
#   --binary PATH     install this binary instead of building one with cargo build --release
#   --enable          reload systemd and enable --now orchestrator.timer (not with DESTDIR)
#   --uninstall       remove what an install put there; the config and the database stay.
#                     Without DESTDIR on a host running systemd it first disables the units
#                     it removes, so no enabled link is left pointing at nothing.
# The state stays in /var/lib/orchestrator (the units' StateDirectory=), under DESTDIR if set.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=/usr/local SYSCONFDIR="" UNITDIR="" DESTDIR=${DESTDIR:-} BINARY="" ENABLE=0 UNINSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2%/}; shift 2 ;;
    --sysconfdir) SYSCONFDIR=${2%/}; shift 2 ;;
    --unitdir) UNITDIR=${2%/}; shift 2 ;;
    --destdir|--root) DESTDIR=$2; shift 2 ;;
    DESTDIR=*) DESTDIR=${1#DESTDIR=}; shift ;;
    --binary) BINARY=$2; shift 2 ;;
    --enable) ENABLE=1; shift ;;
    --no-enable) ENABLE=0; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
DESTDIR=${DESTDIR%/}
for dir in "$PREFIX" "$SYSCONFDIR" "$UNITDIR"; do
  case "$dir" in /*|"") ;; *) echo "install.sh: $dir is not an absolute path" >&2; exit 2 ;; esac
done
[ -n "$PREFIX" ] || { echo "install.sh: --prefix / is not supported; use --prefix /usr" >&2; exit 2; }
if [ -n "$DESTDIR" ] && [ "$ENABLE" = 1 ]; then
  echo "install.sh: --enable with DESTDIR refused: the staged root is not the running system" >&2
  exit 2
fi
if [ -z "$SYSCONFDIR" ]; then
  case "$PREFIX" in /usr|/usr/local) SYSCONFDIR=/etc ;; *) SYSCONFDIR=$PREFIX/etc ;; esac
fi
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}
MANIFEST=$DESTDIR$PREFIX/share/orchestrator/install-manifest
live_systemd() { [ -z "$DESTDIR" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

if [ "$UNINSTALL" = 1 ]; then
  [ -f "$MANIFEST" ] || { echo "install.sh: nothing installed under $DESTDIR$PREFIX (no $MANIFEST)" >&2; exit 1; }
  if live_systemd; then
    units=$(grep -E '\.(service|timer)$' "$MANIFEST" | xargs -r -n1 basename)
    # shellcheck disable=SC2086 # one word per unit name
    [ -z "$units" ] || systemctl disable --now $units 2>/dev/null || true
  fi
  while read -r file; do rm -f "$DESTDIR$file"; done < "$MANIFEST"
  rm -f "$MANIFEST"; rmdir "$DESTDIR$PREFIX/share/orchestrator" 2>/dev/null || true
  if live_systemd; then systemctl daemon-reload; fi
  echo "orchestrator removed from $DESTDIR$PREFIX; kept $DESTDIR$SYSCONFDIR/orchestrator and $DESTDIR/var/lib/orchestrator"
  exit 0
fi

if [ -z "$BINARY" ]; then
  cargo build --release --quiet --bin orchestrator
  BINARY=target/release/orchestrator
fi
installed=()
put() { # mode source destination (without DESTDIR)
  install -D -m "$1" "$2" "$DESTDIR$3"
  installed+=("$3")
}

# The units run the installed binary, with the installed config when it is not where the
# binary looks by default.
CONFIG=$SYSCONFDIR/orchestrator/orchestrator.toml
RUN=$PREFIX/bin/orchestrator
[ "$SYSCONFDIR" = /etc ] || RUN="$RUN -c $CONFIG"
put 0755 "$BINARY" "$PREFIX/bin/orchestrator"
for unit in systemd/*.service systemd/*.timer; do
  [ -e "$unit" ] || continue
  tmp=$(mktemp)
  sed "s|/usr/local/bin/orchestrator|$RUN|g" "$unit" > "$tmp"
  put 0644 "$tmp" "$UNITDIR/$(basename "$unit")"
  rm -f "$tmp"
done
for page in man/*.1; do put 0644 "$page" "$PREFIX/share/man/man1/$(basename "$page")"; done
put 0644 man/orchestrator.toml.5 "$PREFIX/share/man/man5/orchestrator.toml.5"
put 0644 completions/orchestrator.bash "$PREFIX/share/bash-completion/completions/orchestrator"
put 0644 completions/_orchestrator "$PREFIX/share/zsh/site-functions/_orchestrator"
put 0644 completions/orchestrator.fish "$PREFIX/share/fish/vendor_completions.d/orchestrator.fish"

if [ -e "$DESTDIR$CONFIG" ]; then
  echo "keeping the existing $DESTDIR$CONFIG"
else
  install -d -m 0755 "$DESTDIR$SYSCONFDIR/orchestrator"
  "$BINARY" config default > "$DESTDIR$CONFIG"
  chmod 0644 "$DESTDIR$CONFIG"
  echo "wrote the example config $DESTDIR$CONFIG"
fi
# The state keeps raw command and agent output: root's alone. node_exporter reads the metrics.
install -d -m 0700 "$DESTDIR/var/lib/orchestrator"
install -d -m 0755 "$DESTDIR/var/lib/prometheus/node-exporter"
# An earlier install may have put files elsewhere (older versions wrote the units into
# /etc/systemd/system, where they would shadow the new ones): remove what it listed and this
# install did not write again.
if [ -f "$MANIFEST" ]; then
  while read -r old; do
    printf '%s\n' "${installed[@]}" | grep -qxF -- "$old" || rm -f "$DESTDIR$old"
  done < "$MANIFEST"
fi
mkdir -p "$(dirname "$MANIFEST")"
printf '%s\n' "${installed[@]}" > "$MANIFEST"
echo "installed orchestrator to $DESTDIR$PREFIX (${#installed[@]} files)"

if [ "$ENABLE" = 1 ]; then
  live_systemd || { echo "install.sh: --enable: systemd does not run this host" >&2; exit 1; }
  # Units outside systemd's search path are linked into /etc/systemd/system first.
  case "$UNITDIR" in
    /etc/systemd/system|/usr/local/lib/systemd/system|/usr/lib/systemd/system|/lib/systemd/system) ;;
    *) for unit in systemd/*.service systemd/*.timer; do
         [ -e "$unit" ] && systemctl link "$UNITDIR/$(basename "$unit")"
       done ;;
  esac
  systemctl daemon-reload
  systemctl enable --now orchestrator.timer
  echo "enabled orchestrator.timer; the dashboard is opt-in: systemctl enable --now orchestrator-dashboard"
else
  echo "nothing enabled; to run it: systemctl daemon-reload && systemctl enable --now orchestrator.timer"
fi
