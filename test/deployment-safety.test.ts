// A deployment whose configuration refuses logins rolls back: the circuit breaker (tasks failing the health
// check) and a deployment alarm on ProxySQL's lines saying the database refused its own logins (issue: safe when
// things go wrong); never on what a client can cause (issue 18).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { DEPLOYMENT_FAILURE_FILTER_PATTERN } from '../src/config/deployment-alarm';
import { ProxySqlBackend } from '../src/proxysql-backend';
import { ProxySqlService } from '../src/proxysql-service';
import { filterCount, regexFilterMatches, regexFilterProblem } from './support/cloudwatch-filter';
import { givenAuroraCluster, givenStack } from './support/stack';

describe('deployment safety', () => {
  const { stack, vpc } = givenStack();
  const cluster = givenAuroraCluster(stack, vpc);
  const proxy = new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster) });
  const template = Template.fromStack(stack);
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

  test('the service rolls back on its deployment alarm, as on the circuit breaker', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        Alarms: { AlarmNames: [{ Ref: id(proxy.deploymentAlarm) }], Enable: true, Rollback: true },
      }),
    });
  });

  test("the alarm counts ProxySQL's own refused logins in the task log group, one in a minute is enough", () => {
    const filters = template.findResources('AWS::Logs::MetricFilter');
    const [filter] = Object.values(filters).filter((f) => JSON.stringify(f.Properties.LogGroupName) === JSON.stringify({ Ref: id(proxy.logGroup as never) }));
    expect(filter.Properties.FilterPattern).toBe(DEPLOYMENT_FAILURE_FILTER_PATTERN);
    // a pattern CloudWatch Logs takes: a regular expression of the characters it allows
    expect(regexFilterProblem(filter.Properties.FilterPattern)).toBeUndefined();
    const transformation = filter.Properties.MetricTransformations[0];
    expect(transformation).toMatchObject({ MetricValue: '1', DefaultValue: 0 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: transformation.MetricName,
      Namespace: transformation.MetricNamespace,
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('the alarm does not depend on the service (the service depends on it: no cycle)', () => {
    const alarm = template.toJSON().Resources[id(proxy.deploymentAlarm)];
    expect(JSON.stringify(alarm)).not.toContain(id(proxy.service));
  });

  test('each service has its own metric: two proxies in one account do not share it', () => {
    const second = new ProxySqlService(stack, 'Second', { vpc, backend: ProxySqlBackend.auroraCluster(cluster) });
    const names = [proxy, second].map((p) => (p.node.findChild('LogGroup').node.findChild('AccessDenied').node.defaultChild as unknown as { metricTransformations: Array<{ metricName: string }> }).metricTransformations[0].metricName);
    expect(new Set(names).size).toBe(2);
  });
});

/**
 * The lines a real ProxySQL 2.7.1 wrote, step by step (test/proxysql/deployment-alarm.test.ts, UPDATE_LOG_FIXTURE=1),
 * counted as CloudWatch Logs counts them for the synthesized pattern.
 */
describe("the deployment alarm's pattern on real ProxySQL 2.7.1 log lines", () => {
  const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'proxysql-2.7.1', 'deployment-alarm-log-lines.json'), 'utf8')) as {
    steps: Record<string, string[]>;
  };
  const count = (step: string) => filterCount(DEPLOYMENT_FAILURE_FILTER_PATTERN, fixture.steps[step]);
  // What a deployment with a wrong configuration causes: the database refusing ProxySQL's own logins.
  const RAISE = ['backendLoginRefused', 'monitorLoginRefused'];
  // What a client, a statement or a failover causes.
  const STAY_AT_ZERO = ['start', 'clientWrongPassword', 'clientForgedUserName', 'queryErrorWithPhrase', 'duplicateKeyError', 'unparsableSetWithLineBreak', 'serverDown'];
  // The documented limit: a statement ProxySQL copies into its log verbatim, line break included (ProxySQL's own
  // parse_failure_logs_digest=false; the rendered configuration turns it on).
  const LIMIT = ['unparsableSetLoggedRaw'];

  test('every captured step is classified here', () => {
    expect(Object.keys(fixture.steps).sort()).toEqual([...RAISE, ...STAY_AT_ZERO, ...LIMIT].sort());
  });

  test.each(RAISE)('%s raises the metric', (step) => {
    expect(count(step)).toBeGreaterThanOrEqual(1);
  });

  test.each(STAY_AT_ZERO)('%s leaves it at 0', (step) => {
    expect(fixture.steps[step].length).toBeGreaterThan(0);
    expect(count(step)).toBe(0);
  });

  test("a client's wrong password and a statement's error hold the phrase the old filter counted", () => {
    for (const step of ['clientWrongPassword', 'clientForgedUserName', 'queryErrorWithPhrase']) {
      expect(fixture.steps[step].some((line) => line.includes('Access denied'))).toBe(true);
    }
  });

  test('a backend refusal counts only at the start of a line: the same text after a client line does not', () => {
    const [refusal] = fixture.steps.backendLoginRefused.filter((line) => regexFilterMatches(DEPLOYMENT_FAILURE_FILTER_PATTERN, line));
    expect(regexFilterMatches(DEPLOYMENT_FAILURE_FILTER_PATTERN, `x ${refusal}`)).toBe(false);
    // a server that is down is refused too, but not with Access denied
    expect(fixture.steps.serverDown.some((line) => line.includes('Failed to mysql_real_connect()'))).toBe(true);
  });

  test.each(LIMIT)('%s: a line the client wrote itself still counts (why parse_failure_logs_digest is on)', (step) => {
    expect(count(step)).toBe(1);
  });
});

describe('existing accounts are never adopted silently', () => {
  test('adoptExistingUsers reaches the bootstrap, with a warning; a reserved name is refused', () => {
    const { stack, vpc } = givenStack();
    const cluster = givenAuroraCluster(stack, vpc);
    const proxy = new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), adoptExistingUsers: ['app'] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::ProxySqlDatabaseBootstrap', { AdoptExistingUsers: '["app"]' });
    const warnings = Annotations.fromStack(stack).findWarning(`/${proxy.node.path}`, Match.stringLikeRegexp('serverless-proxysql:adoptExistingUsers'));
    expect(warnings).toHaveLength(1);
    const other = givenStack();
    const otherCluster = givenAuroraCluster(other.stack, other.vpc);
    expect(() => new ProxySqlService(other.stack, 'Proxy', { vpc: other.vpc, backend: ProxySqlBackend.auroraCluster(otherCluster), adoptExistingUsers: ['rdsadmin'] })).toThrow(
      /TestStack\/Proxy: ProxySqlServiceProps\.adoptExistingUsers\[0\]: .*rdsadmin/,
    );
  });

  test('by default the bootstrap is told to adopt nothing', () => {
    const { stack, vpc } = givenStack();
    const cluster = givenAuroraCluster(stack, vpc);
    new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster) });
    const [bootstrap] = Object.values(Template.fromStack(stack).findResources('Custom::ProxySqlDatabaseBootstrap'));
    expect(bootstrap.Properties).not.toHaveProperty('AdoptExistingUsers');
  });
});
