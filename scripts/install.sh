#!/usr/bin/env bash
# Installs orchestrator: the binary, the systemd units, the man pages, shell completions, the
# commented example config and the default config (an existing config is never overwritten).
# It enables nothing unless asked to with --enable, and with DESTDIR it touches nothing outside
# DESTDIR.
#
# usage: scripts/install.sh [--prefix DIR] [--sysconfdir DIR] [--localstatedir DIR]
#                           [--unitdir DIR] [--destdir DIR] [--binary PATH] [--enable] [--uninstall]
#   --prefix DIR      bin/, share/man, share/doc/orchestrator/examples, completions and
#                     lib/systemd/system go under DIR (default /usr/local)
#   --sysconfdir DIR  orchestrator/orchestrator.toml goes under DIR (default /etc when the
#                     prefix is /usr or /usr/local, where the binary looks; else PREFIX/etc,
#                     and then the units pass -c to the binary)
#   --localstatedir DIR  the state (lib/orchestrator) and the metrics textfile directory
#                     (lib/prometheus/node-exporter) go under DIR (default /var when the prefix
#                     is /usr or /usr/local; else PREFIX/var, and then the config written names
#                     the database and the units name both directories)
#   --unitdir DIR     the systemd units (default PREFIX/lib/systemd/system)
#   --destdir DIR     stage everything under DIR, as if it were / (packaging, tests); the same
#                     as DESTDIR=DIR, in the environment or as an argument; --root DIR is an
#                     older name for it
#   --binary PATH     install this binary instead of building one with cargo build --release
#   --enable          reload systemd and enable --now orchestrator.timer (not with DESTDIR)
#   --uninstall       remove what an install put there; the config and the database stay.
#                     Without DESTDIR on a host running systemd it first disables the units
#                     it removes, so no enabled link is left pointing at nothing.
# The state stays in LOCALSTATEDIR/lib/orchestrator (/var/lib/orchestrator, the units'
# StateDirectory=, by default), under DESTDIR if set.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=/usr/local SYSCONFDIR="" LOCALSTATEDIR="" UNITDIR="" DESTDIR=${DESTDIR:-} BINARY="" ENABLE=0 UNINSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2%/}; shift 2 ;;
    --sysconfdir) SYSCONFDIR=${2%/}; shift 2 ;;
    --localstatedir) LOCALSTATEDIR=${2%/}; shift 2 ;;
    --unitdir) UNITDIR=${2%/}; shift 2 ;;
    --destdir|--root) DESTDIR=$2; shift 2 ;;
    DESTDIR=*) DESTDIR=${1#DESTDIR=}; shift ;;
    --binary) BINARY=$2; shift 2 ;;
    --enable) ENABLE=1; shift ;;
    --no-enable) ENABLE=0; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
DESTDIR=${DESTDIR%/}
for dir in "$PREFIX" "$SYSCONFDIR" "$LOCALSTATEDIR" "$UNITDIR"; do
  case "$dir" in /*|"") ;; *) echo "install.sh: $dir is not an absolute path" >&2; exit 2 ;; esac
done
[ -n "$PREFIX" ] || { echo "install.sh: --prefix / is not supported; use --prefix /usr" >&2; exit 2; }
if [ -n "$DESTDIR" ] && [ "$ENABLE" = 1 ]; then
  echo "install.sh: --enable with DESTDIR refused: the staged root is not the running system" >&2
  exit 2
fi
# autotools' layout: /etc and /var beside the system's own prefixes, inside any other.
if [ -z "$SYSCONFDIR" ]; then
  case "$PREFIX" in /usr|/usr/local) SYSCONFDIR=/etc ;; *) SYSCONFDIR=$PREFIX/etc ;; esac
fi
if [ -z "$LOCALSTATEDIR" ]; then
  case "$PREFIX" in /usr|/usr/local) LOCALSTATEDIR=/var ;; *) LOCALSTATEDIR=$PREFIX/var ;; esac
fi
STATEDIR=$LOCALSTATEDIR/lib/orchestrator
TEXTFILEDIR=$LOCALSTATEDIR/lib/prometheus/node-exporter
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
  echo "orchestrator removed from $DESTDIR$PREFIX; kept $DESTDIR$SYSCONFDIR/orchestrator and $DESTDIR$STATEDIR"
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
# The state and the textfile directory where LOCALSTATEDIR puts them. systemd makes a
# StateDirectory= only under /var/lib: elsewhere this script makes it (0700, below) instead.
units_sed=(-e "s|/usr/local/bin/orchestrator|$RUN|g")
if [ "$LOCALSTATEDIR" != /var ]; then
  units_sed+=(-e "s|/var/lib/orchestrator|$STATEDIR|g"
              -e "s|/var/lib/prometheus/node-exporter|$TEXTFILEDIR|g"
              -e "/^StateDirectory/d")
fi
for unit in systemd/*.service systemd/*.timer; do
  [ -e "$unit" ] || continue
  tmp=$(mktemp)
  sed "${units_sed[@]}" "$unit" > "$tmp"
  put 0644 "$tmp" "$UNITDIR/$(basename "$unit")"
  rm -f "$tmp"
done
for page in man/*.1; do put 0644 "$page" "$PREFIX/share/man/man1/$(basename "$page")"; done
put 0644 man/orchestrator.toml.5 "$PREFIX/share/man/man5/orchestrator.toml.5"
put 0644 completions/orchestrator.bash "$PREFIX/share/bash-completion/completions/orchestrator"
put 0644 completions/_orchestrator "$PREFIX/share/zsh/site-functions/_orchestrator"
put 0644 completions/orchestrator.fish "$PREFIX/share/fish/vendor_completions.d/orchestrator.fish"
# The full commented example orchestrator.toml(5) points to.
put 0644 examples/orchestrator.toml "$PREFIX/share/doc/orchestrator/examples/orchestrator.toml"

if [ -e "$DESTDIR$CONFIG" ]; then
  echo "keeping the existing $DESTDIR$CONFIG"
else
  install -d -m 0755 "$DESTDIR$SYSCONFDIR/orchestrator"
  # The embedded default as it is, whatever the host that runs this script: not trimmed of
  # the systemd checks, as `config default` trims them on a host without systemd.
  cp src/config/default.toml "$DESTDIR$CONFIG"
  if [ "$LOCALSTATEDIR" != /var ]; then
    printf '\n# Where install.sh --localstatedir put the state.\n[state]\ndb = "%s/orchestrator.db"\n' \
      "$STATEDIR" >> "$DESTDIR$CONFIG"
  fi
  chmod 0644 "$DESTDIR$CONFIG"
  echo "wrote the default config $DESTDIR$CONFIG"
fi
# The state keeps raw command and agent output: root's alone. node_exporter reads the metrics.
install -d -m 0700 "$DESTDIR$STATEDIR"
install -d -m 0755 "$DESTDIR$TEXTFILEDIR"
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
