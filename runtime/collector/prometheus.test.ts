import { describe, expect, test } from 'vitest';
import { parsePrometheusText } from './prometheus';
import { underLoad } from './test-support';

describe('parsePrometheusText on a real ProxySQL 2.7.1 /metrics page', () => {
  const samples = parsePrometheusText(underLoad());

  test('reads every sample line and skips the HELP/TYPE comments', () => {
    const sampleLines = underLoad()
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(samples).toHaveLength(sampleLines.length);
    expect(samples.length).toBeGreaterThan(200);
  });

  test('reads plain samples, labelled samples and the values exactly as printed', () => {
    expect(samples).toContainEqual({ name: 'proxysql_client_connections_connected', labels: {}, value: 300 });
    expect(samples).toContainEqual({
      name: 'proxysql_connpool_conns',
      labels: { endpoint: '127.0.0.1:24306', hostgroup: '10', status: 'free' },
      value: 18,
    });
    expect(samples).toContainEqual({ name: 'proxysql_mysql_monitor_read_only_interval_seconds', labels: {}, value: 0.5 });
    const version = samples.find((s) => s.name === 'proxysql_version_info');
    expect(version?.labels).toEqual({ version: '2.7.1-0-g2726c27', version_comment: 'ProxySQL version 2.7.1-0-g2726c27, codename Truls' });
  });

  test("reads ProxySQL's `Nan` as NaN", () => {
    const quantile = samples.find((s) => s.name === 'exposer_request_latencies' && s.labels.quantile === '0.5');
    expect(quantile?.value).toBeNaN();
  });
});

describe('parsePrometheusText on the format’s other forms', () => {
  test('escapes in label values, a timestamp, infinities', () => {
    const text = 'a{path="C:\\\\x",msg="say \\"hi\\"\\n"} 1 1700000000000\nb +Inf\nc -Inf\n';
    expect(parsePrometheusText(text)).toEqual([
      { name: 'a', labels: { path: 'C:\\x', msg: 'say "hi"\n' }, value: 1 },
      { name: 'b', labels: {}, value: Infinity },
      { name: 'c', labels: {}, value: -Infinity },
    ]);
  });

  test('a malformed line is an error naming its number (a truncated page is not data)', () => {
    expect(() => parsePrometheusText('ok 1\nbroken{status="used" 3\n')).toThrow(/line 2: .*broken/);
    expect(() => parsePrometheusText('x notanumber')).toThrow(/line 1: 'notanumber' is not a number/);
    expect(() => parsePrometheusText('x{a="1"}')).toThrow(/line 1: expected a value/);
  });
});
