import { describe, expect, it, test } from 'vitest';
import { fromEnvironment } from './environment';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:demo-AbCdEf';
const full = { DB_HOST: 'proxy.internal', DB_PORT: '3306', DB_NAME: 'app', DB_SECRET_ARN: ARN };

describe('fromEnvironment', () => {
  it('reads the connection settings, defaulting the port to 3306', () => {
    const deps = fromEnvironment({ ...full, DB_PORT: undefined });
    expect(deps).toMatchObject({ host: 'proxy.internal', port: 3306, database: 'app' });
  });

  test.each([
    ['DB_HOST', { ...full, DB_HOST: '' }],
    ['DB_NAME', { ...full, DB_NAME: undefined }],
    ['DB_SECRET_ARN', { ...full, DB_SECRET_ARN: ' ' }],
    ['DB_PORT', { ...full, DB_PORT: '33o6' }],
    ['DB_PORT', { ...full, DB_PORT: '70000' }],
  ])('names %s when it is missing or wrong', (name, env) => {
    expect(() => fromEnvironment(env)).toThrow(new RegExp(`environment variable ${name}`));
  });
});
