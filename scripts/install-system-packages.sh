#!/usr/bin/env bash
# Make sure the system packages the tests need are present.
#   scripts/install-system-packages.sh postgres redis chromium
# Idempotent and quiet when everything is already there. Installs with apt-get only when run as
# root; otherwise names what is missing and fails.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin

# What to check for each name, and which apt packages provide it.
present() {
  case "$1" in
    postgres) [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/postgres" ] && command -v psql >/dev/null ;;
    redis) command -v redis-server >/dev/null && command -v redis-cli >/dev/null ;;
    chromium) command -v chromium >/dev/null || command -v chromium-browser >/dev/null ;;
    *) echo "install-system-packages: unknown component '$1' (known: postgres redis chromium)" >&2; exit 2 ;;
  esac
}
apt_packages() {
  case "$1" in
    postgres) echo "postgresql-15 postgresql-client-15" ;;
    redis) echo "redis-server redis-tools" ;;
    chromium) echo "chromium" ;;
  esac
}

[ "$#" -gt 0 ] || set -- postgres redis chromium

missing=()
packages=()
for name in "$@"; do
  if ! present "$name"; then
    missing+=("$name")
    read -ra pkgs <<<"$(apt_packages "$name")"
    packages+=("${pkgs[@]}")
  fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-packages: missing ${missing[*]}; as root run: apt-get install -y ${packages[*]}" >&2
  exit 1
fi

# Another apt/dpkg run (e.g. image provisioning) may hold the lock; apt-get waits for it this long.
apt_opts=(-o DPkg::Lock::Timeout=600 -qq)
export DEBIAN_FRONTEND=noninteractive
echo "install-system-packages: installing ${packages[*]}" >&2
apt-get "${apt_opts[@]}" update >/dev/null
apt-get "${apt_opts[@]}" install -y "${packages[@]}" >/dev/null

for name in "${missing[@]}"; do
  present "$name" || { echo "install-system-packages: $name still missing after install" >&2; exit 1; }
done
