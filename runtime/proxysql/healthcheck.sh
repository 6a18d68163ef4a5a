# proxysql-healthcheck: is this task's configuration the one that was deployed, and does it work? Run by ECS as
# the health check of the task's agent container (/bin/sh -c "$PROXYSQL_HEALTH_CHECK"), an image with a MariaDB/MySQL
# client that shares the task's loopback with ProxySQL; with that container's environment.
# Healthy unless one of these is true, each a configuration problem, never the database being down or failing
# over (connection errors are not counted):
#   - fewer application users at runtime than configured (a user ProxySQL's loader dropped);
#   - no server in an application user's writer hostgroup (its default_hostgroup);
#   - an application user cannot log in through ProxySQL to the database (ERROR 1045/1044: wrong password or
#     grants): `SELECT 1` as each user, bounded by 3 s, so a database that is down or failing over (ProxySQL
#     waits for a backend, then 9001) counts as healthy; ProxySQL 2.7.1 records no backend login failure in
#     stats_mysql_errors, so the login itself is the test;
#   - a backend refused the monitor user in the last 120 s (monitor.mysql_server_connect_log).
# Without a client it is unhealthy, never silently weaker: the agent's image is chosen for having one.
# Exit 0 healthy, 1 unhealthy; one line on stderr says why.
bad() { printf 'proxysql-healthcheck: %s\n' "$*" >&2; exit 1; }
c=$(command -v mariadb || command -v mysql) || bad 'no mariadb or mysql client on PATH: run it in the agent container, whose image has one'
case $("$c" --version 2>/dev/null) in *MariaDB* | *mariadb*) tls=--skip-ssl ;; *) tls=--ssl-mode=DISABLED ;; esac
q() { MYSQL_PWD=${PROXYSQL_ADMIN_PASSWORD-} "$c" $tls -h 127.0.0.1 -P "${PROXYSQL_ADMIN_PORT:-6032}" -u "${PROXYSQL_ADMIN_USER:-admin}" --connect-timeout=2 -N -B -e "$1"; }
num() { case $1 in '' | *[!0-9]*) bad "$2: no answer from the admin interface" ;; esac; }

want=${PROXYSQL_EXPECTED_USERS:-1}
case $want in '' | *[!0-9]*) bad "PROXYSQL_EXPECTED_USERS='$want' is not a number" ;; esac
users=$(q 'SELECT COUNT(*) FROM runtime_mysql_users WHERE frontend=1 AND active=1') || bad 'the admin interface does not answer'
num "$users" users
[ "$users" -ge "$want" ] || bad "$users of $want application users loaded: ProxySQL dropped a user from its configuration"
# Each application user writes through its own writer hostgroup (its default_hostgroup): every one needs a server.
orphans=$(q 'SELECT COUNT(*) FROM runtime_mysql_users u WHERE u.frontend=1 AND u.active=1 AND NOT EXISTS (SELECT 1 FROM runtime_mysql_servers s WHERE s.hostgroup_id=u.default_hostgroup)')
num "$orphans" writers
[ "$orphans" = 0 ] || bad "no server in the writer hostgroup of $orphans application user(s)"
n=0
command -v timeout >/dev/null && while [ "$n" -lt "$want" ]; do
  eval "u=\${PROXYSQL_USER_NAME_$n:-\${PROXYSQL_USER_LOGIN_$n-}} p=\${PROXYSQL_USER_PASSWORD_$n-}" # names only
  if [ -n "$u" ]; then
    out=$(MYSQL_PWD=$p timeout 3 "$c" $tls -h 127.0.0.1 -P "${PROXYSQL_MYSQL_PORT:-6033}" -u "$u" --connect-timeout=2 -N -B -e 'SELECT 1' 2>&1)
    case $out in *'ERROR 1045'* | *'ERROR 1044'*) bad "user $n ($u) cannot log in through ProxySQL to the database: access denied (wrong password or grants)" ;; esac
  fi
  n=$((n + 1))
done
mon=$(q "SELECT COUNT(*) FROM monitor.mysql_server_connect_log WHERE connect_error LIKE '%Access denied%' AND time_start_us > (strftime('%s','now') - 120) * 1000000")
num "$mon" monitor
[ "$mon" = 0 ] || bad 'a backend refused the monitor user in the last 120 s (access denied): wrong monitor password or grants'
exit 0
