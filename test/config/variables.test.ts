/**
 * Every variable the renderer writes exists in the pinned ProxySQL: ProxySQL ignores an unknown name in proxysql.cnf
 * with a log line, so a removed or misspelt setting would silently do nothing (admin-hash_passwords did).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { extract } from '../../scripts/proxysql-variables';
import { buildProxySqlConfig, ProxySqlConfigSpec } from '../../src/config/build';
import { MYSQL_VARIABLES } from '../../src/config/proxysql-variables';
import { mysqlVariableProblem, mysqlVariableValueProblem } from '../../src/config/rules';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'proxysql-variables');
const names = (file: string) => new Set(fs.readFileSync(path.join(FIXTURES, file), 'utf8').split('\n').filter(Boolean));
const MYSQL = names('mysql-variables-3.0.txt');
const ADMIN = names('admin-variables-3.0.txt');
const MYSQL_LOWER = new Set([...MYSQL].map((n) => n.toLowerCase()));

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

describe('the types ProxySQL reads each variable as (src/config/proxysql-variables.ts)', () => {
  test('the generated table holds the fixture names (lower case, as ProxySQL looks them up) and what later releases add', () => {
    const table = Object.keys(MYSQL_VARIABLES);
    expect(table.filter((n) => !MYSQL_LOWER.has(n))).toEqual(['session_track_variables']);
    expect([...MYSQL_LOWER].filter((n) => !(n in MYSQL_VARIABLES))).toEqual([]);
  });

  test('the generator reads booleans, ranges and the explicitly checked integers out of MySQL_Thread.cpp', () => {
    const source = [
      'VariablesPointers_bool["multiplexing"]  = make_tuple(&variables.multiplexing, false);',
      'VariablesPointers_int["monitor_ping_timeout"] = make_tuple(&variables.monitor_ping_timeout, 100, 600*1000, false);',
      'VariablesPointers_int["wait_timeout"] = make_tuple(&variables.wait_timeout, 0, 0, true);',
      'if (!strcasecmp(name,"wait_timeout")) {\n\t\tint intv=atoi(value);\n\t\tif (intv >= 0 && intv <= 20*24*3600*1000) {',
    ].join('\n');
    expect(extract(source, ['multiplexing', 'monitor_ping_timeout', 'wait_timeout', 'server_version'])).toEqual({
      multiplexing: 'boolean',
      monitor_ping_timeout: [100, 600000],
      server_version: 'unchecked',
      session_track_variables: 'unchecked',
      wait_timeout: [0, 1728000000],
    });
    expect(() => extract(source.replace(/if \(!strcasecmp[\s\S]*/, ''), ['wait_timeout'])).toThrow(/no explicit check of the special integer wait_timeout/);
  });

  test('known types: what 3.0 declares', () => {
    expect(MYSQL_VARIABLES.multiplexing).toBe('boolean');
    expect(MYSQL_VARIABLES.wait_timeout).toEqual([0, 20 * 24 * 3600 * 1000]);
    expect(MYSQL_VARIABLES.monitor_read_only_timeout).toEqual([100, 600 * 1000]);
    expect(MYSQL_VARIABLES.server_version).toBe('unchecked');
  });

  test.each(Object.entries(SPECS))('%s: every value the renderer writes is one ProxySQL takes', (_name, spec) => {
    for (const options of [{}, { keepConnectionForLastInsertId: true, clientTls: true, maxClientConnections: 1, maxBackendConnectionsPerServer: 10_000 }]) {
      const config = buildProxySqlConfig({ ...spec, ...options });
      const problems = Object.entries(config.mysqlVariables)
        .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v.value))
        .map(([name, v]) => [name, mysqlVariableValueProblem(name, v.value)])
        .filter(([, problem]) => problem !== undefined);
      expect(problems).toEqual([]);
    }
  });

  test('every name and value ProxySQL 2.7.1 ignored with "Impossible to set" is refused by the rule', () => {
    const log = fs.readFileSync(path.join(FIXTURES, 'proxysql-2.7.1-refused-variables.log'), 'utf8');
    const refused = [...log.matchAll(/Impossible to set (?:not existing )?variable (\w+) with value "([^"]*)"/g)].map((m) => [m[1], m[2]] as const);
    expect(refused.map(([name]) => name).sort()).toEqual(['max_connections', 'monitor_ping_timeout', 'monitor_read_only_timeout', 'multiplexing', 'wait_timout']);
    for (const [name, value] of refused) expect(mysqlVariableProblem(name, value), `${name}=${value}`).toBeDefined();
  });
});
