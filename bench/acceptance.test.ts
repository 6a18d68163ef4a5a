/**
 * Acceptance check of the benchmark against the real local MariaDB topology (no mocks): 500 cold sessions
 * complete without errors, and the connection figures agree with what the server itself reports.
 */
import * as mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTopology, Topology } from '../local/topology';
import { BenchOptions, DEFAULT_MIX } from './options';
import { runBenchmark } from './run';

function localOptions(overrides: Partial<BenchOptions>): BenchOptions {
  return {
    local: true,
    user: 'bench',
    password: '',
    database: 'bench',
    sessions: 10,
    mode: 'warm',
    mix: { ...DEFAULT_MIX },
    durationS: 3,
    thinkMs: 200,
    rampS: 0,
    also: [],
    failover: false,
    failoverAtS: 1.5,
    writerDiscovery: 'none',
    setup: true,
    queryTimeoutMs: 10_000,
    ...overrides,
  };
}

describe('benchmark against the local topology', () => {
  let topology: Topology;

  beforeAll(async () => {
    topology = await startTopology({ replica: true });
  });

  afterAll(async () => {
    await topology?.stop();
  });

  it('runs 500 cold sessions for 5 s with 0 errors; the sampled connection peak agrees with Max_used_connections', async () => {
    const r = await runBenchmark(localOptions({ sessions: 500, mode: 'cold', durationS: 5 }), { topology });

    expect(r.errors.byCode).toEqual({});
    expect(r.totals.errors).toBe(0);
    // Every session ran several invocations (think time 200 ms ±50% over 5 s; even a saturated 2-core box does >3 each).
    expect(r.totals.ok).toBeGreaterThan(500 * 3);
    expect(r.totals.connects).toBe(r.totals.ok); // cold: one connection per invocation
    expect(r.perKind.read.ok + r.perKind.write.ok + r.perKind.tx.ok).toBe(r.totals.ok);
    expect(r.latencyMs.overall.p50).toBeLessThanOrEqual(r.latencyMs.overall.p99);

    const primary = r.connections.find((c) => c.backend === `127.0.0.1:${topology.primary.port}`)!;
    expect(primary.flushed).toBe(true);
    expect(primary.problem).toBeUndefined();
    expect(primary.samples).toBeGreaterThanOrEqual(10); // 250 ms over 5 s is 20; the loaded event loop may skip some
    const max = primary.serverMax!;
    // Sampling sees Threads_connected at instants 250 ms apart; the server raises Max_used_connections on every
    // connect, so a sample can never exceed it, but it misses short-lived peaks: a cold connection lives ~1-100 ms
    // here and sessions' timers fire in bursts, so with 200 ms think time the sampled peak was 23-96% of the server
    // max over eleven 5-s runs on this machine. No lower bound holds for such churn; the steady cases below pin it down.
    expect(primary.peakSampled).toBeLessThanOrEqual(max);
    expect(primary.peakSampled).toBeGreaterThan(primary.baseline); // the fleet's connections were seen
    // The fleet never holds more than one connection per session (plus the sampler and replication threads).
    expect(max).toBeLessThanOrEqual(500 + primary.baseline);

    // Cross-check with the server directly, after the run: the bench left no connection of its user behind.
    const admin = await mysql.createConnection({
      host: topology.primary.host,
      port: topology.primary.port,
      user: 'root',
      password: topology.primary.rootPassword,
    });
    try {
      const [rows] = await admin.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = 'bench'");
      expect(Number(rows[0].n)).toBe(0);
    } finally {
      await admin.end();
    }
  });

  it('with a steady cold population (no think time), the sampled peak sees the whole population, within 5%', async () => {
    // Every session is always connecting, querying or closing, so the server count stays at its maximum and a
    // 250 ms sample can only miss the few sessions between two connections (observed: equal, 502 of 502).
    const r = await runBenchmark(localOptions({ sessions: 500, mode: 'cold', durationS: 3, thinkMs: 0 }), { topology });
    expect(r.totals.errors).toBe(0);
    const primary = r.connections.find((c) => c.backend === `127.0.0.1:${topology.primary.port}`)!;
    const max = primary.serverMax!;
    // A session closes its connection (COM_QUIT, awaited) before it opens the next, but the server counts a
    // thread until its own cleanup ends: under CI load it counted 556 for 500 sessions + 2. So at most one
    // connection still being closed per session, besides the open one.
    expect(max).toBeLessThanOrEqual(2 * 500 + primary.baseline);
    expect(primary.peakSampled).toBeLessThanOrEqual(max);
    // The lower bound is the population, not the server max: the max also counts connections still being closed
    // (502 sampled against a max of 534 under a loaded machine), which a sample of open ones rightly misses.
    expect(primary.peakSampled).toBeGreaterThanOrEqual((500 + primary.baseline) * 0.95);
  });

  it('with steady warm connections, the sampled peak equals the server max exactly (sessions + baseline)', async () => {
    const r = await runBenchmark(localOptions({ sessions: 200, mode: 'warm', durationS: 3 }), { topology });
    expect(r.totals.errors).toBe(0);
    expect(r.totals.connects).toBe(200);
    const primary = r.connections.find((c) => c.backend === `127.0.0.1:${topology.primary.port}`)!;
    expect(primary.serverMax).toBe(200 + primary.baseline);
    expect(primary.peakSampled).toBe(primary.serverMax);
    // The replica only carries replication: nothing of the fleet.
    const replica = r.connections.find((c) => c.backend === `127.0.0.1:${topology.replica!.port}`)!;
    expect(replica.peakSampled).toBe(replica.baseline);
  });

  // Last: it promotes the shared topology's replica.
  it('measures a failover: with read_only writer discovery, writes resume on the promoted replica', async () => {
    const r = await runBenchmark(
      localOptions({ sessions: 60, mode: 'warm', durationS: 4, failover: true, failoverAtS: 2, writerDiscovery: 'read_only' }),
      { topology },
    );
    const fo = r.failover!;
    expect(fo).not.toBeNull();
    expect(fo.newPrimary).toBe(`127.0.0.1:${topology.replica!.port}`);
    expect(fo.replicaCaughtUp).toBe(true);
    expect(fo.writerChanges.map((w) => w.to)).toEqual([fo.newPrimary]);
    expect(fo.promotionToFirstWriteMs).not.toBeNull();
    expect(fo.writeOutageMs!).toBeGreaterThanOrEqual(fo.promoteMs);
    expect(fo.writeOutageMs!).toBeLessThan(2000);
    // Errors happen only because of the failover: none before it.
    const before = r.timeline.filter((t) => t.second < Math.floor(fo.startedAtS));
    expect(before.reduce((n, t) => n + t.errors, 0)).toBe(0);
    // Writes completed in the last second of the run: the fleet writes to the new primary.
    const last = r.timeline.filter((t) => t.second === 3)[0];
    expect(last.writesOk).toBeGreaterThan(0);
    const replica = await mysql.createConnection({
      host: topology.replica!.host,
      port: topology.replica!.port,
      user: 'root',
      password: topology.replica!.rootPassword,
    });
    try {
      const [rows] = await replica.query<mysql.RowDataPacket[]>('SELECT @@global.read_only AS ro');
      expect(Number(rows[0].ro)).toBe(0);
    } finally {
      await replica.end();
    }
  });
});
