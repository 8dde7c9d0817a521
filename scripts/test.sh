#!/usr/bin/env bash
# The one test command (README, .ci/run): checks the format and the lints (first: they need
# nothing installed), installs with apt-get what the tests need when it is missing, then runs
# every test with cargo. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# Format and lints before the tests. Where rustup manages the toolchain it adds rustfmt and
# clippy first. A developer's machine without them says so and skips that check; under CI
# (`CI` set, as .ci/run is run) a missing tool fails the run, so a green CI always means
# formatted and lint-clean.
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 ||
    echo "scripts/test.sh: rustup could not add rustfmt and clippy" >&2
fi
missing_tool() {
  if [ -n "${CI:-}" ]; then
    echo "scripts/test.sh: $1 is not installed, and CI must run it" >&2
    exit 1
  fi
  echo "scripts/test.sh: skipping $2: $1 is not installed" >&2
}
if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --check
else
  missing_tool "cargo fmt" "the format check"
fi
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --all-targets --locked -- -D warnings
else
  missing_tool "cargo clippy" "the lints"
fi

# Debian packages the tests run for real, keyed by a file each one provides.
declare -A NEEDS=(
  [/usr/lib/nagios/plugins/check_tcp]=monitoring-plugins-basic
  [/usr/lib/nagios/plugins/check_http]=monitoring-plugins-basic
  [/usr/lib/nagios/plugins/check_disk]=monitoring-plugins-basic
  [/usr/lib/nagios/plugins/check_procs]=monitoring-plugins-basic
  [/usr/lib/python3/dist-packages/aiosmtpd/__init__.py]=python3-aiosmtpd
  [/usr/bin/chromium]=chromium
  [/usr/bin/systemd-nspawn]=systemd-container
  [/usr/sbin/debootstrap]=debootstrap
  [/usr/bin/prometheus-alertmanager]=prometheus-alertmanager
  [/usr/bin/strace]=strace
  [/usr/bin/promtool]=prometheus
  [/usr/bin/python3]=python3
  [/usr/sbin/nginx]=nginx
  [/usr/bin/redis-server]=redis-server
  [/usr/lib/postgresql/15/bin/postgres]=postgresql
  [/usr/share/doc/python3-venv]=python3-venv
  [/usr/bin/redis-cli]=redis-tools
  [/usr/sbin/sshd]=openssh-server
  [/usr/bin/psql]=postgresql-client
  [/usr/sbin/ip]=iproute2
  [/usr/bin/unshare]=util-linux
  [/usr/bin/openssl]=openssl
  [/usr/bin/time]=time
)

missing=()
for file in "${!NEEDS[@]}"; do
  [ -e "$file" ] || missing+=("${NEEDS[$file]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "scripts/test.sh: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/test.sh: need root to apt-get install ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The official MCP SDK from PyPI, pinned: the real client tests/mcp.rs drives `orchestrator mcp`
# with. Installed once into a venv under target/; the marker says which version is there.
MCP_SDK=mcp==2.3.0
venv=target/mcp-venv
if [ ! -e "$venv/.installed-$MCP_SDK" ]; then
  echo "scripts/test.sh: installing $MCP_SDK into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "$MCP_SDK"
  touch "$venv/.installed-$MCP_SDK"
fi

# The system tests (root, the packages above, real systemd) run only when asked; a plain
# `cargo test` skips them and says so.
export ORCHESTRATOR_SYSTEM_TESTS=1
cargo build --all-targets
cargo test "$@"
