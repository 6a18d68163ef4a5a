/**
 * `--local`: prepares the local MariaDB topology (local/topology.ts) for a run, and promotes its replica for
 * `--failover`.
 */
import { randomBytes } from 'node:crypto';
import * as mysql from 'mysql2/promise';
import { MariaDbInstance, rootConnection, Topology } from '../local/topology';
import { Endpoint } from './options';
import { SampledBackend } from './sampler';
import { closeQuietly, Credentials, now } from './workload';

/** Connections kept free above the sessions (sampler, probes, replication, a human with a client). */
const CONNECTION_HEADROOM = 100;

export interface LocalTarget {
  target: Endpoint;
  also: Endpoint[];
  creds: Credentials;
  backends: SampledBackend[];
  /** Set when max_connections was raised for this run (the harness starts MariaDB with 2000). */
  maxConnections: number;
}

const endpointOf = (inst: MariaDbInstance): Endpoint => ({ host: inst.host, port: inst.port });

/**
 * Creates the database and a plain application user (no SUPER / READ ONLY ADMIN, so read_only applies to it, as
 * it does to an RDS/Aurora application user) on the primary, which replicates both to the replica, and raises
 * max_connections on every instance if the sessions need more.
 */
export async function prepareLocal(topology: Topology, database: string, user: string, sessions: number): Promise<LocalTarget> {
  const password = randomBytes(18).toString('base64url');
  const instances = [topology.primary, ...(topology.replica ? [topology.replica] : [])];
  const primary = await rootConnection(topology.primary);
  try {
    await primary.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``);
    await primary.query("CREATE USER IF NOT EXISTS ?@'127.0.0.1' IDENTIFIED BY ?", [user, password]);
    await primary.query("ALTER USER ?@'127.0.0.1' IDENTIFIED BY ?", [user, password]);
    await primary.query(`GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON \`${database}\`.* TO ?@'127.0.0.1'`, [user]);
  } finally {
    await closeQuietly(primary);
  }
  let maxConnections = 0;
  for (const inst of instances) {
    const conn = await rootConnection(inst);
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT @@global.max_connections AS m');
      let max = Number(rows[0].m);
      if (max < sessions + CONNECTION_HEADROOM) {
        max = sessions + CONNECTION_HEADROOM;
        await conn.query('SET GLOBAL max_connections = ?', [max]);
      }
      maxConnections = max;
    } finally {
      await closeQuietly(conn);
    }
  }
  await topology.waitForReplication();
  return {
    target: endpointOf(topology.primary),
    also: topology.replica ? [endpointOf(topology.replica)] : [],
    creds: { user, password, database },
    backends: instances.map((inst) => ({ endpoint: endpointOf(inst), user: inst.rootUser, password: inst.rootPassword })),
    maxConnections,
  };
}

export interface PromotionTimes {
  /** performance.now() values */
  startedAt: number;
  demotedAt: number;
  promotedAt: number;
  /** Whether the replica had applied every transaction of the old primary before it was promoted. */
  caughtUp: boolean;
}

export interface Promoter {
  promote(): Promise<PromotionTimes>;
  close(): Promise<void>;
}

/** Opens the admin connections up front, so the promotion itself is not slowed (or timed) by connecting. */
export async function preparePromotion(topology: Topology, appUser: string): Promise<Promoter> {
  if (!topology.replica) throw new Error('--failover needs the local topology with a replica');
  const oldPrimary = await rootConnection(topology.primary);
  const newPrimary = await rootConnection(topology.replica);
  return {
    async promote() {
      const startedAt = now();
      // 1. Demote: refuse writes from ordinary users, then cut their sessions (in-flight transactions roll back).
      await oldPrimary.query('SET GLOBAL read_only = ON');
      await oldPrimary.query(`KILL USER ${oldPrimary.escape(appUser)}`);
      const demotedAt = now();
      // 2. Let the replica apply what the old primary committed, so no acknowledged write is lost (bounded: 5 s).
      const [pos] = await oldPrimary.query<mysql.RowDataPacket[]>('SELECT @@GLOBAL.gtid_binlog_pos AS pos');
      const [wait] = await newPrimary.query<mysql.RowDataPacket[]>('SELECT MASTER_GTID_WAIT(?, 5) AS r', [String(pos[0].pos)]);
      // 3. Promote: stop replicating and accept writes.
      await newPrimary.query('STOP SLAVE');
      await newPrimary.query('SET GLOBAL read_only = OFF');
      return { startedAt, demotedAt, promotedAt: now(), caughtUp: Number(wait[0].r) === 0 };
    },
    async close() {
      await Promise.all([closeQuietly(oldPrimary), closeQuietly(newPrimary)]);
    },
  };
}
