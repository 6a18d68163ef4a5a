#!/usr/bin/env bash
# Makes sure MariaDB (server + client) is installed: the tests run a real MariaDB topology (local/topology.ts).
# Idempotent and silent when it is already there.
set -euo pipefail

have_mariadb() {
  { command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; } &&
    command -v mariadb-install-db >/dev/null 2>&1 &&
    command -v mariadb >/dev/null 2>&1
}

if have_mariadb; then
  exit 0
fi

echo "installing mariadb-server (needed by the tests)…"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
else
  echo "error: MariaDB is not installed and this user cannot install it (not root, no sudo)." >&2
  echo "Install it as root: apt-get update && apt-get install -y --no-install-recommends mariadb-server mariadb-client" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: MariaDB is not installed and apt-get is not available on this system." >&2
  echo "Install the MariaDB server and client (mariadbd, mariadb-install-db, mariadb, 10.5 or newer) with your package manager." >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends mariadb-server mariadb-client

if ! have_mariadb; then
  echo "error: mariadb-server was installed but mariadbd / mariadb-install-db / mariadb are still not found." >&2
  exit 1
fi
