/** Renders a BenchResult as the human-readable table printed on stdout. */
import { OP_KINDS, OpKind } from './options';
import type { BenchResult } from './run';
import type { LatencySummary } from './stats';

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');

/** Left-aligns the first column and right-aligns the others. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

function latencyRow(name: string, ok: number, errors: number | undefined, opsPerSec: number, l: LatencySummary): string[] {
  return [name, String(ok), errors === undefined ? '-' : String(errors), f1(opsPerSec), f1(l.p50), f1(l.p95), f1(l.p99), f1(l.max)];
}

function errorLines(errors: Record<string, number>, indent: string): string[] {
  const entries = Object.entries(errors);
  return entries.length === 0 ? [`${indent}none`] : entries.map(([code, n]) => `${indent}${code}: ${n}`);
}

function kindErrors(byKind: Record<OpKind, Record<string, number>>): string {
  const parts = OP_KINDS.flatMap((k) => Object.entries(byKind[k]).map(([code, n]) => `${k} ${code} x${n}`));
  return parts.length ? parts.join(', ') : 'none';
}

export function formatReport(r: BenchResult): string {
  const c = r.config;
  const out: string[] = [];
  out.push(
    `serverless-proxysql Lambda-fleet benchmark — ${r.startedAt}`,
    `target ${c.target}${r.proxysql ? ' (a local ProxySQL in front of the local MariaDB primary + replica)' : c.local ? ' (local MariaDB primary)' : ''}, ${c.sessions} ${c.mode} sessions, ` +
      `mix reads=${c.mix.read},writes=${c.mix.write},tx=${c.mix.tx}, ${c.durationS} s, think ${c.thinkMs} ms ±50%, ramp ${c.rampS} s` +
      (c.writerDiscovery !== 'none' ? `, writer discovery ${c.writerDiscovery} over ${c.endpoints.join(' ')}` : ''),
    `machine ${r.machine.cpus} CPU (${r.machine.cpuModel}), ${r.machine.memoryGb} GB, ${r.machine.platform}, node ${r.machine.node}`,
    '',
  );
  out.push(
    table([
      ['op', 'ok', 'errors', 'ops/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
      ...OP_KINDS.map((k) => latencyRow(k, r.perKind[k].ok, r.perKind[k].errors, r.perKind[k].opsPerSec, r.perKind[k].latencyMs)),
      latencyRow('all', r.totals.ok, r.totals.errors, r.totals.opsPerSec, r.latencyMs.overall),
      latencyRow('connect', r.latencyMs.connect.count, undefined, r.latencyMs.connect.count / r.elapsedS, r.latencyMs.connect),
    ]),
    '',
    `elapsed ${r.elapsedS.toFixed(2)} s; ${r.totals.connects} connections opened (failed connects count as errors of their op); latency includes the connect in cold mode and on a warm reconnect`,
    'errors by code:',
    ...errorLines(r.errors.byCode, '  '),
  );
  if (r.connections.length > 0) {
    out.push(
      '',
      'server connections (Threads_connected sampled every 250 ms; Max_used_connections from the server):',
      table([
        ['backend', 'baseline', 'peak sampled', 'server max', 'samples', 'flushed'],
        ...r.connections.map((b) => [
          b.backend,
          String(b.baseline),
          String(b.peakSampled),
          b.serverMax === null ? '-' : String(b.serverMax),
          String(b.samples),
          b.flushed ? 'yes' : 'no',
        ]),
      ]),
      ...r.connections.filter((b) => b.problem).map((b) => `  ${b.backend}: ${b.problem}`),
    );
  }
  if (r.failover) {
    const fo = r.failover;
    const ms = (n: number | null) => (n === null ? 'never (no write reached the new primary)' : `${f0(n)} ms`);
    out.push(
      '',
      `failover at ${fo.startedAtS.toFixed(2)} s: ${fo.oldPrimary} -> ${fo.newPrimary} (writer discovery: ${fo.writerDiscovery})`,
      `  demote (read_only=ON, app sessions killed) ${f0(fo.demoteMs)} ms; replica writable after ${f0(fo.promoteMs)} ms` +
        (fo.replicaCaughtUp ? ' (caught up)' : ' (NOT caught up within 5 s)'),
      `  promotion -> first successful write on the new primary: ${ms(fo.promotionToFirstWriteMs)}`,
      `  failover start -> first successful write (write outage): ${ms(fo.writeOutageMs)}`,
      `  failed until then: ${kindErrors(fo.errorsDuring)}`,
      `  failed after it:   ${kindErrors(fo.errorsAfter)}`,
      `  writer changes seen by the sessions: ${fo.writerChanges.map((w) => `${(w.atMs / 1000).toFixed(3)} s ${w.from} -> ${w.to}`).join(', ') || 'none'}` +
        ` (${fo.discoveryProbes} probe rounds)`,
    );
    const from = Math.max(0, Math.floor(fo.startedAtS) - 2);
    const around = r.timeline.filter((t) => t.second >= from && t.second <= from + 7);
    out.push(
      '  per second around it:',
      table([['  second', 'ok', 'errors', 'writes ok'], ...around.map((t) => [`  ${t.second}`, String(t.ok), String(t.errors), String(t.writesOk)])]),
    );
  }
  if (r.proxysql) {
    const p = r.proxysql;
    const vars = [
      ...Object.entries(p.variables).map(([k, v]) => `${k}=${v}`),
      ...(p.maxBackendConnectionsPerServer ? [`max_connections per server ${p.maxBackendConnectionsPerServer}`] : []),
    ].join(' ');
    out.push(
      '',
      `through ProxySQL ${p.version} (the project's rendered config, started by the entrypoint), backend TLS ${p.backendTls ? 'on' : 'off'}, ` +
        `${p.idleThreads ? '' : 'no idle threads, '}${p.statements} statements${vars ? `, overrides: ${vars}` : ''}` +
        (p.hostgroupAttributesViaAdmin ? '\n  (this ProxySQL ignores mysql_hostgroup_attributes in the file: the rendered rows were loaded through the admin interface, as 3.0.x reads them)' : ''),
      `  backend connections (ConnUsed+ConnFree, all hostgroups, every 250 ms): steady ${p.pool.steady}, peak ${p.pool.peak} (${p.pool.samples} samples)`,
      table([
        ['  hostgroup', 'server', 'peak', 'ConnERR', 'queries'],
        ...p.pool.servers.map((s) => [`  ${s.hostgroup}`, s.server, String(s.peak), String(s.connErrors), String(s.queries)]),
      ]),
      `  counters over the run: ${Object.entries(p.pool.global).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `  ProxySQL CPU ${p.cpuSeconds.toFixed(1)} s (${f0(p.cpuPercent)}% of one core), peak RSS ${p.peakRssMb} MB`,
      `  reads served by the replicas: ${f1(p.readOffloadPercent)}%` +
        (c.statefulPercent ? ` (${c.statefulPercent}% of the sessions set a user variable: they read from the writer)` : ''),
    );
    if (p.probe) {
      out.push(
        `  write probe every 20 ms: first write on the new primary ${p.probe.flipToFirstWriteMs === null ? 'never' : `${f0(p.probe.flipToFirstWriteMs)} ms`} ` +
          `after it became writable; ${p.probe.failedWrites} probe writes failed in between (${Object.entries(p.probe.errors).map(([k, v]) => `${k} x${v}`).join(', ') || 'none'})`,
      );
    }
  }
  out.push(
    '',
    `client: ${f0(r.client.cpuPercent)}% CPU (100% = one core), event-loop delay p99 ${f1(r.client.eventLoopDelayP99Ms)} ms, max RSS ${r.client.maxRssMb} MB`,
  );
  return out.join('\n');
}
