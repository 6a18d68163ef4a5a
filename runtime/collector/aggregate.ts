/**
 * From the tasks' snapshots of one collection round to the datapoints the collector publishes: aggregated across
 * tasks (sums, per-task averages, maxima) under bounded dimensions, never per task.
 *
 * Counters (connections created, errors, queries…) are running totals in ProxySQL; CloudWatch wants what happened
 * in the minute. So each round keeps every task's totals (in the Lambda's memory, keyed by task ARN: the same
 * warm sandbox runs every minute) and publishes the difference from the previous round. A task without a previous
 * sample (a new task, or a cold sandbox) contributes no delta that round, rather than its whole history as one
 * spike. A total below the previous one means ProxySQL restarted in the task: its delta is the new total (what
 * happened since the restart), never negative. When no task has a previous sample, counter metrics are not
 * published at all: missing data, not a false zero.
 */
import { CollectorMetric, hostgroupRole, METRIC_DIMENSIONS, METRICS } from '../../src/config/metrics';
import { serversNotOnline, TASK_COUNTERS, TaskCounterKey, TaskSnapshot, writerEndpoints } from './snapshot';

export interface ScrapedTask {
  readonly taskArn: string;
  /** When the scrape was read (ms since the epoch). */
  readonly atMs: number;
  readonly snapshot: TaskSnapshot;
}

/** What the next round needs of a task: when it was read and its running totals. */
export interface PreviousSample {
  readonly atMs: number;
  readonly counters: Readonly<Record<string, number>>;
}

export interface Datapoint {
  readonly metric: CollectorMetric;
  /** Besides `Service`. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface RoundResult {
  readonly datapoints: Datapoint[];
  /** Keyed by task ARN; only the tasks read this round (stopped tasks are forgotten). */
  readonly state: Map<string, PreviousSample>;
}

/** A counter's growth since the previous total: undefined without one, the new total after a reset. */
export function counterDelta(current: number, previous: number | undefined): number | undefined {
  if (previous === undefined) return undefined;
  return current >= previous ? current - previous : current;
}

/** Every running total of a task under one flat key: the task counters and each server's errors and queries. */
function totals(snapshot: TaskSnapshot): Record<string, number> {
  const out: Record<string, number> = { ...snapshot.counters };
  for (const s of snapshot.servers) {
    out[`err|${s.hostgroup}|${s.endpoint}`] = s.connectErrorsTotal;
    out[`queries|${s.hostgroup}|${s.endpoint}`] = s.queriesTotal;
  }
  return out;
}

export function aggregateRound(tasks: readonly ScrapedTask[], failures: number, previous: ReadonlyMap<string, PreviousSample>): RoundResult {
  const datapoints: Datapoint[] = [];
  const service = (metric: CollectorMetric, value: number) => datapoints.push({ metric, dimensions: {}, value });
  const state = new Map<string, PreviousSample>();
  for (const t of tasks) state.set(t.taskArn, { atMs: t.atMs, counters: totals(t.snapshot) });

  service(METRICS.tasksScraped, tasks.length);
  service(METRICS.scrapeFailures, failures);
  if (tasks.length === 0) return { datapoints, state };

  // --- gauges ---
  const sum = (f: (s: TaskSnapshot) => number) => tasks.reduce((acc, t) => acc + f(t.snapshot), 0);
  const max = (f: (s: TaskSnapshot) => number) => Math.max(...tasks.map((t) => f(t.snapshot)));
  const clients = sum((s) => s.clientConnections);
  service(METRICS.clientConnections, clients);
  service(METRICS.clientConnectionsPerTask, clients / tasks.length);
  const withMax = tasks.filter((t) => t.snapshot.maxConnections !== undefined && t.snapshot.maxConnections > 0);
  if (withMax.length > 0) {
    service(METRICS.clientConnectionsUsedPercent, Math.max(...withMax.map((t) => (100 * t.snapshot.clientConnections) / (t.snapshot.maxConnections as number))));
  }
  const backendUsed = sum((s) => s.servers.reduce((acc, r) => acc + r.used, 0));
  if (backendUsed > 0) service(METRICS.multiplexingRatio, clients / backendUsed);
  service(METRICS.serversNotOnline, max(serversNotOnline));
  service(METRICS.sessionsInTransaction, sum((s) => s.sessionsInTransaction));
  service(METRICS.sessionsLockedToHostgroup, sum((s) => s.sessionsLockedToHostgroup));
  service(METRICS.memoryBytes, max((s) => s.memoryBytes));
  service(METRICS.writerViews, new Set(tasks.flatMap((t) => writerEndpoints(t.snapshot))).size);

  // --- per server: gauges summed (latency: the slowest task), errors as deltas ---
  const servers = new Map<string, { role: string; endpoint: string; used: number; free: number; latency?: number; errors?: number }>();
  const withPrevious = tasks.filter((t) => previous.has(t.taskArn));
  for (const t of tasks) {
    const before = previous.get(t.taskArn)?.counters;
    for (const r of t.snapshot.servers) {
      const role = hostgroupRole(r.hostgroup);
      const key = `${role}|${r.endpoint}`;
      let agg = servers.get(key);
      if (!agg) servers.set(key, (agg = { role, endpoint: r.endpoint, used: 0, free: 0 }));
      agg.used += r.used;
      agg.free += r.free;
      if (r.latencyUs !== undefined && Number.isFinite(r.latencyUs)) agg.latency = Math.max(agg.latency ?? 0, r.latencyUs);
      const delta = before && counterDelta(r.connectErrorsTotal, before[`err|${r.hostgroup}|${r.endpoint}`] ?? 0);
      if (delta !== undefined) agg.errors = (agg.errors ?? 0) + delta;
    }
  }
  for (const agg of [...servers.values()].sort((a, b) => a.role.localeCompare(b.role) || a.endpoint.localeCompare(b.endpoint))) {
    const dimensions = { [METRIC_DIMENSIONS.hostgroupRole]: agg.role, [METRIC_DIMENSIONS.backendServer]: agg.endpoint };
    datapoints.push({ metric: METRICS.backendConnectionsUsed, dimensions, value: agg.used });
    datapoints.push({ metric: METRICS.backendConnectionsFree, dimensions, value: agg.free });
    if (agg.errors !== undefined) datapoints.push({ metric: METRICS.backendConnectionErrors, dimensions, value: agg.errors });
    if (agg.latency !== undefined) datapoints.push({ metric: METRICS.backendLatency, dimensions, value: agg.latency });
  }

  // --- counters: deltas of the tasks read last round too ---
  if (withPrevious.length === 0) return { datapoints, state };
  for (const key of Object.keys(TASK_COUNTERS) as TaskCounterKey[]) {
    const total = withPrevious.reduce((acc, t) => acc + (counterDelta(t.snapshot.counters[key], previous.get(t.taskArn)?.counters[key] ?? 0) ?? 0), 0);
    service(METRICS[key], total);
  }
  // Queries per second per hostgroup role: each task's delta over its own interval, summed.
  const rates = new Map<string, number>();
  for (const t of withPrevious) {
    const before = previous.get(t.taskArn) as PreviousSample;
    const seconds = (t.atMs - before.atMs) / 1000;
    if (!(seconds > 0)) continue;
    for (const r of t.snapshot.servers) {
      const delta = counterDelta(r.queriesTotal, before.counters[`queries|${r.hostgroup}|${r.endpoint}`] ?? 0) ?? 0;
      const role = hostgroupRole(r.hostgroup);
      rates.set(role, (rates.get(role) ?? 0) + delta / seconds);
    }
  }
  for (const [role, rate] of [...rates].sort(([a], [b]) => a.localeCompare(b))) {
    datapoints.push({ metric: METRICS.queriesPerSecond, dimensions: { [METRIC_DIMENSIONS.hostgroupRole]: role }, value: rate });
  }
  return { datapoints, state };
}
