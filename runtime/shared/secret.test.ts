import { describe, expect, it } from 'vitest';
import { parseSecretJson } from './secret';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:demo-AbCdEf';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('did not throw');
}

describe('parseSecretJson (the bootstrap and demo handlers read secrets with it)', () => {
  it('reads an RDS-shaped secret, the username optional unless required', () => {
    expect(parseSecretJson(ARN, '{"username":"u","password":"p","engine":"mysql"}', true)).toEqual({ username: 'u', password: 'p' });
    expect(parseSecretJson(ARN, '{"password":"p"}')).toEqual({ username: undefined, password: 'p' });
  });

  it.each<[string | undefined, boolean, RegExp]>([
    [undefined, false, /has no SecretString/],
    ['not-json-s3cr3t', false, /is not JSON/],
    ['{"username":"u"}', false, /has no non-empty "password" string/],
    ['{"password":""}', false, /has no non-empty "password" string/],
    [JSON.stringify({ username: 'app', password: 42 }), true, /"password"/],
    [JSON.stringify({ username: '', password: 's3cr3t' }), true, /has no non-empty "username" string/],
    ['"s3cr3t"', true, /"username"/],
  ])('rejects %s with a message naming the ARN and the field, never the value', (value, requireUsername, message) => {
    const text = messageOf(() => parseSecretJson(ARN, value, requireUsername));
    expect(text).toMatch(message);
    expect(text).toContain(ARN);
    expect(text).not.toContain('s3cr3t');
  });
});
