# proxysql-entrypoint: fills secrets into proxysql.cnf and starts ProxySQL. This text is in $PROXYSQL_ENTRYPOINT,
# run as /bin/sh -c 'eval "$PROXYSQL_ENTRYPOINT"' proxysql-entrypoint [proxysql args] in the unmodified
# proxysql/proxysql:3.0.x image (Debian, dash; no MySQL client needed). POSIX sh builtins plus mkdir chmod mv rm;
# docs/research/entrypoint-notes.md.
# Secrets: each {{secret:<kind>:<ENV>}} in $PROXYSQL_CONFIG_TEMPLATE becomes $ENV, checked and escaped as
# secretValueProblem()/substituteSecrets() (src/config/secrets.ts) do; never eval'd, echoed, logged or in argv.
# Deploy-time values (CloudFormation tokens): each {{param:<ENV>}} becomes $ENV, checked by the rule in $ENV_RULE
# as valueRuleProblem() (src/config/rules.ts) does, and escaped the same way.
# Stop: ProxySQL is exec'd, so it gets SIGTERM itself and exits at once; the task's agent container (agent.sh) has
# drained it before (stopped first). Exit: 78 bad template/secret/setting, 73 cannot write config or data dir,
# else ProxySQL's status.
umask 077
me=proxysql-entrypoint
log() { printf '%s: %s\n' "$me" "$*" >&2; }
die() { c=$1; shift; log "$*"; exit "$c"; }
nl='
'
cr=$(printf '\r')
cfg=${PROXYSQL_CONFIG_PATH:-/etc/proxysql.cnf}
datadir=${PROXYSQL_DATADIR:-/var/lib/proxysql}
bin=${PROXYSQL_BIN:-proxysql}
[ -n "${PROXYSQL_CONFIG_TEMPLATE:-}" ] ||
  die 78 'PROXYSQL_CONFIG_TEMPLATE is missing or empty: set it to the rendered proxysql.cnf (the ProxySqlService construct does)'

# esc := $1 with a backslash before every $2 (safe for any byte)
escape() {
  s=$1 esc=
  while :; do
    case $s in
      *"$2"*) esc=$esc${s%%"$2"*}\\$2 s=${s#*"$2"} ;;
      *) esc=$esc$s; return ;;
    esac
  done
}

# v := secret $2 (kind $1), or exit 78 naming the variable (never the value)
check() {
  eval "v=\${$2-}" # $2 matched [A-Z_][A-Z0-9_]*: only a name is eval'd
  why=
  q="which ProxySQL cannot take: ProxySQL's config loader puts"
  case $v in
    '') why='is missing or empty' ;;
    *"$nl"*) why='holds a newline, which cannot be written into one line of proxysql.cnf' ;;
    *"$cr"*) why='holds a carriage return, which cannot be written into one line of proxysql.cnf' ;;
    *) case $1 in
      mysql_user) case $v in
        *"'"*) why="holds a single quote ('), $q mysql_users values into SQL unescaped" ;;
        '*'*) why='starts with *, which ProxySQL reads as a password hash, not a password' ;;
      esac ;;
      monitor) case $v in *'"'*) why="holds a double quote (\"), $q mysql_variables values into SQL unescaped" ;; esac ;;
      admin | stats) c="$1_credentials is user:password;user:password" && case $v in
        *:*) why="holds a colon (:), which ProxySQL cannot take: $c" ;;
        *';'*) why="holds a semicolon (;), which ProxySQL cannot take: $c" ;;
        *'"'*) why="holds a double quote (\"), $q admin_variables values into SQL unescaped" ;;
      esac ;;
    esac ;;
  esac
  [ -z "$why" ] && return
  eval "src=\${$2_SOURCE-}"
  case $src in *"$nl"* | *"$cr"*) src= ;; esac
  die 78 "secret $2${src:+ ($src)} ($1 password) $why"
}

# v := deploy-time value $1, or exit 78 naming its prop ($1_SOURCE), never the value
param() {
  eval "v=\${$1-} r=\${$1_RULE-} src=\${$1_SOURCE-}"
  q='(ProxySQL would log "Impossible to set variable" and keep its default)' why=
  case $r in
    name) why='is not a valid user name: use 1-32 characters of A-Z, a-z, 0-9 and _'
      case $v in '' | *[!A-Za-z0-9_]*) ;; *) [ ${#v} -gt 32 ] || why= ;; esac ;;
    text) case $v in *'"'* | *"$nl"* | *"$cr"* | *'{{secret:'* | *'{{param:'*) why="must not contain a double quote, a line break, '{{secret:' or '{{param:'" ;; esac ;;
    bool) case $v in [Tt][Rr][Uu][Ee] | [Ff][Aa][Ll][Ss][Ee] | 0 | 1) ;; *) why="must be true or false $q" ;; esac ;;
    int\ *) lo=${r#int } hi=${lo#* } lo=${lo%% *} why="must be a whole number from $lo to $hi $q"
      n=${v#"${v%%[! ]*}"} n=${n%"${n##*[! ]}"} && i=${n#-}
      case $i in '' | *[!0-9]*) ;; *) [ ${#i} -le 16 ] && [ "$n" -ge "$lo" ] && [ "$n" -le "$hi" ] && why= ;; esac ;;
    host) host "$v" ;;
    domain) case $v in .*) host "${v#.}" ;; *) false ;; esac || why='is not a dot and a DNS name (.<hash>.<region>.rds.amazonaws.com)' ;;
    port) why='is not a TCP port: use a whole number from 1 to 65535' # unquoted in the file: digits only, no octal 0
      case $v in [1-9] | [1-9]*[0-9]) case $v in *[!0-9]*) ;; *) [ ${#v} -gt 5 ] || [ "$v" -gt 65535 ] || why= ;; esac ;; esac ;;
    *) why="has no rule in $1_RULE (the ProxySqlService construct sets it)" ;;
  esac
  case $src in *"$nl"* | *"$cr"* | '') src=$1 ;; *) src="$src ($1)" ;; esac
  [ -z "$why" ] || die 78 "$src $why"
  names="$names $1" # unset, as secrets are: a user name may come from one
}

# why := hostProblem()'s words for host $1 (src/config/rules.ts), empty for a DNS name or an IPv4 address
host() {
  why='is not a DNS name or IPv4 address: pass the host only, without scheme, port, path or spaces' h=$1
  case $h in \[*\]) h=${h#?} h=${h%?} ;; esac
  case ${h%%%*} in *[!0-9A-Fa-f.:]*) ;; *:*:*) why='is an IPv6 address, which is not supported: use a DNS name or an IPv4 address' && return 1 ;; esac
  case $1 in
    '') why='is empty: pass a DNS name or IPv4 address (e.g. the writer endpoint)' && return 1 ;;
    *[!0-9.]*) case $1 in *[!A-Za-z0-9.-]* | .* | *. | *..* | -* | *- | *.-* | *-.*) return 1 ;; esac
      [ ${#1} -le 253 ] || return 1; o=63 ;; # RFC 1123 labels
    *) o=3 ;; # IPv4: four octets 0-255, no leading 0
  esac
  h=$1. n=0
  while [ -n "$h" ]; do
    l=${h%%.*} h=${h#*.} n=$((n + 1))
    [ ${#l} -le $o ] || return 1
    [ $o = 63 ] || case $l in [0-9] | [1-9][0-9] | 1[0-9][0-9] | 2[0-4][0-9] | 25[0-5]) ;; *) return 1 ;; esac
  done
  [ $o = 63 ] || [ $n = 4 ] || return 1
  why=
}

# Same scan as substituteSecrets(), one pass: text that is not a well-formed placeholder is kept.
rest=$PROXYSQL_CONFIG_TEMPLATE out= names=
while :; do
  case $rest in *'{{'*) ;; *) break ;; esac
  out=$out${rest%%'{{'*} rest=${rest#*'{{'} kind= name=
  case $rest in secret:admin:* | secret:stats:* | secret:monitor:* | secret:mysql_user:*) kind=${rest#*:} tail=${kind#*:} kind=${kind%%:*} ;;
    param:*) kind=param tail=${rest#*:} ;; esac
  if [ -n "$kind" ]; then
    case $tail in *'}}'*) name=${tail%%'}}'*} ;; esac
    case $name in [A-Z_]*) case $name in *[!A-Z0-9_]*) name= ;; esac ;; *) name= ;; esac
  fi
  if [ -z "$name" ]; then out=$out{ rest={$rest; continue; fi
  if [ $kind = param ]; then param "$name"; else check "$kind" "$name"; names="$names $name"; fi
  escape "$v" '\'
  escape "$esc" '"'
  out=$out$esc rest=${tail#*'}}'}
done
out=$out$rest

tmp=$cfg.tmp.$$
rm -f "$tmp"
if ! { printf '%s' "$out" >"$tmp" && chmod 600 "$tmp" && mv -f "$tmp" "$cfg"; }; then
  rm -f "$tmp"
  die 73 "cannot write $cfg: make its directory writable or set PROXYSQL_CONFIG_PATH"
fi
out=
mkdir -p "$datadir" || die 73 "cannot create data dir $datadir: set PROXYSQL_DATADIR to a writable path"
# The database's CA bundle (not a secret), for the config's ssl_p2s_ca.
if [ -n "${PROXYSQL_BACKEND_CA-}" ]; then
  ca=${PROXYSQL_BACKEND_CA_FILE:-$datadir/backend-ca.pem}
  printf '%s\n' "$PROXYSQL_BACKEND_CA" >"$ca" || die 73 "cannot write the backend CA to $ca"
fi

# /proc/<pid>/environ shows the environment at exec, unset or not: ProxySQL is exec'd without the secrets.
for n in $names; do unset "$n"; done
unset PROXYSQL_ADMIN_PASSWORD
set -- -f --initial --no-version-check -c "$cfg" -D "$datadir" "$@" # task command: --idle-threads
exec "$bin" "$@"
