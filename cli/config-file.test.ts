import { describe, expect, test } from 'vitest';
import { checkConfigObject, CONFIG_KEY_NAMES } from './config-file';

const at = '--config c.json';

describe('--config keys are the construct props', () => {
  test.each([
    ['tls', false, "--config c.json: 'tls' is now 'backendTls', the construct's prop (true | false); rename the key"],
    ['mysqlVariableOverrides', {}, "'mysqlVariableOverrides' is now 'mysqlVariables'"],
    ['maxReplicaLagSeconds', 30, "'maxReplicaLagSeconds' is now 'maxReplicaLag', the construct's prop (whole seconds, 1-600)"],
  ])('the old key %s is an error naming the new key', (key, value, message) => {
    expect(() => checkConfigObject({ [key]: value }, at)).toThrow(message);
  });

  test("RDS Proxy's knobs are read in whole seconds and SQL text", () => {
    expect(checkConfigObject({ borrowTimeout: 120, idleClientTimeout: 340, initQuery: 'SET SESSION innodb_lock_wait_timeout=5' }, at)).toEqual({
      borrowTimeout: 120,
      idleClientTimeout: 340,
      initQuery: 'SET SESSION innodb_lock_wait_timeout=5',
    });
  });

  test('an unknown key is an error listing the keys', () => {
    expect(() => checkConfigObject({ backendTLS: true }, at)).toThrow(`${at}: unknown key 'backendTLS'; the keys are ${CONFIG_KEY_NAMES.join(', ')}`);
  });

  test('the new keys are read with their values', () => {
    expect(
      checkConfigObject({ backendTls: false, maxReplicaLag: 12, mysqlVariables: { wait_timeout: 60000 }, checkType: 'super_read_only' }, at),
    ).toEqual({ backendTls: false, maxReplicaLag: 12, mysqlVariables: { wait_timeout: 60000 }, checkType: 'super_read_only' });
  });

  test.each([
    [{ backendTls: 'yes' }, 'backendTls: must be true or false, got "yes"'],
    [{ maxReplicaLag: 1.5 }, 'maxReplicaLag: must be a whole number of seconds from 1 to 600, got 1.5'],
    [{ checkType: 'read_write' }, "checkType: 'read_write' is not one of read_only, innodb_read_only, super_read_only"],
    [{ queryRules: {} }, 'queryRules: must be an array of rules'],
    [{ mysqlVariables: [] }, 'mysqlVariables: must be an object'],
    [[], 'expected a JSON object'],
    [{ borrowTimeout: 0 }, 'borrowTimeout: must be a whole number of seconds from 1 to 3600, got 0'],
    [{ borrowTimeout: 2.5 }, 'borrowTimeout: must be a whole number of seconds from 1 to 3600, got 2.5'],
    [{ idleClientTimeout: 1800 }, 'idleClientTimeout: must be a whole number of seconds from 1 to 340, got 1800: the load balancer drops a TCP flow idle for 350 s without telling either end'],
    [{ idleClientTimeout: '60' }, "idleClientTimeout: must be a whole number of seconds from 1 to 340, got '60'"],
    [{ initQuery: 'SET time_zone="+00:00"' }, "initQuery: must not contain a double quote, a line break, '{{secret:' or '{{param:'"],
    [{ initQuery: '' }, 'initQuery: is empty: leave it out for no init query'],
    [{ initQuery: 5 }, 'initQuery: must be SQL text, got 5'],
    [{ borrowTimeout: 30, mysqlVariables: { connect_timeout_server_max: 5000 } }, 'mysqlVariables.connect_timeout_server_max: set by borrowTimeout as well; keep borrowTimeout and remove it from mysqlVariables'],
  ])('%j is refused: %s', (data, message) => {
    expect(() => checkConfigObject(data, at)).toThrow(message);
  });

  // The CLI's own copy let these through; the construct refused them. Now both apply src/config/rules.ts.
  test.each([
    [{ mysqlVariables: { interfaces: '0.0.0.0:3306' } }, 'mysqlVariables.interfaces: set by the construct (the load balancer forwards to port 6033)'],
    [{ mysqlVariables: { have_ssl: true } }, 'mysqlVariables.have_ssl: set by the construct (set clientTls instead)'],
    [{ mysqlVariables: { init_connect: 'SET a="b"' } }, "mysqlVariables.init_connect: must not contain a double quote, a line break, '{{secret:' or '{{param:'"],
    [{ mysqlVariables: { 'mysql-wait_timeout': 1 } }, "mysqlVariables: 'mysql-wait_timeout' must be a variable name in lower case without the mysql- prefix"],
    [{ mysqlVariables: { wait_timeout: 2 ** 31 } }, 'mysqlVariables.wait_timeout: must be a whole number from 0 to 1728000000'],
    [{ mysqlVariables: { wait_timout: 1000 } }, 'mysqlVariables.wait_timout: not a variable of ProxySQL 3.0 (it would log "Impossible to set not existing variable" and ignore it); did you mean wait_timeout?'],
    [{ mysqlVariables: { not_a_var: 1 } }, 'mysqlVariables.not_a_var: not a variable of ProxySQL 3.0'],
    [{ mysqlVariables: { multiplexing: 'yes' } }, "mysqlVariables.multiplexing: must be true or false (ProxySQL would log \"Impossible to set variable\" and keep its default), got 'yes'"],
    [{ maxBackendConnectionsPerServer: 50_000 }, 'maxBackendConnectionsPerServer: must be a whole number from 1 to 10000, got 50000'],
  ])('stricter, as the construct: %j is refused', (data, message) => {
    expect(() => checkConfigObject(data, at)).toThrow(`${at}: ${message}`);
  });
});
