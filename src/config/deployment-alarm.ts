/**
 * What in ProxySQL's log means a new task's configuration does not work: the deployment alarm's log filter
 * (src/proxysql-service.ts). Plain TypeScript: the real-ProxySQL tests read it too.
 *
 * "Access denied" is in each line ProxySQL 2.7.1 writes when a login fails (its source, not our guess):
 * - a client's: `ProxySQL Error: Access denied for user '%s'@'%s' (using password: %s)` (lib/MySQL_Session.cpp);
 * - a backend connection's: `Failed to mysql_real_connect() on …, 1045: Access denied for user …` (lib/mysql_connection.cpp,
 *   the server's own message);
 * - the monitor's: `Server %s:%d is returning "Access denied" for monitoring user` (lib/MySQL_Monitor.cpp).
 * A server that is merely down (a failover) logs connect errors without it, so a deployment during a failover is
 * not rolled back for that. Assumption: 3.0.13 keeps these messages (they are unchanged from 2.x in the source).
 */
export const DEPLOYMENT_FAILURE_LOG_TERM = 'Access denied';

/** Lines with the term in a minute that roll a deployment back. */
export const DEPLOYMENT_FAILURE_LINES_PER_MINUTE = 1;
