import * as fs from 'node:fs';
import * as mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findMariaDbBinaries, MariaDbInstance, startTopology, Topology } from './topology';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function connect(inst: MariaDbInstance, user: string = inst.rootUser, password = inst.rootPassword, database?: string) {
  return mysql.createConnection({ host: inst.host, port: inst.port, user, password, database });
}

describe('startTopology', () => {
  let topology: Topology;

  beforeAll(async () => {
    topology = await startTopology({ replica: true });
  });

  afterAll(async () => {
    await topology?.stop();
  });

  it('finds the MariaDB binaries', () => {
    const bins = findMariaDbBinaries();
    for (const bin of Object.values(bins)) expect(fs.existsSync(bin)).toBe(true);
  });

  it('gives each instance its own port (not 3306), socket and data dir, with TCP root login', async () => {
    const { primary, replica } = topology;
    expect(replica).toBeDefined();
    expect(primary.port).not.toBe(replica!.port);
    expect([primary.port, replica!.port]).not.toContain(3306);
    expect(primary.socket).not.toBe(replica!.socket);
    expect(primary.dataDir).not.toBe(replica!.dataDir);
    expect(fs.existsSync(primary.socket)).toBe(true);
    const conn = await connect(primary);
    const [rows] = await conn.query('SELECT @@port AS port, @@read_only AS ro');
    await conn.end();
    expect(rows).toEqual([{ port: primary.port, ro: 0 }]);
    await expect(connect(primary, 'root', 'wrong-password')).rejects.toThrow(/Access denied/);
  });

  it('replicates a normal user’s write on the primary to the read-only replica, where that user cannot write', async () => {
    const { primary } = topology;
    const replica = topology.replica!;
    const admin = await connect(primary);
    await admin.query('CREATE DATABASE app');
    await admin.query("CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw'");
    await admin.query("GRANT ALL PRIVILEGES ON app.* TO 'app'@'%'");
    await admin.end();

    const app = await connect(primary, 'app', 'app-pw', 'app');
    await app.query('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))');
    await app.query("INSERT INTO t VALUES (1, 'written on primary')");
    await app.end();

    await topology.waitForReplication(10_000);

    const onReplica = await connect(replica, 'app', 'app-pw', 'app');
    const [rows] = await onReplica.query('SELECT v FROM t WHERE id = 1');
    expect(rows).toEqual([{ v: 'written on primary' }]);
    const [ro] = await onReplica.query('SELECT @@read_only AS ro');
    expect(ro).toEqual([{ ro: 1 }]);
    await expect(onReplica.query("INSERT INTO t VALUES (2, 'x')")).rejects.toMatchObject({ code: 'ER_OPTION_PREVENTS_STATEMENT' });
    await onReplica.end();
  });

  it('stop() leaves no process and no directory, and is idempotent', async () => {
    const local = await startTopology({ replica: true });
    const pids = [local.primary.pid, local.replica!.pid];
    const dirs = [local.primary.dataDir, local.replica!.dataDir];
    expect(pids.every(alive)).toBe(true);
    await Promise.all([local.stop(), local.stop()]);
    await local.stop();
    expect(pids.filter(alive)).toEqual([]);
    expect(dirs.filter((d) => fs.existsSync(d))).toEqual([]);
  });
});
