/**
 * What in ProxySQL's log means a new task's configuration does not work: the deployment alarm's log filter
 * (src/proxysql-deployment-alarm.ts). Plain TypeScript: the tests read it too.
 *
 * It counts the proxy's own logins that the database refused, and nothing a client can cause by logging in or
 * by sending a statement. ProxySQL 2.7.1 writes "Access denied" in four kinds of line (its source, and the lines
 * a real 2.7.1 wrote: test/fixtures/proxysql-2.7.1/deployment-alarm-log-lines.json):
 * - a backend connection refused, lib/mysql_connection.cpp (counted):
 *   `… mysql_connection.cpp:1203:handler(): [ERROR] Failed to mysql_real_connect() on 10:host:3306 , FD (…) , 1045: Access denied for user 'app'@'…'`
 *   (the rest of the line is the server's message: 1045 a wrong password, 1044 no grant on the schema, a locked account);
 * - the monitor refused, lib/MySQL_Monitor.cpp (counted):
 *   `… MySQL_Monitor.cpp:1343:monitor_connect_thread(): [ERROR] Server host:3306 is returning "Access denied" for monitoring user`;
 * - a client's wrong password, lib/MySQL_Session.cpp (not counted: any client with a stale password would roll back
 *   every deployment, and the user name in it is the client's own text):
 *   `… MySQL_Session.cpp:5797:handler___status_CONNECTING_CLIENT___STATE_SERVER_HANDSHAKE_WrongCredentials(): [ERROR] ProxySQL Error: Access denied for user …`;
 * - a failed statement, lib/MySQL_Session.cpp (not counted: the server's message quotes the client's statement, so
 *   `SELECT 'Access denied` alone would do):
 *   `… MySQL_Session.cpp:4872:handler_minus1_LogErrorDuringQuery(): [WARNING] Error during query on (…): 1064, … near ''Access denied' …`.
 *
 * So the pattern is anchored at the start of the line, on the part ProxySQL writes itself before any text that can
 * come from a client (proxysql_debug.h: `"%Y-%m-%d %H:%M:%S" " %s:%d:%s(): [ERROR] "` with __FILE__, __LINE__,
 * __func__): the date, the time, the source file, `[ERROR]`. A phrase anywhere in the line, as before, matched the
 * client's and the statement's lines too.
 *
 * What it cannot stop: a client whose statement ProxySQL copies into its log verbatim, line break included, starts a
 * line of its own text. ProxySQL does that for a SET it cannot parse unless `parse_failure_logs_digest` is on (the
 * rendered default, src/config/build.ts, which logs the digest instead), and for a prepared statement whose columns
 * changed (`Updating metadata for stmt …, query …`, lib/MySQL_PreparedStatement.cpp). docs/operations.md
 * ("Deployment safety") says so.
 *
 * Assumption: 3.0.13 writes these lines the same way. They are unchanged in the 3.0 source this project holds
 * (sysown/proxysql v3.0 at 596d5ba: lib/mysql_connection.cpp:1208, lib/MySQL_Monitor.cpp:1357); if a build wrote a
 * path before the file name (`__FILE__`), the pattern allows one.
 */

/**
 * CloudWatch Logs filter-pattern regular expressions may hold only letters, digits, the symbols `: _ # = @ / ; , -`
 * and the operators `^ $ ? [ ] { } | \ * + .`; no parentheses (no groups), no space, no quote, no multibyte character
 * (Amazon CloudWatch Logs User Guide, "Supported regular expressions (regex) syntax"). A space, a parenthesis and a
 * bracket of the line are therefore matched with `.`.
 */
const LINE_START = '^[0-9]+-[0-9]+-[0-9]+.[0-9]+:[0-9]+:[0-9]+.[A-Za-z0-9_./-]*';
/** `:<line>:<function>(): [ERROR] ` after the file name. */
const AT_ERROR = ':[0-9]+:[A-Za-z0-9_]+..:..ERROR..';

/** A backend connection of the proxy refused by the database (lib/mysql_connection.cpp). */
export const BACKEND_LOGIN_REFUSED = `${LINE_START}mysql_connection\\.cpp${AT_ERROR}Failed.to.mysql_real_connect.*Access.denied`;
/** The monitor user refused by the database (lib/MySQL_Monitor.cpp: the connect check, and the Aurora check's own line). */
export const MONITOR_LOGIN_REFUSED = `${LINE_START}MySQL_Monitor\\.cpp${AT_ERROR}.*Access.denied`;

/**
 * The metric filter's pattern: either line, as one regular expression between `%` (a top-level `|`: groups are not
 * allowed). One regular-expression filter of the five a log group may have.
 */
export const DEPLOYMENT_FAILURE_FILTER_PATTERN = `%${BACKEND_LOGIN_REFUSED}|${MONITOR_LOGIN_REFUSED}%`;

/** Matching lines in a minute that roll a deployment back. */
export const DEPLOYMENT_FAILURE_LINES_PER_MINUTE = 1;
