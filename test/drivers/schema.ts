/**
 * The tables the driver matrix's clients use (test/drivers/CONTRACT.md), created as root on the primary, and the
 * replica's apply delay that keeps a too-early read from hiding.
 */
import * as mysql from 'mysql2/promise';
import { rootConnection, Topology } from '../../local/topology';
import { Lab, startLab } from '../proxysql/harness';

export const SEED_ROWS = 100;

export async function createDriverTables(topology: Topology, schema: string): Promise<void> {
  const conn = await rootConnection(topology.primary);
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${schema}\``);
    await conn.query(`USE \`${schema}\``);
    await conn.query(
      'CREATE TABLE IF NOT EXISTS drv_item (id BIGINT AUTO_INCREMENT PRIMARY KEY, owner VARCHAR(64) NOT NULL, n INT NOT NULL, v INT NOT NULL DEFAULT 0) ENGINE=InnoDB',
    );
    await conn.query('CREATE TABLE IF NOT EXISTS drv_child (id BIGINT AUTO_INCREMENT PRIMARY KEY, parent_id BIGINT NOT NULL) ENGINE=InnoDB');
    await conn.query('CREATE TABLE IF NOT EXISTS drv_seed (id INT PRIMARY KEY, label VARCHAR(32) NOT NULL) ENGINE=InnoDB');
    const values = Array.from({ length: SEED_ROWS }, (_, i) => [i + 1, `seed-${i + 1}`]);
    await conn.query('INSERT IGNORE INTO drv_seed (id, label) VALUES ?', [values]);
  } finally {
    await conn.end();
  }
  await topology.waitForReplication(30_000);
}

/**
 * Makes the replica apply every event `seconds` late (MariaDB MASTER_DELAY), as a busy RDS replica does.
 * ProxySQL's lag check (Seconds_Behind_Master) then reads about `seconds`, below the rendered shunning bound.
 */
export async function delayReplica(topology: Topology, seconds: number): Promise<void> {
  if (!topology.replica) throw new Error('delayReplica: the topology has no replica');
  const conn = await rootConnection(topology.replica);
  try {
    // MariaDB takes CHANGE MASTER only with both replication threads stopped.
    await conn.query('STOP SLAVE');
    await conn.query(`CHANGE MASTER TO MASTER_DELAY = ${Math.trunc(seconds)}`);
    await conn.query('START SLAVE');
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW SLAVE STATUS');
    if (Number(rows[0]?.SQL_Delay) !== Math.trunc(seconds)) throw new Error(`replica SQL_Delay is ${rows[0]?.SQL_Delay}, wanted ${seconds}`);
  } finally {
    await conn.end();
  }
}

/**
 * A real-ProxySQL lab (test/proxysql/harness.ts) with the matrix's tables and, when `replicaDelaySeconds` is given,
 * the replica that many seconds behind. Stops the lab if setting it up fails.
 */
export async function startDriverLab(options: Parameters<typeof startLab>[0] & { replicaDelaySeconds?: number } = {}): Promise<Lab> {
  const { replicaDelaySeconds, ...labOptions } = options;
  const lab = await startLab(labOptions);
  try {
    await createDriverTables(lab.topology, lab.proxy.database);
    if (replicaDelaySeconds !== undefined) await delayReplica(lab.topology, replicaDelaySeconds);
    return lab;
  } catch (error) {
    await lab.stop();
    throw error;
  }
}
