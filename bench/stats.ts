/**
 * Latency and error aggregation (pure). Latencies are kept exactly (a growable Float64Array per series, 8 bytes
 * a sample: a few million samples cost tens of MB) and sorted once at the end, so the percentiles are exact.
 */

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** A growable array of latency samples in milliseconds. */
export class Samples {
  private buf: Float64Array;
  private n = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Float64Array(Math.max(1, initialCapacity));
  }

  add(ms: number): void {
    if (this.n === this.buf.length) {
      const grown = new Float64Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  /** The samples recorded so far (a view: copy before mutating). */
  values(): Float64Array {
    return this.buf.subarray(0, this.n);
  }
}

/**
 * Nearest-rank percentile of ascending-sorted data: the smallest value such that at least p% of the samples
 * are <= it (so p100 is the max and p50 of [1,2,3,4] is 2). NaN for no data.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0..100`);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Count, min, mean, p50/p95/p99 and max of one or more sample series (merged). */
export function summarize(...series: ArrayLike<number>[]): LatencySummary {
  const total = series.reduce((n, s) => n + s.length, 0);
  const all = new Float64Array(total);
  let at = 0;
  for (const s of series) {
    all.set(s instanceof Float64Array ? s : Float64Array.from(s), at);
    at += s.length;
  }
  all.sort(); // typed-array sort is numeric
  let sum = 0;
  for (const v of all) sum += v;
  return {
    count: total,
    min: total ? all[0] : Number.NaN,
    mean: total ? sum / total : Number.NaN,
    p50: percentile(all, 50),
    p95: percentile(all, 95),
    p99: percentile(all, 99),
    max: total ? all[total - 1] : Number.NaN,
  };
}

/** Counts keyed by string, reported largest first. */
export class Counter {
  private readonly counts = new Map<string, number>();

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  get total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }

  toObject(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  }
}

interface ErrorLike {
  code?: unknown;
  errno?: unknown;
  sqlState?: unknown;
  message?: unknown;
}

/**
 * A stable key for an error: the MySQL server error name and number ("ER_OPTION_PREVENTS_STATEMENT 1290"), the
 * number alone when the driver has no name for it (MariaDB-only codes such as 1927), or Node's / the driver's
 * code ("ECONNREFUSED", "PROTOCOL_CONNECTION_LOST"). Never the message: messages can carry user names.
 */
export function errorKey(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  // Server errors carry an SQLSTATE; client/network errors do not (their errno is a negative libuv number).
  if (typeof e.sqlState === 'string' && errno !== undefined && errno > 0) {
    return code && code.startsWith('ER_') ? `${code} ${errno}` : `MySQL error ${errno}`;
  }
  if (code) return code;
  if (err instanceof Error) return err.name === 'Error' ? 'client error' : err.name;
  return 'unknown error';
}

/** Server error numbers: the statement was refused because the server runs with read_only (MySQL/MariaDB). */
export const ER_OPTION_PREVENTS_STATEMENT = 1290;

/** True if the error means the connection is gone (the session must reconnect). */
export function isConnectionLoss(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike & { fatal?: unknown };
  if (e.fatal === true) return true;
  const code = typeof e.code === 'string' ? e.code : '';
  // 1927 ER_CONNECTION_KILLED (MariaDB), 2006/2013 server gone away / lost during query, 1053 server shutdown.
  return (
    ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT'].includes(code) ||
    [1927, 2006, 2013, 1053].includes(typeof e.errno === 'number' ? e.errno : 0)
  );
}

export function isReadOnlyError(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  return e.errno === ER_OPTION_PREVENTS_STATEMENT;
}

/** Operations per second, 0 for an empty window. */
export function rate(count: number, seconds: number): number {
  return seconds > 0 ? count / seconds : 0;
}
