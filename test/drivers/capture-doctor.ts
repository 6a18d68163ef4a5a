/**
 * Captures the fixture `doctor` is tested on for driver and ORM patterns (test/fixtures/proxysql-2.7.1-drivers):
 * a real ProxySQL (PROXYSQL_BIN) running the project's render, three clients of the matrix for a few seconds
 * (MariaDB Connector/J, PyMySQL, ActiveRecord), the digest of one LAST_INSERT_ID() spelled with an alias, and two
 * PyMySQL sessions that write without commit() and stay connected: the admin tables are read while they idle.
 *
 *   PROXYSQL_BIN=/path/to/proxysql npx tsx test/drivers/capture-doctor.ts
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { output } from '../../local/run';
import { ALL_CLIENTS, runClient } from './runner';
import { startDriverLab } from './schema';

const OUT = path.join(__dirname, '..', 'fixtures', 'proxysql-2.7.1-drivers');
const TABLES = ['stats_mysql_connection_pool', 'stats_mysql_processlist', 'stats_mysql_global', 'stats_mysql_query_digest'];

/** `mariadb -B` output of a query on the admin interface, with the password in the environment, not the argv. */
function dump(port: number, password: string, table: string): Promise<string> {
  return output('mariadb', ['-h127.0.0.1', `-P${port}`, '-uadmin', '-B', '-e', `SELECT * FROM ${table}`], { env: { ...process.env, MYSQL_PWD: password } });
}

async function main(): Promise<void> {
  const lab = await startDriverLab();
  try {
    for (const name of ['connector-j', 'pymysql', 'activerecord']) {
      const client = ALL_CLIENTS.find((c) => c.name === name)!;
      await runClient(client, lab.proxy, { workload: 'rw', sessions: 4, durationMs: 3000, thinkMs: 50, owner: `capture-${name}` });
    }
    // Two PEP 249 sessions that write and never commit, left idle while the tables are read.
    const script = `
import os, sys, time, pymysql
conns = []
for i in range(2):
    c = pymysql.connect(host=os.environ['H'], port=int(os.environ['P']), user=os.environ['U'], password=os.environ['W'], database=os.environ['D'])
    with c.cursor() as cur:
        cur.execute("INSERT INTO drv_item (owner, n, v) VALUES (%s, %s, 0)", ('uncommitted', i))
    conns.append(c)
print('ready', flush=True)
time.sleep(30)
`;
    const idle = spawn('/usr/bin/python3', ['-c', script], {
      env: { ...process.env, H: lab.proxy.host, P: String(lab.proxy.port), U: lab.proxy.user, W: lab.proxy.password, D: lab.proxy.database },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => idle.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    fs.mkdirSync(OUT, { recursive: true });
    for (const table of TABLES) fs.writeFileSync(path.join(OUT, `${table}.tsv`), await dump(lab.proxy.adminPort, lab.proxy.adminPassword, table));
    idle.kill();
  } finally {
    await lab.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
