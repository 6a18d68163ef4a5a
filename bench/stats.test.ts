import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { table } from './report';
import { Counter, errorKey, isConnectionLoss, isReadOnlyError, percentile, rate, Samples, summarize } from './stats';
import { jitter, pickOp } from './workload';

describe('percentile (nearest rank)', () => {
  const oneToHundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);

  it('gives the textbook values on 1..100', () => {
    expect(percentile(oneToHundred, 50)).toBe(50);
    expect(percentile(oneToHundred, 95)).toBe(95);
    expect(percentile(oneToHundred, 99)).toBe(99);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(percentile(oneToHundred, 0)).toBe(1);
  });

  it('rounds the rank up on small data', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 51)).toBe(3);
    expect(percentile([10, 20, 30], 99)).toBe(30);
    expect(percentile([7], 50)).toBe(7);
  });

  it('is NaN without data and rejects percentiles outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(/outside 0..100/);
    expect(() => percentile([1], Number.NaN)).toThrow(/outside 0..100/);
  });

  it('always returns a sample with at least p% of the data at or below it', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 100 }), (data, p) => {
        const sorted = Float64Array.from(data).sort();
        const v = percentile(sorted, p);
        expect(data).toContain(v);
        expect(sorted.filter((x) => x <= v).length / sorted.length).toBeGreaterThanOrEqual(p / 100);
        // and it is the smallest such sample
        const below = sorted.filter((x) => x < v).length;
        expect(below / sorted.length).toBeLessThan(p / 100);
      }),
    );
  });
});

describe('summarize', () => {
  it('merges several series and sorts numerically (not as strings)', () => {
    const s = summarize([100, 9, 2], Float64Array.from([30, 1]));
    expect(s).toEqual({ count: 5, min: 1, mean: 142 / 5, p50: 9, p95: 100, p99: 100, max: 100 });
  });

  it('reports NaN figures and count 0 for no samples', () => {
    const s = summarize(new Float64Array(0));
    expect(s.count).toBe(0);
    expect(s.p50).toBeNaN();
    expect(s.max).toBeNaN();
  });

  it('gives exact percentiles over a million shuffled samples', () => {
    const samples = new Samples(1);
    const n = 1_000_000;
    // A fixed permutation of 1..n (multiplying by a number coprime with n), so the input is unsorted.
    for (let i = 0; i < n; i++) samples.add(((i * 7919) % n) + 1);
    expect(samples.count).toBe(n);
    const s = summarize(samples.values());
    expect([s.min, s.p50, s.p95, s.p99, s.max]).toEqual([1, 500_000, 950_000, 990_000, n]);
    expect(s.mean).toBeCloseTo((n + 1) / 2, 6);
  });
});

describe('Samples', () => {
  it('grows past its initial capacity without losing samples', () => {
    const s = new Samples(2);
    for (let i = 0; i < 10; i++) s.add(i);
    expect(Array.from(s.values())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('Counter', () => {
  it('counts and lists largest first, ties by name', () => {
    const c = new Counter();
    for (const k of ['b', 'a', 'c', 'c', 'b', 'c']) c.add(k);
    c.add('d', 2);
    expect(c.total).toBe(8);
    expect(Object.entries(c.toObject())).toEqual([
      ['c', 3],
      ['b', 2],
      ['d', 2],
      ['a', 1],
    ]);
  });
});

describe('error classification', () => {
  it('names server errors by code and number, driver/network errors by code, never by message', () => {
    expect(errorKey({ code: 'ER_OPTION_PREVENTS_STATEMENT', errno: 1290, sqlState: 'HY000', message: "user 'x'" })).toBe(
      'ER_OPTION_PREVENTS_STATEMENT 1290',
    );
    expect(errorKey({ code: 'UNKNOWN_CODE_PLEASE_REPORT', errno: 1927, sqlState: '70100' })).toBe('MySQL error 1927');
    expect(errorKey(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', errno: -111 }))).toBe(
      'ECONNREFUSED',
    );
    expect(errorKey(Object.assign(new Error('x'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }))).toBe('PROTOCOL_CONNECTION_LOST');
    expect(errorKey(new TypeError('secret-looking message'))).toBe('TypeError');
    expect(errorKey('a string')).toBe('unknown error');
  });

  it('tells read-only refusals and lost connections apart from ordinary errors', () => {
    expect(isReadOnlyError({ errno: 1290 })).toBe(true);
    expect(isReadOnlyError({ errno: 1062 })).toBe(false);
    expect(isConnectionLoss({ code: 'PROTOCOL_CONNECTION_LOST' })).toBe(true);
    expect(isConnectionLoss({ errno: 1927, sqlState: '70100' })).toBe(true);
    expect(isConnectionLoss({ fatal: true, code: 'ANY' })).toBe(true);
    expect(isConnectionLoss({ code: 'ER_DUP_ENTRY', errno: 1062, sqlState: '23000' })).toBe(false);
  });
});

describe('workload helpers', () => {
  it('picks operations by cumulative percentage', () => {
    const mix = { read: 80, write: 15, tx: 5 };
    expect(pickOp(mix, 0)).toBe('read');
    expect(pickOp(mix, 79.99)).toBe('read');
    expect(pickOp(mix, 80)).toBe('write');
    expect(pickOp(mix, 94.99)).toBe('write');
    expect(pickOp(mix, 95)).toBe('tx');
    expect(pickOp({ read: 0, write: 100, tx: 0 }, 0)).toBe('write');
  });

  it('jitters think time within ±50%', () => {
    expect(jitter(200, 0)).toBe(100);
    expect(jitter(200, 0.5)).toBe(200);
    expect(jitter(200, 0.999)).toBeCloseTo(299.8);
  });

  it('computes rates and lays out tables', () => {
    expect(rate(500, 2)).toBe(250);
    expect(rate(5, 0)).toBe(0);
    expect(table([['op', 'n'], ['read', '12345']])).toBe('op        n\nread  12345');
  });
});
