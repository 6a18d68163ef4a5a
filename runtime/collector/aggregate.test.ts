/**
 * The mapping from a task's figures (ProxySQL's admin tables, as the agent's FIGURES_QUERY returns them) to the
 * published metrics, on real ProxySQL 2.7.1 captures. Every expected value can be checked by hand in test/fixtures
 * (the table and column named next to it).
 */
import { describe, expect, test } from 'vitest';
import { METRICS } from '../../src/config/metrics';
import { aggregateRound, counterDelta, Datapoint, PreviousSample } from './aggregate';
import { figuresSnapshot, serversNotOnline, writerEndpoints } from './snapshot';
import { pinning, pinningAfter, underLoad } from './test-support';

const snap = figuresSnapshot;

/** name → value for the datapoints with no dimension besides Service; `name[k=v,…]` for the others. */
function byName(datapoints: readonly Datapoint[]): Record<string, number> {
  return Object.fromEntries(
    datapoints.map((d) => {
      const dims = Object.entries(d.dimensions).map(([k, v]) => `${k}=${v}`);
      return [dims.length ? `${d.metric.name}[${dims.join(',')}]` : d.metric.name, d.value];
    }),
  );
}

describe('figuresSnapshot on the under-load capture (300 sessions)', () => {
  const s = snap(underLoad());

  test('client connections, the max_connections limit and the session gauges', () => {
    expect(s.clientConnections).toBe(300); // stats_mysql_global Client_Connections_connected
    expect(s.maxConnections).toBe(20000); // mysql-max_connections of that run
    expect(s.sessionsInTransaction).toBe(1); // Active_Transactions
    expect(s.sessionsLockedToHostgroup).toBe(0); // Client_Connections_hostgroup_locked
  });

  test('one row per hostgroup and server, from stats_mysql_connection_pool', () => {
    expect(s.servers).toEqual([
      { hostgroup: 10, endpoint: '127.0.0.1:24306', used: 1, free: 17, status: 1, latencyUs: 57, connectErrorsTotal: 0, queriesTotal: 1868 },
      { hostgroup: 20, endpoint: '127.0.0.1:24307', used: 2, free: 19, status: 1, latencyUs: 169, connectErrorsTotal: 0, queriesTotal: 7795 },
    ]);
    expect(serversNotOnline(s)).toBe(0);
    expect(writerEndpoints(s)).toEqual(['127.0.0.1:24306']);
  });

  test('the counters as running totals', () => {
    expect(s.counters).toEqual({
      clientConnectionsCreated: 300, // Client_Connections_created
      clientConnectionsAborted: 0,
      queryErrors: 0, // generated_error_packets
      hostgroupLockedQueries: 0,
      poolGetFailures: 0, // ConnPool_get_conn_failure
      maxConnectTimeouts: 0,
    });
  });

  test('memory: the memory globals ProxySQL accounts for (stats_memory_metrics rows add to it; not captured here)', () => {
    // ConnPool_memory_bytes + mysql_frontend_buffers_bytes + mysql_backend_buffers_bytes + mysql_session_internal_bytes + Query_Cache_Memory_bytes
    expect(s.memoryBytes).toBe(2817032 + 19660800 + 0 + 1469904 + 0);
  });
});

describe('figuresSnapshot on the pinning capture (17 sessions hold a writer connection)', () => {
  const s = snap(pinning());

  test('the held connections show in the pool rows, the writer also in the reader hostgroup', () => {
    expect(s.servers.map(({ hostgroup, endpoint, used, free }) => ({ hostgroup, endpoint, used, free }))).toEqual([
      { hostgroup: 10, endpoint: '127.0.0.1:25356', used: 17, free: 5 },
      { hostgroup: 20, endpoint: '127.0.0.1:25356', used: 0, free: 1 },
      { hostgroup: 20, endpoint: '127.0.0.1:25357', used: 1, free: 19 },
    ]);
  });

  test('the reasons the admin interface counts: open transactions and hostgroup locks', () => {
    expect(s.sessionsInTransaction).toBe(5);
    expect(s.sessionsLockedToHostgroup).toBe(3);
    expect(s.counters.hostgroupLockedQueries).toBe(3); // the three 9006 refusals of SELECT @x
  });

  test('stats_memory_metrics rows add to the memory, jemalloc and stacks never reach it (the query leaves them out)', () => {
    const withRows = JSON.parse(pinning()) as { memory: Record<string, string> };
    withRows.memory = { SQLite3_memory_bytes: '2657984', Auth_memory: '678' };
    expect(snap(JSON.stringify(withRows)).memoryBytes).toBe(s.memoryBytes + 2657984 + 678);
  });
});

describe('aggregateRound', () => {
  test('a first round publishes the gauges and no counter (no previous sample: missing, not zero)', () => {
    const round = aggregateRound([{ taskArn: 'arn:task/a', atMs: 0, snapshot: snap(pinning()) }], 0, new Map());
    const m = byName(round.datapoints);
    expect(m).toEqual({
      TasksScraped: 1,
      ScrapeFailures: 0,
      ClientConnections: 220,
      ClientConnectionsPerTask: 220,
      ClientConnectionsUsedPercent: 2.2, // 220 of mysql-max_connections 10000
      MultiplexingRatio: 220 / 18, // 17 writer + 1 reader connections in use
      ServersNotOnline: 0,
      SessionsInTransaction: 5,
      SessionsLockedToHostgroup: 3,
      MemoryBytes: snap(pinning()).memoryBytes,
      WriterViews: 1,
      'BackendConnectionsUsed[HostgroupRole=reader,BackendServer=127.0.0.1:25356]': 0,
      'BackendConnectionsFree[HostgroupRole=reader,BackendServer=127.0.0.1:25356]': 1,
      'BackendLatency[HostgroupRole=reader,BackendServer=127.0.0.1:25356]': 108,
      'BackendConnectionsUsed[HostgroupRole=reader,BackendServer=127.0.0.1:25357]': 1,
      'BackendConnectionsFree[HostgroupRole=reader,BackendServer=127.0.0.1:25357]': 19,
      'BackendLatency[HostgroupRole=reader,BackendServer=127.0.0.1:25357]': 126,
      'BackendConnectionsUsed[HostgroupRole=writer,BackendServer=127.0.0.1:25356]': 17,
      'BackendConnectionsFree[HostgroupRole=writer,BackendServer=127.0.0.1:25356]': 5,
      'BackendLatency[HostgroupRole=writer,BackendServer=127.0.0.1:25356]': 108,
    });
    expect(round.state.get('arn:task/a')?.counters).toMatchObject({ hostgroupLockedQueries: 3, 'queries|20|127.0.0.1:25357': 8465 });
  });

  test('the next round publishes deltas and rates against the previous sample of the same task', () => {
    // GIVEN the pinning capture (uptime 99 s) and, 10 s later, the same ProxySQL after the clients left (uptime 109 s)
    const first = aggregateRound([{ taskArn: 'arn:task/a', atMs: 99_000, snapshot: snap(pinning()) }], 0, new Map());
    const second = aggregateRound([{ taskArn: 'arn:task/a', atMs: 109_000, snapshot: snap(pinningAfter()) }], 0, first.state);
    const m = byName(second.datapoints);
    // THEN queries/s per hostgroup role = stats_mysql_connection_pool Queries delta / 10 s
    expect(m['QueriesPerSecond[HostgroupRole=writer]']).toBe((2040 - 1992) / 10);
    expect(m['QueriesPerSecond[HostgroupRole=reader]']).toBeCloseTo((6 - 6 + (8703 - 8465)) / 10, 10);
    // AND the counter deltas (nothing was created, aborted or refused in between)
    expect(m).toMatchObject({ ClientConnectionsCreated: 0, ClientConnectionsAborted: 0, QueryErrors: 0, PoolGetFailures: 0, MaxConnectTimeouts: 0, HostgroupLockedQueries: 0 });
    expect(m['BackendConnectionErrors[HostgroupRole=writer,BackendServer=127.0.0.1:25356]']).toBe(0);
    // AND the gauges are this round's: every client gone, no backend connection in use, so no ratio
    expect(m.ClientConnections).toBe(0);
    expect(m.MultiplexingRatio).toBeUndefined();
    expect(m['BackendLatency[HostgroupRole=writer,BackendServer=127.0.0.1:25356]']).toBe(639);
  });

  test('tasks are summed, averaged per task, or the worst task taken; disagreeing writers count as views', () => {
    const round = aggregateRound(
      [
        { taskArn: 'arn:task/a', atMs: 0, snapshot: snap(underLoad()) },
        { taskArn: 'arn:task/b', atMs: 0, snapshot: snap(pinning()) },
      ],
      1,
      new Map(),
    );
    const m = byName(round.datapoints);
    expect(m.TasksScraped).toBe(2);
    expect(m.ScrapeFailures).toBe(1);
    expect(m.ClientConnections).toBe(520);
    expect(m.ClientConnectionsPerTask).toBe(260);
    expect(m.ClientConnectionsUsedPercent).toBe(2.2); // max(300/20000 = 1.5 %, 220/10000 = 2.2 %)
    expect(m.MultiplexingRatio).toBe(520 / 21); // 1 + 2 in use under load, 17 + 1 pinning
    expect(m.SessionsInTransaction).toBe(6);
    expect(m.WriterViews).toBe(2); // 127.0.0.1:24306 and 127.0.0.1:25356
  });

  test('a counter that went down (ProxySQL restarted in the task) counts from zero; a new task adds no delta', () => {
    expect(counterDelta(5, 3)).toBe(2);
    expect(counterDelta(2, 10)).toBe(2);
    expect(counterDelta(7, undefined)).toBeUndefined();
    const base = snap(pinning());
    const previous = new Map<string, PreviousSample>([['arn:task/a', { atMs: 0, counters: { ...base.counters, hostgroupLockedQueries: 10 } }]]);
    const round = aggregateRound(
      [
        { taskArn: 'arn:task/a', atMs: 60_000, snapshot: base },
        { taskArn: 'arn:task/new', atMs: 60_000, snapshot: base },
      ],
      0,
      previous,
    );
    // task a: 3 after 10 → restarted, 3 since; the new task's 3 are history, not this minute
    expect(byName(round.datapoints).HostgroupLockedQueries).toBe(3);
    expect([...round.state.keys()]).toEqual(['arn:task/a', 'arn:task/new']);
  });

  test('no task read: only the read counts are published', () => {
    const round = aggregateRound([], 2, new Map([['arn:task/gone', { atMs: 0, counters: {} }]]));
    expect(round.datapoints.map((d) => [d.metric, d.value])).toEqual([
      [METRICS.tasksScraped, 0],
      [METRICS.scrapeFailures, 2],
    ]);
    expect(round.state.size).toBe(0);
  });

  test('a server not ONLINE in one task is counted; it is no writer view', () => {
    const shunned = underLoad().replace('[10,"127.0.0.1",24306,"ONLINE"', '[10,"127.0.0.1",24306,"SHUNNED"');
    expect(shunned).not.toBe(underLoad());
    const round = aggregateRound(
      [
        { taskArn: 'arn:task/a', atMs: 0, snapshot: snap(underLoad()) },
        { taskArn: 'arn:task/b', atMs: 0, snapshot: snap(shunned) },
      ],
      0,
      new Map(),
    );
    expect(byName(round.datapoints)).toMatchObject({ ServersNotOnline: 1, WriterViews: 1 });
  });
});

describe('a line that is not a figures line is refused, never read as data', () => {
  test.each([
    ['not JSON', '{"v":1,"global":{"Client_Connections_con', /not a figures line/],
    ['another version', JSON.stringify({ v: 2, global: { Client_Connections_connected: '1' }, servers: [] }), /not a figures line of version 1/],
    ['no client gauge', JSON.stringify({ v: 1, global: {}, servers: [] }), /no Client_Connections_connected/],
    ['no servers', JSON.stringify({ v: 1, global: { Client_Connections_connected: '1' } }), /no servers array/],
    ['a short server row', JSON.stringify({ v: 1, global: { Client_Connections_connected: '1' }, servers: [[10, 'h', 3306]] }), /servers row is not/],
  ])('%s', (_label, json, message) => {
    expect(() => snap(json)).toThrow(message);
  });
});
