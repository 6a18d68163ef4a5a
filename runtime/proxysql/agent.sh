# proxysql-agent: the task's second container, from an image that has a MariaDB/MySQL client (the ProxySQL image
# may have none). Fargate tasks share one network namespace, so it reaches ProxySQL's admin interface on 127.0.0.1.
# Run as /bin/sh -c 'eval "$PROXYSQL_AGENT"' proxysql-agent. POSIX sh plus the client, sleep and date.
# - Every PROXYSQL_FIGURES_SECONDS (0 = never) it runs $PROXYSQL_FIGURES_QUERY (src/config/figures.ts) and writes
#   "$PROXYSQL_FIGURES_MARKER <json>" as one line to stdout, its log stream; the metrics collector reads the latest one.
# - On SIGTERM it drains ProxySQL. It depends on the ProxySQL container (dependsOn START), and ECS stops containers
#   in the reverse order of their start dependencies, so it is stopped first, while ProxySQL still runs: it KILLs
#   idle sessions, sends PROXYSQL PAUSE (closes the listener: #337), polls every 0.2 s until no session runs a
#   statement or holds a transaction, or PROXYSQL_DRAIN_SECONDS passed (#4297), and exits; ECS then sends SIGTERM to
#   ProxySQL, which closes what is left at once.
# The health check (healthcheck.sh) runs in this container too. Secrets: the admin password (PROXYSQL_ADMIN_PASSWORD,
# injected by ECS) reaches the client in MYSQL_PWD only, never argv or the log.
# Exit: 78 bad setting or no client, else 0 after the drain.
me=proxysql-agent
log() { printf '%s: %s\n' "$me" "$*" >&2; }
drain=${PROXYSQL_DRAIN_SECONDS:-0}
every=${PROXYSQL_FIGURES_SECONDS:-0}
case $drain in '' | *[!0-9]*) log "PROXYSQL_DRAIN_SECONDS='$drain' must be a whole number of seconds (0 = no drain)"; exit 78 ;; esac
case $every in '' | *[!0-9]*) log "PROXYSQL_FIGURES_SECONDS='$every' must be a whole number of seconds (0 = no figures)"; exit 78 ;; esac
[ "$every" -eq 0 ] || { [ -n "${PROXYSQL_FIGURES_QUERY-}" ] && [ -n "${PROXYSQL_FIGURES_MARKER-}" ]; } ||
  { log 'PROXYSQL_FIGURES_QUERY or PROXYSQL_FIGURES_MARKER is missing (the ProxySqlService construct sets both)'; exit 78; }
port=${PROXYSQL_ADMIN_PORT:-6032} user=${PROXYSQL_ADMIN_USER:-admin}
want=${PROXYSQL_ADMIN_CLIENT:-}
client=$(command -v "${want:-mariadb}" || { [ -z "$want" ] && command -v mysql; }) ||
  { log "no ${want:-mariadb or mysql} client on PATH: this container's image must have one"; exit 78; }
# no TLS on loopback (MariaDB >= 11.4 clients verify certificates by default)
case $("$client" --version 2>/dev/null) in *MariaDB* | *mariadb*) tls=--skip-ssl ;; *) tls=--ssl-mode=DISABLED ;; esac
admin() { MYSQL_PWD=${PROXYSQL_ADMIN_PASSWORD-} "$client" $tls -h 127.0.0.1 -P "$port" -u "$user" --connect-timeout=2 -N -B -r -e "$1"; }
pause='PROXYSQL PAUSE; SET mysql-wait_timeout=1; SET mysql-show_processlist_extended=1; LOAD MYSQL VARIABLES TO RUNTIME'
busy="SELECT COUNT(*) FROM stats_mysql_processlist WHERE command<>'Sleep' OR coalesce(json_extract(extended_info,'$.active_transactions'),srv_host IS NOT NULL)>0"

# Wall-clock ms (GNU date; else whole seconds): the bound is time, not loop turns.
now() {
  t=$(date +%s%3N 2>/dev/null)
  case $t in '' | *[!0-9]*) t=$(($(date +%s) * 1000)) ;; esac
  echo "$t"
}

# KILL every idle session holding no backend connection (no transaction, no statement).
closeidle() {
  k=
  for i in $(admin "SELECT SessionID FROM stats_mysql_processlist WHERE command='Sleep' AND srv_host IS NULL" 2>/dev/null); do
    case $i in *[!0-9]*) ;; *) k=$k"KILL CONNECTION $i;" ;; esac
  done
  [ -z "$k" ] || admin "$k" >/dev/null 2>&1
}

drain() {
  trap : TERM INT # a second signal must not restart the drain
  [ -z "${sleeper-}" ] || kill "$sleeper" 2>/dev/null
  if [ "$drain" -eq 0 ]; then log "got SIG$1: no drain (PROXYSQL_DRAIN_SECONDS=0)"; exit 0; fi
  start=$(now) || start=0
  deadline=$((start + drain * 1000))
  log "got SIG$1: draining ProxySQL for at most $drain s"
  closeidle
  # KILLed sessions on idle threads close only every 2 s, ~half per pass (MySQL_Thread.cpp
  # idle_thread_to_kill_idle_sessions), so the drain ends when no session runs a statement or holds a transaction;
  # ProxySQL's own SIGTERM then closes the rest at once. The extended processlist says which hold one.
  if admin "$pause" >/dev/null 2>&1; then
    log 'sent PROXYSQL PAUSE: listener closed; idle sessions are closed, statements and transactions may finish'
  else
    log 'PROXYSQL PAUSE failed (already paused, or the admin interface did not answer); waiting for statements and transactions anyway'
  fi
  last= misses=0
  while :; do
    t=$(now) || t=$deadline
    [ "$t" -lt "$deadline" ] || { log "drain bound of $drain s reached"; break; }
    c=$(admin "$busy" 2>/dev/null)
    case $c in
      '' | *[!0-9]*)
        misses=$((misses + 1))
        [ "$misses" -lt 3 ] || { log 'the admin interface stopped answering: ProxySQL is gone'; break; }
        ;;
      0) log "no statement or transaction left after $(((t - start) / 1000)) s"; break ;;
      *)
        misses=0
        [ "$c" = "$last" ] || log "$c session(s) in a statement or transaction after $(((t - start) / 1000)) s"
        last=$c
        closeidle
        ;;
    esac
    sleep 0.2 2>/dev/null || sleep 1
  done
  log 'drain done: ECS stops ProxySQL next, which closes the remaining idle sessions'
  exit 0
}

trap 'drain TERM' TERM
trap 'drain INT' INT
log "started: figures every $every s (0 = none), drain up to $drain s on SIGTERM, admin client $client"
first=1
while :; do
  pause_s=3600
  if [ "$every" -gt 0 ]; then
    pause_s=$every
    if out=$(admin "$PROXYSQL_FIGURES_QUERY" 2>&1); then
      case $out in
        '{'*'}') printf '%s %s\n' "$PROXYSQL_FIGURES_MARKER" "$out"; first= ;;
        *) log 'figures: the admin interface answered something other than one JSON object' ;;
      esac
    else
      # The client's error code only: its message can quote "Access denied", which the deployment alarm counts.
      case $out in 'ERROR '[0-9]*) why=${out%% (*} ;; *) why='no answer' ;; esac
      log "figures: the admin interface did not answer (${why%%:*})"
    fi
    # Until the first line is out (ProxySQL still starting), try again soon: the collector counts a task without one.
    [ -z "$first" ] || [ "$every" -le 5 ] || pause_s=5
  fi
  # Sleep in the background so SIGTERM runs the drain at once, not after the sleep.
  sleep "$pause_s" &
  sleeper=$!
  wait "$sleeper"
  sleeper=
done
