/**
 * Every variable the renderer writes exists in the pinned ProxySQL: ProxySQL ignores an unknown name in proxysql.cnf
 * with a log line, so a removed or misspelt setting would silently do nothing (admin-hash_passwords did).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildProxySqlConfig, ProxySqlConfigSpec } from '../../src/config/build';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'proxysql-variables');
const names = (file: string) => new Set(fs.readFileSync(path.join(FIXTURES, file), 'utf8').split('\n').filter(Boolean));
const MYSQL = names('mysql-variables-3.0.txt');
const ADMIN = names('admin-variables-3.0.txt');

const SPECS: Record<string, ProxySqlConfigSpec> = {
  'endpoints, client TLS': {
    backend: { kind: 'endpoints', writer: { host: 'w', port: 3306 }, readers: [{ host: 'r', port: 3306 }], checkType: 'read_only', maxReplicaLagSeconds: 30, useTls: true },
    users: [{ username: 'app' }],
    monitorUsername: 'mon',
    clientTls: true,
  },
  aurora: {
    backend: { kind: 'aurora', domainName: '.abc.us-east-1.rds.amazonaws.com', port: 3306, instanceEndpoints: ['a.abc.us-east-1.rds.amazonaws.com'], maxReplicaLagMs: 30000, useTls: true },
    users: [{ username: 'app' }],
    monitorUsername: 'mon',
  },
};

describe('rendered variables exist in ProxySQL 3.0 (lists from its source, test/fixtures/proxysql-variables)', () => {
  test('the lists are the real ones: they hold known names and not the removed hash_passwords', () => {
    expect(MYSQL.has('threads') && MYSQL.has('monitor_read_only_interval') && MYSQL.has('throttle_connections_per_sec_to_hostgroup')).toBe(true);
    expect(ADMIN.has('restapi_port') && ADMIN.has('mysql_ifaces')).toBe(true);
    expect(ADMIN.has('hash_passwords')).toBe(false);
    expect(MYSQL.size).toBeGreaterThan(150);
  });

  test.each(Object.entries(SPECS))('%s: every mysql_variables and admin_variables name is known', (_name, spec) => {
    const config = buildProxySqlConfig(spec);
    expect(Object.keys(config.mysqlVariables).filter((n) => !MYSQL.has(n))).toEqual([]);
    expect(Object.keys(config.adminVariables).filter((n) => !ADMIN.has(n))).toEqual([]);
  });
});
