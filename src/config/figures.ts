/**
 * The figures a task reports for the metrics collector, defined once: the admin-interface query the task's agent
 * (runtime/proxysql/agent.sh) runs on 127.0.0.1 every minute, the marker of the log line it writes, and the names
 * the collector (runtime/collector/snapshot.ts) reads back. Plain TypeScript (no aws-cdk-lib): the construct passes
 * the query to the agent, the Lambda bundle parses its answer.
 *
 * Why the admin interface and not `/metrics`: ProxySQL's REST server (2.7.1) listens unauthenticated on every
 * interface and pastes the request path into SQL (lib/ProxySQL_RESTAPI_Server.cpp find_script), so it is off; the
 * admin interface holds the same figures (stats_mysql_global, stats_memory_metrics, stats_mysql_connection_pool),
 * answers on loopback only, and ProxySQL's SQLite builds the JSON itself, so the agent needs no parser.
 */

import { SERVER_STATUS_ONLINE } from './metrics';

/** What the agent writes before the JSON on its figures line; the collector's log filter looks for it. */
export const FIGURES_LINE_MARKER = 'proxysql-figures';

/** The figures line's format version: a collector reads only the versions it knows. */
export const FIGURES_VERSION = 1;

/** The stats_mysql_global variables the collector reads, by what it makes of them. */
export const FIGURES_GLOBALS = {
  clientConnections: 'Client_Connections_connected',
  sessionsInTransaction: 'Active_Transactions',
  sessionsLockedToHostgroup: 'Client_Connections_hostgroup_locked',
  clientConnectionsCreated: 'Client_Connections_created',
  clientConnectionsAborted: 'Client_Connections_aborted',
  queryErrors: 'generated_error_packets',
  hostgroupLockedQueries: 'hostgroup_locked_queries',
  poolGetFailures: 'ConnPool_get_conn_failure',
  maxConnectTimeouts: 'max_connect_timeouts',
} as const;

/**
 * The memory ProxySQL accounts for, as /metrics sums it (its proxysql_*_memory_bytes series): these globals plus
 * every row of stats_memory_metrics but jemalloc's (process-wide, counted by ECS MemoryUtilization) and the thread
 * stacks (reserved address space, not memory in use).
 */
export const FIGURES_MEMORY_GLOBALS = [
  'ConnPool_memory_bytes',
  'mysql_frontend_buffers_bytes',
  'mysql_backend_buffers_bytes',
  'mysql_session_internal_bytes',
  'Query_Cache_Memory_bytes',
] as const;

/** stats_mysql_connection_pool's status text as a number (the codes ProxySQL's /metrics uses: 1 ONLINE … 5 SHUNNED_REPLICATION_LAG). */
export const SERVER_STATUS_CODES: Readonly<Record<string, number>> = {
  ONLINE: SERVER_STATUS_ONLINE,
  SHUNNED: 2,
  OFFLINE_SOFT: 3,
  OFFLINE_HARD: 4,
  SHUNNED_REPLICATION_LAG: 5,
};

const quoted = (names: readonly string[]) => names.map((n) => `'${n}'`).join(',');

/**
 * One statement, one row, one JSON value (ProxySQL refreshes each stats table a query names before running it):
 * `{"v":1,"global":{name:value…},"memory":{name:value…},"maxConnections":"…","servers":[[hostgroup,host,port,status,
 * ConnUsed,ConnFree,ConnERR,Queries,Latency_us]…]}`. Values of the name/value tables are text, as ProxySQL stores them.
 */
export const FIGURES_QUERY =
  `SELECT json_object('v',${FIGURES_VERSION},` +
  `'global',(SELECT json_group_object(Variable_Name,Variable_Value) FROM stats_mysql_global WHERE Variable_Name IN (${quoted([...Object.values(FIGURES_GLOBALS), ...FIGURES_MEMORY_GLOBALS])})),` +
  `'memory',(SELECT json_group_object(Variable_Name,Variable_Value) FROM stats_memory_metrics WHERE Variable_Name NOT LIKE 'jemalloc%' AND Variable_Name NOT LIKE 'stack%'),` +
  `'maxConnections',(SELECT variable_value FROM runtime_global_variables WHERE variable_name='mysql-max_connections'),` +
  `'servers',(SELECT json_group_array(json_array(hostgroup,srv_host,srv_port,status,ConnUsed,ConnFree,ConnERR,Queries,Latency_us)) FROM stats_mysql_connection_pool))`;
