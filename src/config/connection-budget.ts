/**
 * The backend connection budget: how many connections the proxy may hold to its busiest database server (the
 * writer) when the service is at its largest, to compare with the database's `max_connections` at synth. An upper
 * bound from the rendered caps, not a forecast: the pool holds what the load needs, up to the caps.
 */
import { lastResortReaderCap } from './backend-rows';

/**
 * Connections ProxySQL's monitor may hold to one server at once, per task: one per kind of check (connect, ping,
 * read_only or Aurora's replica_host_status, replication lag). An upper bound from how lib/MySQL_Monitor.cpp checks,
 * not a measurement: a check borrows a monitor connection and returns it, and the connect check opens and closes one.
 */
export const MONITOR_CONNECTIONS_PER_SERVER = 4;

/** The bootstrap custom resource's connection to the writer, at deploy time while the old tasks still run. */
export const BOOTSTRAP_CONNECTIONS = 1;

/**
 * What the budget is compared with when the database's max_connections is not given: Aurora MySQL's default on a
 * db.r5.large or db.r6g.large (AWS, "Managing performance and scaling for Amazon Aurora MySQL", 90 on a
 * db.t3.medium, 2,000 on an xlarge). A guess, stated as one in the warning.
 */
export const ASSUMED_DATABASE_MAX_CONNECTIONS = 1000;

export interface ConnectionBudget {
  /** The writer's pool in one task: each user's writer-hostgroup cap plus its cap as the last-resort reader. */
  readonly poolPerTask: number;
  /** Application users: each has a writer pool of its own (userHostgroups in ../constants.ts). */
  readonly users: number;
  readonly tasks: number;
  readonly monitor: number;
  readonly bootstrap: number;
  readonly total: number;
}

/**
 * The writer's budget with `tasks` tasks, each capped at `maxConnectionsPerServer` per server and hostgroup, for
 * `users` application users (each with its own writer pool).
 */
export function writerConnectionBudget(maxConnectionsPerServer: number, tasks: number, bootstrap: boolean, users = 1): ConnectionBudget {
  const poolPerTask = users * maxConnectionsPerServer + lastResortReaderCap(maxConnectionsPerServer);
  const monitor = tasks * MONITOR_CONNECTIONS_PER_SERVER;
  const boot = bootstrap ? BOOTSTRAP_CONNECTIONS : 0;
  return { poolPerTask, users, tasks, monitor, bootstrap: boot, total: tasks * poolPerTask + monitor + boot };
}

/** The budget in words: `6 tasks × (20 + 5 as last-resort reader + 4 monitor) + 1 bootstrap = 175`; with 2 users `(2 users × 20 + …)`. */
export function describeBudget(budget: ConnectionBudget, maxConnectionsPerServer: number): string {
  const pools = budget.users > 1 ? `${budget.users} users × ${maxConnectionsPerServer}` : `${maxConnectionsPerServer}`;
  const parts = `${pools} + ${budget.poolPerTask - budget.users * maxConnectionsPerServer} as last-resort reader + ${MONITOR_CONNECTIONS_PER_SERVER} monitor`;
  return `${budget.tasks} tasks × (${parts})${budget.bootstrap ? ` + ${budget.bootstrap} bootstrap` : ''} = ${budget.total.toLocaleString('en-US')}`;
}
