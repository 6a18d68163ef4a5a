/**
 * Server-side connection counts: one direct admin connection per backend samples `Threads_connected` every
 * 250 ms, and `Max_used_connections` (the server's own high-water mark, reset by FLUSH STATUS) is read at the end.
 *
 * Sampling under-reads: it sees the count at instants 250 ms apart, while Max_used_connections is updated by the
 * server on every connect. Short-lived connections (cold mode) can come and go between two samples, so
 * peakSampled <= serverMax always, and the gap grows with connection churn. With steady connections (warm mode)
 * the two agree.
 */
import * as mysql from 'mysql2/promise';
import { Endpoint, formatEndpoint } from './options';
import { closeQuietly } from './workload';

export const SAMPLE_INTERVAL_MS = 250;

export interface BackendConnections {
  backend: string;
  /** Threads_connected just before the run (includes this sampler's own connection, replication threads, …). */
  baseline: number;
  /** Highest Threads_connected seen by sampling. */
  peakSampled: number;
  /** Max_used_connections at the end of the run. */
  serverMax: number | null;
  /** Whether FLUSH STATUS succeeded, i.e. serverMax is this run's high-water mark and not since server start. */
  flushed: boolean;
  samples: number;
  /** Why sampling stopped early or the max could not be read, if it did. */
  problem?: string;
}

async function statusValue(conn: mysql.Connection, name: string): Promise<number> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW GLOBAL STATUS LIKE ?', [name]);
  if (rows.length === 0) throw new Error(`the server reports no status variable ${name}`);
  return Number(rows[0].Value);
}

class BackendSampler {
  private timer?: NodeJS.Timeout;
  private busy = false;
  readonly result: BackendConnections;

  constructor(
    private readonly conn: mysql.Connection,
    backend: Endpoint,
  ) {
    this.result = { backend: formatEndpoint(backend), baseline: 0, peakSampled: 0, serverMax: null, flushed: false, samples: 0 };
    conn.on('error', (err: Error & { code?: string }) => {
      this.result.problem ??= `admin connection lost: ${err.code ?? err.name}`;
    });
  }

  async begin(): Promise<void> {
    try {
      await this.conn.query('FLUSH STATUS');
      this.result.flushed = true;
    } catch (err) {
      // Needs RELOAD; without it Max_used_connections covers the time since the server started or was last flushed.
      this.result.problem = `FLUSH STATUS refused (${(err as { code?: string }).code ?? 'error'}): serverMax is since server start`;
    }
    this.result.baseline = await statusValue(this.conn, 'Threads_connected');
    this.result.peakSampled = this.result.baseline;
    this.result.samples = 1;
    this.timer = setInterval(() => void this.sample(), SAMPLE_INTERVAL_MS);
  }

  private async sample(): Promise<void> {
    // A sample still in flight (server or event loop busy) is not stacked: the next tick tries again.
    if (this.busy) return;
    this.busy = true;
    try {
      const n = await statusValue(this.conn, 'Threads_connected');
      this.result.samples++;
      if (n > this.result.peakSampled) this.result.peakSampled = n;
    } catch (err) {
      this.result.problem ??= `sampling failed: ${(err as { code?: string }).code ?? (err as Error).message}`;
    } finally {
      this.busy = false;
    }
  }

  async end(): Promise<BackendConnections> {
    clearInterval(this.timer);
    try {
      await this.sample();
      this.result.serverMax = await statusValue(this.conn, 'Max_used_connections');
    } catch (err) {
      this.result.problem ??= `could not read Max_used_connections: ${(err as { code?: string }).code ?? (err as Error).message}`;
    } finally {
      await closeQuietly(this.conn);
    }
    return this.result;
  }
}

export interface ConnectionSampler {
  stop(): Promise<BackendConnections[]>;
}

export interface SampledBackend {
  endpoint: Endpoint;
  user: string;
  password: string;
}

/** Connects to each backend, runs FLUSH STATUS where permitted, records the baseline and starts sampling. */
export async function startSampler(backends: SampledBackend[]): Promise<ConnectionSampler> {
  const samplers: BackendSampler[] = [];
  try {
    for (const { endpoint: backend, user, password } of backends) {
      let conn: mysql.Connection;
      try {
        conn = await mysql.createConnection({ host: backend.host, port: backend.port, user, password, connectTimeout: 10_000 });
      } catch (err) {
        const e = err as { code?: string; errno?: number };
        throw new Error(
          `cannot open the admin connection to ${formatEndpoint(backend)} as '${user}' (${e.code ?? 'error'}${e.errno ? ` ${e.errno}` : ''}). ` +
            'Check --admin/--backend, --admin-user and --admin-password-env, and that this host may reach the server.',
        );
      }
      const s = new BackendSampler(conn, backend);
      samplers.push(s);
      await s.begin();
    }
  } catch (err) {
    await Promise.all(samplers.map((s) => s.end()));
    throw err;
  }
  return { stop: () => Promise.all(samplers.map((s) => s.end())) };
}
