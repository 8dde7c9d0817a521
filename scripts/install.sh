#!/usr/bin/env bash
# Installs orchestrator: the binary, the systemd units, the man pages, shell completions and a
# commented example config (an existing config is never overwritten); enables the timer when
# systemd runs this host.
#
# usage: scripts/install.sh [--prefix DIR] [--root DIR] [--binary PATH] [--no-enable] [--uninstall]
#   --prefix DIR   where bin/ and share/ go (default /usr/local)
#   --root DIR     install into DIR as if it were / (packaging, tests); implies --no-enable
#   --binary PATH  install this binary instead of building one with cargo build --release
#   --uninstall    remove what an install put there; the config and the database stay
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=/usr/local ROOT="" BINARY="" ENABLE=1 UNINSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=$2; shift 2 ;;
    --root) ROOT=${2%/}; ENABLE=0; shift 2 ;;
    --binary) BINARY=$2; shift 2 ;;
    --no-enable) ENABLE=0; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
MANIFEST=$ROOT$PREFIX/share/orchestrator/install-manifest
systemd_runs() { [ -z "$ROOT" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

if [ "$UNINSTALL" = 1 ]; then
  [ -f "$MANIFEST" ] || { echo "install.sh: nothing installed under $ROOT$PREFIX (no $MANIFEST)" >&2; exit 1; }
  if [ "$ENABLE" = 1 ] && systemd_runs; then
    systemctl disable --now orchestrator.timer orchestrator-dashboard.service 2>/dev/null || true
  fi
  while read -r file; do rm -f "$ROOT$file"; done < "$MANIFEST"
  rm -f "$MANIFEST"; rmdir "$ROOT$PREFIX/share/orchestrator" 2>/dev/null || true
  if [ "$ENABLE" = 1 ] && systemd_runs; then systemctl daemon-reload; fi
  echo "orchestrator removed from $ROOT$PREFIX; kept $ROOT/etc/orchestrator and $ROOT/var/lib/orchestrator"
  exit 0
fi

if [ -z "$BINARY" ]; then
  cargo build --release --quiet --bin orchestrator
  BINARY=target/release/orchestrator
fi
installed=()
put() { # mode source destination (without ROOT)
  install -D -m "$1" "$2" "$ROOT$3"
  installed+=("$3")
}

put 0755 "$BINARY" "$PREFIX/bin/orchestrator"
for unit in systemd/*.service systemd/*.timer; do
  tmp=$(mktemp)
  sed "s|/usr/local/bin/orchestrator|$PREFIX/bin/orchestrator|g" "$unit" > "$tmp"
  put 0644 "$tmp" "/etc/systemd/system/$(basename "$unit")"
  rm -f "$tmp"
done
for page in man/*.1; do put 0644 "$page" "$PREFIX/share/man/man1/$(basename "$page")"; done
put 0644 man/orchestrator.toml.5 "$PREFIX/share/man/man5/orchestrator.toml.5"
put 0644 completions/orchestrator.bash "$PREFIX/share/bash-completion/completions/orchestrator"
put 0644 completions/_orchestrator "$PREFIX/share/zsh/site-functions/_orchestrator"
put 0644 completions/orchestrator.fish "$PREFIX/share/fish/vendor_completions.d/orchestrator.fish"

CONFIG=$ROOT/etc/orchestrator/orchestrator.toml
if [ -e "$CONFIG" ]; then
  echo "keeping the existing $CONFIG"
else
  install -d -m 0755 "$ROOT/etc/orchestrator"
  "$BINARY" config default > "$CONFIG"
  chmod 0644 "$CONFIG"
  echo "wrote the example config $CONFIG"
fi
# The state keeps raw command and agent output: root's alone. node_exporter reads the metrics.
install -d -m 0700 "$ROOT/var/lib/orchestrator"
install -d -m 0755 "$ROOT/var/lib/prometheus/node-exporter"
mkdir -p "$(dirname "$MANIFEST")"
printf '%s\n' "${installed[@]}" > "$MANIFEST"

if [ "$ENABLE" = 1 ] && systemd_runs; then
  systemctl daemon-reload
  systemctl enable --now orchestrator.timer
  echo "enabled orchestrator.timer; the dashboard is opt-in: systemctl enable --now orchestrator-dashboard"
fi
echo "installed orchestrator to $ROOT$PREFIX (${#installed[@]} files)"
