import { describe, expect, test } from 'vitest';
import {
  check,
  checkTypeProblem,
  duplicateProblem,
  hostProblem,
  managedUsernameProblem,
  mysqlVariableProblem,
  mysqlVariablesProblem,
  nearestName,
  parseEndpoint,
  parsePort,
  parseWholeNumber,
  portProblem,
  privilegesProblem,
  RANGES,
  rangeProblem,
  ruleMessage,
  schemaProblem,
  unwrap,
  usernameProblem,
} from '../../src/config/rules';

describe('rules', () => {
  test('ports: 1-65535 whole numbers, 0 only when asked; text must be digits', () => {
    expect([1, 3306, 65535].map((p) => portProblem(p))).toEqual([undefined, undefined, undefined]);
    expect(portProblem(0)).toBe('0 is not a TCP port: use a whole number from 1 to 65535');
    expect(portProblem(0, { allowZero: true })).toBeUndefined();
    expect(portProblem(3306.5)).toMatch(/not a TCP port/);
    expect(portProblem('3306')).toBe("'3306' is not a TCP port: use a whole number from 1 to 65535");
    expect(parsePort(' 3306 ')).toEqual({ ok: true, value: 3306 });
    expect(parsePort('0x10')).toEqual({ ok: false, problem: "'0x10' is not a TCP port: use a whole number from 1 to 65535" });
    expect(parsePort('70000').ok).toBe(false);
  });

  test('hosts: RFC 1123 names and IPv4; IPv6, bad dotted quads, URLs and blanks are refused', () => {
    for (const ok of ['db', 'localhost', '127.0.0.1', 'a-b.c9.example.com', 'x.cluster-abc.eu-west-1.rds.amazonaws.com']) {
      expect(hostProblem(ok), ok).toBeUndefined();
    }
    expect(hostProblem('::1')).toBe("'::1' is an IPv6 address, which is not supported: use a DNS name or an IPv4 address");
    expect(hostProblem('[fe80::1]')).toMatch(/IPv6/);
    expect(hostProblem('999.1.1.1')).toMatch(/is not a DNS name or IPv4 address/);
    expect(hostProblem('-db.example.com')).toMatch(/is not a DNS name/);
    expect(hostProblem('mysql://db')).toMatch(/without scheme, port, path or spaces/);
    expect(hostProblem('db.example.com.')).toMatch(/is not a DNS name/);
    expect(hostProblem(`${'a'.repeat(64)}.com`)).toMatch(/is not a DNS name/);
    expect(hostProblem('  ')).toMatch(/is empty/);
    expect(hostProblem(undefined)).toBe('undefined is not a host name: pass a DNS name or IPv4 address as text');
  });

  test('HOST:PORT reports the host or port rule itself', () => {
    expect(parseEndpoint('db:3307')).toEqual({ ok: true, value: { host: 'db', port: 3307 } });
    expect(parseEndpoint('db', 3306)).toEqual({ ok: true, value: { host: 'db', port: 3306 } });
    expect(parseEndpoint('db')).toEqual({ ok: false, problem: "'db' has no port: give HOST:PORT, e.g. db:3306" });
    expect(parseEndpoint('db:70000')).toEqual({ ok: false, problem: portProblem('70000') });
    expect(parseEndpoint('d b:1')).toEqual({ ok: false, problem: hostProblem('d b') });
    expect(parseEndpoint('[::1]:3306')).toEqual({ ok: false, problem: hostProblem('::1') });
    expect(parseEndpoint('::1')).toEqual({ ok: false, problem: hostProblem('::1') });
  });

  test('user names: syntax everywhere; reserved, admin and monitor names for the users the project manages', () => {
    expect(usernameProblem('app_1')).toBeUndefined();
    expect(usernameProblem('root')).toBeUndefined();
    expect(usernameProblem('a-b')).toBe("'a-b' is not a valid user name: use 1-32 characters of A-Z, a-z, 0-9 and _");
    expect(usernameProblem('x'.repeat(33))).toMatch(/not a valid user name/);
    expect(managedUsernameProblem('ROOT')).toMatch(/'ROOT' is reserved/);
    expect(managedUsernameProblem('master', { adminUsername: 'master' })).toMatch(/'master' is reserved \(the admin user/);
    expect(managedUsernameProblem('mon', { monitorUsername: 'mon' })).toBe("'mon' is the monitor user's name: give every user its own name");
    expect(managedUsernameProblem('a-b', { monitorUsername: 'a-b' })).toMatch(/not a valid user name/);
    expect(duplicateProblem('app', 'users[0].username')).toBe("'app' is already used by users[0].username: give every user its own name");
  });

  test('schemas and privileges', () => {
    expect(schemaProblem('app')).toBeUndefined();
    expect(schemaProblem('x$y')).toBe("'x$y' is not a valid schema name: use 1-64 characters of A-Z, a-z, 0-9 and _");
    expect(privilegesProblem(['select', 'all'])).toBeUndefined();
    expect(privilegesProblem([])).toEqual({ at: '', problem: expect.stringMatching(/^is empty/) });
    expect(privilegesProblem(['SELECT', 'SUPER'])).toEqual({ at: '[1]', problem: expect.stringMatching(/^'SUPER' is not an allowed schema privilege/) });
  });

  test('check types and ranges', () => {
    expect(checkTypeProblem('super_read_only')).toBeUndefined();
    expect(checkTypeProblem('x')).toBe("'x' is not one of read_only, innodb_read_only, super_read_only (the values ProxySQL's config loader keeps)");
    expect(rangeProblem(600, RANGES.maxReplicaLagSeconds)).toBeUndefined();
    expect(rangeProblem(601, RANGES.maxReplicaLagSeconds)).toBe('must be a whole number of seconds from 1 to 600, got 601');
    expect(rangeProblem(10_001, RANGES.maxBackendConnectionsPerServer)).toBe('must be a whole number from 1 to 10000, got 10001');
    expect(parseWholeNumber('42', RANGES.threads)).toEqual({ ok: true, value: 42 });
    expect(parseWholeNumber('4.5', RANGES.threads)).toEqual({ ok: false, problem: "must be a whole number from 1 to 256, got '4.5'" });
  });

  test('mysqlVariables: names, construct-owned names, values the loader cannot take', () => {
    expect(mysqlVariablesProblem({ wait_timeout: 1000, autocommit_false_is_transaction: true, ping_interval_server_msec: '10000' })).toBeUndefined();
    expect(mysqlVariablesProblem({ 'mysql-threads': 4 })).toEqual({ at: '', problem: expect.stringMatching(/'mysql-threads' must be a variable name/) });
    expect(mysqlVariablesProblem({ interfaces: '0.0.0.0:1' })).toEqual({ at: '.interfaces', problem: expect.stringMatching(/^set by the construct/) });
    expect(mysqlVariablesProblem({ threads: 2 ** 31 })?.problem).toMatch(/fits 32 bits/);
    expect(mysqlVariablesProblem({ server_version: 'a"b' })?.problem).toMatch(/double quote/);
    expect(mysqlVariablesProblem({ init_connect: null })?.problem).toMatch(/string, a number or a boolean/);
    expect(mysqlVariablesProblem([])?.problem).toMatch(/must be an object/);
  });

  test('mysqlVariables: a name ProxySQL does not know is refused, with the nearest name when it looks like a slip', () => {
    const unknown = 'not a variable of ProxySQL 3.0 (it would log "Impossible to set not existing variable" and ignore it)';
    expect(mysqlVariableProblem('wait_timout', 1000)).toEqual({ at: '.wait_timout', problem: `${unknown}; did you mean wait_timeout?` });
    expect(mysqlVariableProblem('connect_timeout_server_msx', 1)?.problem).toMatch(/did you mean connect_timeout_server_max\?$/);
    expect(mysqlVariableProblem('not_a_var', 1)).toEqual({
      at: '.not_a_var',
      problem: `${unknown}; the variables are listed at https://proxysql.com/documentation/global-variables/mysql-variables/`,
    });
    // an image of the caller's own may know more names: then only the value is checked
    expect(mysqlVariableProblem('not_a_var', 1, { anyName: true })).toBeUndefined();
    expect(nearestName('wait_timeout', ['wait_timeout'])).toBe('wait_timeout');
    expect(nearestName('abc', ['wait_timeout'])).toBeUndefined();
  });

  test('mysqlVariables: values of the type and range ProxySQL reads the variable as', () => {
    const refused = '(ProxySQL would log "Impossible to set variable" and keep its default)';
    expect(mysqlVariableProblem('multiplexing', 'yes')).toEqual({ at: '.multiplexing', problem: `must be true or false ${refused}, got 'yes'` });
    expect(mysqlVariableProblem('monitor_ping_timeout', 50)).toEqual({ at: '.monitor_ping_timeout', problem: `must be a whole number from 100 to 600000 ${refused}, got 50` });
    expect(mysqlVariableProblem('max_connections', 'lots')?.problem).toBe(`must be a whole number from 1 to 1000000 ${refused}, got 'lots'`);
    expect(mysqlVariableProblem('wait_timeout', true)?.problem).toMatch(/^must be a whole number from 0 to 1728000000/);
    for (const ok of [true, 'FALSE', 1, '0']) expect(mysqlVariableProblem('multiplexing', ok)).toBeUndefined();
    for (const ok of [100, '600000', ' 250 ']) expect(mysqlVariableProblem('monitor_ping_timeout', ok)).toBeUndefined();
    // a deploy-time value (a CloudFormation token) is checked by name only
    expect(mysqlVariableProblem('monitor_ping_timeout', '${Token[X]}', { valueAtDeploy: true })).toBeUndefined();
    expect(mysqlVariableProblem('wait_timout', '${Token[X]}', { valueAtDeploy: true })?.problem).toMatch(/did you mean wait_timeout/);
  });

  test('messages are `field: problem`; check throws them, with the caller’s error class', () => {
    expect(ruleMessage('--port', 'p')).toBe('--port: p');
    expect(ruleMessage('P.mysqlVariables', { at: '.x', problem: 'p' })).toBe('P.mysqlVariables.x: p');
    class UsageError extends Error {}
    expect(() => check('--port', portProblem(0), (m) => new UsageError(m))).toThrow(UsageError);
    expect(() => check('--port', undefined)).not.toThrow();
    expect(unwrap('DB_PORT', parsePort('3306'))).toBe(3306);
    expect(() => unwrap('DB_PORT', parsePort('x'))).toThrow("DB_PORT: 'x' is not a TCP port");
  });
});
