#!/usr/bin/env bash
# The driver and ORM matrix of the real-ProxySQL tier (test/proxysql/drivers.test.ts) runs code nobody here wrote:
# Debian's packages of the common MySQL drivers and ORMs. Installs the ones that are missing; idempotent and silent
# when all are there. npm's drivers and ORMs (mysql2, mysql, knex, sequelize, typeorm, drizzle-orm) are dev
# dependencies of the project.
set -euo pipefail

PACKAGES=(
  python3 python3-pymysql python3-mysqldb python3-sqlalchemy python3-django
  default-jdk-headless libmariadb-java
  golang-go golang-github-go-sql-driver-mysql-dev
  php-cli php-mysql php-doctrine-dbal
  ruby ruby-mysql2 ruby-activerecord
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing the driver matrix's packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
  echo "error: cannot install ${missing[*]} (not root, no sudo); install them with apt-get as root." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
