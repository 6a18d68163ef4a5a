import fc from 'fast-check';
import { describe, expect, it, test } from 'vitest';
import { backoffDelayMs, classifyDbError, DEFAULT_RETRY_POLICY, mayRetry, validateRetryPolicy } from './retry';

const err = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.message ?? 'x')), fields);

describe('classifyDbError', () => {
  test.each([
    ['read-only server (1290)', err({ errno: 1290, code: 'ER_OPTION_PREVENTS_STATEMENT' })],
    ['read-only mode (1836)', err({ errno: 1836 })],
    ['ProxySQL max connect timeout (9001)', err({ errno: 9001 })],
    ['too many connections (1040)', err({ errno: 1040 })],
    ['mysql2 closed state', err({ message: "Can't add new command when connection is in closed state", fatal: true })],
  ])('%s after sending: not executed, retried even when not idempotent, reconnect, 503', (_l, e) => {
    const c = classifyDbError(e, 'statement');
    expect(c).toMatchObject({ kind: 'not-executed', reconnect: true, unavailable: true });
    expect(mayRetry(c, false)).toBe(true);
  });

  test.each([
    ['PROTOCOL_CONNECTION_LOST', err({ code: 'PROTOCOL_CONNECTION_LOST', fatal: true })],
    ['ECONNRESET', err({ code: 'ECONNRESET' })],
    ['EPIPE', err({ code: 'EPIPE' })],
    ['ETIMEDOUT', err({ code: 'ETIMEDOUT' })],
    ['query timeout', err({ code: 'PROTOCOL_SEQUENCE_TIMEOUT' })],
    ['killed (1927)', err({ errno: 1927, code: 'ER_CONNECTION_KILLED' })],
    ['lost (2013)', err({ errno: 2013 })],
    ['gone away (2006)', err({ errno: 2006 })],
    ['server shutdown (1053)', err({ errno: 1053 })],
    ['any other fatal error', err({ code: 'SOMETHING_NEW', fatal: true })],
  ])('%s after sending: outcome unknown, retried only when idempotent', (_l, e) => {
    const c = classifyDbError(e, 'statement');
    expect(c).toMatchObject({ kind: 'outcome-unknown', reconnect: true, unavailable: true });
    expect(mayRetry(c, true)).toBe(true);
    expect(mayRetry(c, false)).toBe(false);
  });

  it('treats a deadlock as rolled back: retried on the same session', () => {
    const c = classifyDbError(err({ errno: 1213 }), 'statement');
    expect(c).toMatchObject({ kind: 'not-executed', reconnect: false });
  });

  test.each([
    ['duplicate key (1062)', err({ errno: 1062 })],
    ['syntax (1064)', err({ errno: 1064 })],
    ['no such table (1146)', err({ errno: 1146 })],
    ['not an error object', 'boom'],
  ])('%s: permanent, never retried', (_l, e) => {
    const c = classifyDbError(e, 'statement');
    expect(c.kind).toBe('permanent');
    expect(mayRetry(c, true)).toBe(false);
  });

  it('treats every connect failure as not executed, refreshes credentials on 1045, and gives up on an unknown database', () => {
    expect(classifyDbError(err({ code: 'ECONNREFUSED' }), 'connect')).toMatchObject({ kind: 'not-executed', unavailable: true });
    expect(classifyDbError(err({ errno: 1045 }), 'connect')).toMatchObject({ kind: 'not-executed', refreshCredentials: true });
    expect(classifyDbError(err({ errno: 1049 }), 'connect')).toMatchObject({ kind: 'permanent' });
  });
});

describe('backoffDelayMs', () => {
  it('stays within [step/2, step] with step = min(cap, base * 2^(attempt-1))', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0, max: 0.9999999, noNaN: true }), (attempt, r) => {
        const step = Math.min(DEFAULT_RETRY_POLICY.maxDelayMs, DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** (attempt - 1));
        const d = backoffDelayMs(attempt, DEFAULT_RETRY_POLICY, () => r);
        return d >= Math.floor(step / 2) && d <= step;
      }),
    );
  });

  it('grows exponentially and is jittered', () => {
    expect([1, 2, 3].map((a) => backoffDelayMs(a, DEFAULT_RETRY_POLICY, () => 1))).toEqual([50, 100, 200]);
    expect(backoffDelayMs(10, DEFAULT_RETRY_POLICY, () => 1)).toBe(1000);
    expect(backoffDelayMs(1, DEFAULT_RETRY_POLICY, () => 0)).toBe(25);
  });

  test.each([
    [{ attempts: 0, baseDelayMs: 50, maxDelayMs: 100 }, /retry.attempts/],
    [{ attempts: 1.5, baseDelayMs: 50, maxDelayMs: 100 }, /retry.attempts/],
    [{ attempts: 3, baseDelayMs: -1, maxDelayMs: 100 }, /retry.baseDelayMs/],
    [{ attempts: 3, baseDelayMs: 100, maxDelayMs: 50 }, /retry.maxDelayMs/],
  ])('rejects the policy %o', (policy, message) => {
    expect(() => validateRetryPolicy(policy)).toThrow(message);
  });
});
