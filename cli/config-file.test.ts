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

  test('an unknown key is an error listing the keys', () => {
    expect(() => checkConfigObject({ backendTLS: true }, at)).toThrow(`${at}: unknown key 'backendTLS'; the keys are ${CONFIG_KEY_NAMES.join(', ')}`);
  });

  test('the new keys are read with their values', () => {
    expect(
      checkConfigObject({ backendTls: false, maxReplicaLag: 12, mysqlVariables: { wait_timeout: 60000 }, checkType: 'super_read_only' }, at),
    ).toEqual({ backendTls: false, maxReplicaLag: 12, mysqlVariables: { wait_timeout: 60000 }, checkType: 'super_read_only' });
  });

  test.each([
    [{ backendTls: 'yes' }, 'backendTls must be true or false, got "yes"'],
    [{ maxReplicaLag: 1.5 }, 'maxReplicaLag must be a whole number from 1 to 600, got 1.5'],
    [{ checkType: 'read_write' }, 'checkType must be one of read_only, innodb_read_only, super_read_only'],
    [{ queryRules: {} }, 'queryRules must be an array of rules'],
    [{ mysqlVariables: [] }, 'mysqlVariables must be an object'],
    [[], 'expected a JSON object'],
  ])('%j is refused: %s', (data, message) => {
    expect(() => checkConfigObject(data, at)).toThrow(message);
  });
});
