# proxysql-listening: the ProxySQL container's health check, which needs nothing from the image but /bin/sh and
# /proc: healthy while a socket of the task listens on ProxySQL's MySQL port (PROXYSQL_MYSQL_PORT, default 6033).
# The agent container's check (healthcheck.sh) tests the configuration; this one keeps the ProxySQL container from
# reporting UNKNOWN, which ECS would count against the task's health (an essential container without a check).
# /proc/net/tcp{,6} rows: "sl local_address rem_address st …", the address as hex IP:port, st 0A = LISTEN.
p=$(printf '%04X' "${PROXYSQL_MYSQL_PORT:-6033}")
for f in /proc/net/tcp /proc/net/tcp6; do
  [ -r "$f" ] || continue
  while read -r _ addr _ st _; do
    case $addr:$st in *:"$p":0A) exit 0 ;; esac
  done <"$f"
done
printf 'proxysql-listening: nothing listens on port %s: ProxySQL is not up\n' "${PROXYSQL_MYSQL_PORT:-6033}" >&2
exit 1
