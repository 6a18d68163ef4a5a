/**
 * One benchmark run: prepares the target (starting the local topology with `--local`), samples the backends'
 * connections, runs the fleet (and the failover), and returns the figures as a plain JSON-able object.
 */
import * as os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { LocalProxySql, requireProxySqlBinary, startLocalProxySql } from '../local/proxysql';
import { READER_HOSTGROUP } from '../src/constants';
import { startTopology, Topology } from '../local/topology';
import { assertOpenFileLimit } from './limits';
import { preparePromotion, prepareLocal, Promoter, PromotionTimes } from './local';
import { BenchOptions, Endpoint, formatEndpoint, OP_KINDS, OpKind, WriterDiscovery } from './options';
import { PoolFigures, probeFigures, ProbeFigures, startPoolSampler, startWriteProbe } from './proxysql-stats';
import { BackendConnections, SampledBackend, startSampler } from './sampler';
import { LatencySummary, rate, summarize } from './stats';
import { Credentials, ensureSchema, now, Recorder, runFleet, TimelineBucket, WriterChange, WriterResolver } from './workload';

export interface FailoverResult {
  /** Seconds after the start at which the promotion began. */
  startedAtS: number;
  oldPrimary: string;
  newPrimary: string;
  /** Demotion of the old primary: read_only=ON and its application sessions killed. */
  demoteMs: number;
  /** From the start of the failover until the replica accepts writes (demote, catch up, promote). */
  promoteMs: number;
  replicaCaughtUp: boolean;
  /** From the replica becoming writable to the first write a session completed on it; null if none did. */
  promotionToFirstWriteMs: number | null;
  /** From the start of the failover to that first write: how long the fleet could not write. */
  writeOutageMs: number | null;
  /** Failed operations from the start of the failover until that first write, by op kind and error. */
  errorsDuring: Record<OpKind, Record<string, number>>;
  /** Failed operations after that first write (sessions still on the old primary), by op kind and error. */
  errorsAfter: Record<OpKind, Record<string, number>>;
  writerDiscovery: WriterDiscovery;
  writerChanges: WriterChange[];
  discoveryProbes: number;
}

export interface BenchResult {
  startedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; platform: string; node: string };
  /** The options that shaped the run (no passwords), with endpoints as HOST:PORT. */
  config: Pick<
    BenchOptions,
    'local' | 'database' | 'sessions' | 'mode' | 'mix' | 'durationS' | 'thinkMs' | 'rampS' | 'queryTimeoutMs' | 'writerDiscovery' | 'statefulPercent'
  > & { target: string; endpoints: string[]; maxConnections?: number };
  /** Wall time from the first session start to the last session's end (includes draining in-flight work). */
  elapsedS: number;
  totals: { ok: number; errors: number; opsPerSec: number; connects: number };
  perKind: Record<OpKind, { ok: number; errors: number; opsPerSec: number; latencyMs: LatencySummary }>;
  latencyMs: { overall: LatencySummary; connect: LatencySummary };
  errors: { byCode: Record<string, number>; byKind: Record<OpKind, Record<string, number>> };
  connections: BackendConnections[];
  client: { cpuPercent: number; eventLoopDelayP99Ms: number; maxRssMb: number };
  failover: FailoverResult | null;
  /** Per second of the run: completed operations, failed operations, completed writes. */
  timeline: Array<{ second: number } & TimelineBucket>;
  /** With `--proxysql`: what the real ProxySQL in front of the topology did. */
  proxysql: ProxySqlFigures | null;
}

export interface ProxySqlFigures {
  version: string;
  /** The harness loaded mysql_hostgroup_attributes through the admin interface (a ProxySQL that ignores them in the file). */
  hostgroupAttributesViaAdmin: boolean;
  backendTls: boolean;
  /** ProxySQL ran with --idle-threads (the construct's default). */
  idleThreads: boolean;
  statements: string;
  variables: Record<string, string | number>;
  maxBackendConnectionsPerServer?: number;
  pool: PoolFigures;
  /** CPU seconds of the ProxySQL processes over the run, and as % of one core. */
  cpuSeconds: number;
  cpuPercent: number;
  peakRssMb: number;
  /** With --failover: the 20 ms write probe through the proxy. */
  probe: ProbeFigures | null;
  /** Share of the successful reads that the reader hostgroup's replicas served (the read offload). */
  readOffloadPercent: number;
}

export interface RunHooks {
  log?: (msg: string) => void;
  /** A running local topology to use with `local` instead of starting one (tests share one). */
  topology?: Topology;
}

function byKind<T>(f: (k: OpKind) => T): Record<OpKind, T> {
  return { read: f('read'), write: f('write'), tx: f('tx') };
}

/** Reads served by replicas (reader hostgroup, not the writer's last-resort row) as % of the successful reads. */
function readOffload(pool: PoolFigures, topology: Topology, reads: number): number {
  const writer = `${topology.primary.host}:${topology.primary.port}`;
  const onReplicas = pool.servers.filter((s) => s.hostgroup === READER_HOSTGROUP && s.server !== writer).reduce((n, s) => n + s.queries, 0);
  return reads > 0 ? Math.min(100, (onReplicas / reads) * 100) : 0;
}

export async function runBenchmark(opts: BenchOptions, hooks: RunHooks = {}): Promise<BenchResult> {
  const log = hooks.log ?? (() => undefined);
  const endpointsCount = 1 + opts.also.length + (opts.local ? 1 : 0);
  const sampledCount = opts.local ? 2 : (opts.admin?.backends.length ?? 0);
  // Sockets besides the sessions: the samplers, a probe per endpoint, the promoter's two.
  assertOpenFileLimit(opts.sessions, sampledCount + endpointsCount + 2);

  let topology = hooks.topology;
  const ownTopology = opts.local && !topology;
  let promoter: Promoter | undefined;
  let proxy: LocalProxySql | undefined;
  try {
    if (opts.proxysql) requireProxySqlBinary(opts.proxysql.bin, '--proxysql');
    if (ownTopology) {
      log('starting the local MariaDB topology (primary + replica)…');
      topology = await startTopology({ replica: true, log, tls: opts.proxysql?.backendTls });
    }

    let target: Endpoint;
    let also: Endpoint[];
    let creds: Credentials;
    let backends: SampledBackend[];
    let maxConnections: number | undefined;
    if (opts.local) {
      const local = await prepareLocal(topology!, opts.database, opts.user, opts.sessions);
      ({ target, also, creds, backends, maxConnections } = local);
      if (opts.proxysql) {
        log(`starting ProxySQL ${opts.proxysql.bin} through the entrypoint (backend TLS ${opts.proxysql.backendTls ? 'on' : 'off'})…`);
        proxy = await startLocalProxySql({
          bin: opts.proxysql.bin,
          topology: topology!,
          backendTls: opts.proxysql.backendTls,
          idleThreads: opts.proxysql.idleThreads,
          mysqlVariables: opts.proxysql.variables,
          spec: {
            ...(opts.proxysql.maxBackendConnectionsPerServer ? { maxBackendConnectionsPerServer: opts.proxysql.maxBackendConnectionsPerServer } : {}),
            ...(opts.proxysql.readConsistency ? { readConsistency: opts.proxysql.readConsistency } : {}),
            ...(opts.proxysql.keepConnectionForLastInsertId ? { keepConnectionForLastInsertId: true } : {}),
          },
          baseDir: os.tmpdir(),
          keepLogAs: opts.json && opts.json !== '-' ? `${opts.json}.proxysql.log` : undefined,
        });
        target = { host: proxy.host, port: proxy.port };
        also = [];
        creds = { user: proxy.user, password: proxy.password, database: proxy.database };
      }
      if (opts.setup) {
        await ensureSchema(target, creds);
        await topology!.waitForReplication();
      }
    } else {
      target = opts.target!;
      also = opts.also;
      creds = { user: opts.user, password: opts.password, database: opts.database };
      backends = (opts.admin?.backends ?? []).map((endpoint) => ({ endpoint, user: opts.admin!.user, password: opts.admin!.password }));
      if (opts.setup) {
        await ensureSchema(target, creds).catch((err: { code?: string; errno?: number }) => {
          throw new Error(
            `cannot prepare the benchmark tables in '${creds.database}' on ${formatEndpoint(target)} as '${creds.user}' ` +
              `(${err.code ?? 'error'}${err.errno && err.errno > 0 ? ` ${err.errno}` : ''}). Check --target, --user, --password-env ` +
              'and --database; the user needs CREATE, SELECT, INSERT and UPDATE on that database (or create the tables once and use --no-setup).',
          );
        });
      }
    }
    if (opts.failover) promoter = await preparePromotion(topology!, creds.user);
    // The endpoint that becomes the writer: with --proxysql the sessions keep talking to the proxy.
    const newWriter = proxy && topology?.replica ? { host: topology.replica.host, port: topology.replica.port } : also[0];

    const sampler = await startSampler(backends);
    const pool = proxy ? await startPoolSampler(proxy.admin) : undefined;
    const proxyCpu0 = proxy?.cpuSeconds() ?? 0;
    const probe = proxy && promoter ? startWriteProbe(target, creds) : undefined;
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const cpu0 = process.cpuUsage();
    const startedAt = new Date();
    const t0 = now();
    const recorder = new Recorder(t0);
    const resolver = new WriterResolver([target, ...also], opts.writerDiscovery, creds, t0);
    const endAt = t0 + opts.durationS * 1000;
    log(
      `running ${opts.sessions} ${opts.mode} sessions against ${formatEndpoint(target)} for ${opts.durationS} s` +
        (opts.failover ? ` (failover at ${opts.failoverAtS} s)` : ''),
    );

    let promotion: Promise<PromotionTimes | undefined> = Promise.resolve(undefined);
    let failoverTimer: NodeJS.Timeout | undefined;
    let notPromoted = () => undefined as void;
    if (promoter && newWriter) {
      const p = promoter;
      const oldWriter = proxy ? `${topology!.primary.host}:${topology!.primary.port}` : formatEndpoint(target);
      promotion = new Promise((resolve, reject) => {
        notPromoted = () => resolve(undefined);
        failoverTimer = setTimeout(() => {
          notPromoted = () => undefined;
          log(`failover: demoting ${oldWriter}, promoting ${formatEndpoint(newWriter)}`);
          recorder.failoverStarted(newWriter);
          p.promote().then(resolve, reject);
        }, opts.failoverAtS * 1000);
      });
    }

    try {
      await runFleet({
        sessions: opts.sessions,
        mode: opts.mode,
        mix: opts.mix,
        thinkMs: opts.thinkMs,
        rampS: opts.rampS,
        queryTimeoutMs: opts.queryTimeoutMs,
        statements: opts.statements ?? 'text',
        statefulPercent: opts.statefulPercent,
        creds,
        resolver,
        recorder,
        endAt,
      });
    } finally {
      // If the run ended before the timer fired, there is no promotion to wait for.
      clearTimeout(failoverTimer);
      notPromoted();
    }
    const elapsedMs = now() - t0;
    const promoted = await promotion;
    const connections = await sampler.stop();
    const poolFigures = await pool?.stop();
    const proxyCpu = proxy ? proxy.cpuSeconds() - proxyCpu0 : 0;
    const probeWrites = await probe?.stop();
    const cpu = process.cpuUsage(cpu0);
    loopDelay.disable();

    const elapsedS = elapsedMs / 1000;
    const okTotal = recorder.okCount();
    const errorsTotal = recorder.errorsByCode.total;
    let failover: FailoverResult | null = null;
    if (promoted) {
      const first = recorder.firstWriteOnWatchedMs;
      const fromStart = (t: number) => t - t0;
      failover = {
        startedAtS: fromStart(promoted.startedAt) / 1000,
        oldPrimary: proxy ? `${topology!.primary.host}:${topology!.primary.port}` : formatEndpoint(target),
        newPrimary: formatEndpoint(newWriter!),
        demoteMs: promoted.demotedAt - promoted.startedAt,
        promoteMs: promoted.promotedAt - promoted.startedAt,
        replicaCaughtUp: promoted.caughtUp,
        promotionToFirstWriteMs: first === undefined ? null : first - fromStart(promoted.promotedAt),
        writeOutageMs: first === undefined ? null : first - fromStart(promoted.startedAt),
        errorsDuring: byKind((k) => recorder.errorsByPhase.during[k].toObject()),
        errorsAfter: byKind((k) => recorder.errorsByPhase.after[k].toObject()),
        writerDiscovery: opts.writerDiscovery,
        writerChanges: resolver.changes,
        discoveryProbes: resolver.probes,
      };
    }

    return {
      startedAt: startedAt.toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        platform: `${os.type()} ${os.release()}`,
        node: process.version,
      },
      config: {
        target: formatEndpoint(target),
        local: opts.local,
        database: opts.database,
        sessions: opts.sessions,
        mode: opts.mode,
        mix: opts.mix,
        durationS: opts.durationS,
        thinkMs: opts.thinkMs,
        rampS: opts.rampS,
        queryTimeoutMs: opts.queryTimeoutMs,
        writerDiscovery: opts.writerDiscovery,
        statefulPercent: opts.statefulPercent,
        endpoints: [target, ...also].map(formatEndpoint),
        ...(maxConnections !== undefined ? { maxConnections } : {}),
      },
      elapsedS,
      totals: { ok: okTotal, errors: errorsTotal, opsPerSec: rate(okTotal, elapsedS), connects: recorder.connects },
      perKind: byKind((k) => ({
        ok: recorder.okCount(k),
        errors: recorder.errorsByKind[k].total,
        opsPerSec: rate(recorder.okCount(k), elapsedS),
        latencyMs: summarize(recorder.latency[k].values()),
      })),
      latencyMs: {
        overall: summarize(...OP_KINDS.map((k) => recorder.latency[k].values())),
        connect: summarize(recorder.connect.values()),
      },
      errors: { byCode: recorder.errorsByCode.toObject(), byKind: byKind((k) => recorder.errorsByKind[k].toObject()) },
      connections,
      client: {
        // CPU seconds used by this process over the run, as % of one core (200% = both cores of a 2-core box).
        cpuPercent: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
        eventLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      },
      failover,
      timeline: [...recorder.timeline].sort((a, b) => a[0] - b[0]).map(([second, b]) => ({ second, ...b })),
      proxysql:
        proxy && poolFigures && opts.proxysql
          ? {
              version: await proxy.version(),
              hostgroupAttributesViaAdmin: proxy.hostgroupAttributesViaAdmin,
              backendTls: opts.proxysql.backendTls,
              idleThreads: opts.proxysql.idleThreads ?? true,
              statements: opts.statements ?? 'text',
              variables: opts.proxysql.variables,
              maxBackendConnectionsPerServer: opts.proxysql.maxBackendConnectionsPerServer,
              pool: poolFigures,
              cpuSeconds: proxyCpu,
              cpuPercent: (proxyCpu / elapsedS) * 100,
              peakRssMb: Math.round(proxy.peakRssMb()),
              probe: promoted && probeWrites ? probeFigures(probeWrites, promoted.demotedAt, promoted.promotedAt) : null,
              readOffloadPercent: readOffload(poolFigures, topology!, recorder.okCount('read')),
            }
          : null,
    };
  } finally {
    await proxy?.stop();
    await promoter?.close();
    if (ownTopology) await topology?.stop();
  }
}
