// A deployment whose configuration refuses logins rolls back: the circuit breaker (tasks failing the health
// check) and a deployment alarm on ProxySQL's "Access denied" log lines (issue: safe when things go wrong).
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { DEPLOYMENT_FAILURE_LOG_TERM } from '../src/config/deployment-alarm';
import { ProxySqlBackend } from '../src/proxysql-backend';
import { ProxySqlService } from '../src/proxysql-service';
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

  test("the alarm counts ProxySQL's Access denied lines in the task log group, one in a minute is enough", () => {
    const filters = template.findResources('AWS::Logs::MetricFilter');
    const [filter] = Object.values(filters).filter((f) => JSON.stringify(f.Properties.LogGroupName) === JSON.stringify({ Ref: id(proxy.logGroup as never) }));
    expect(filter.Properties.FilterPattern).toBe(`"${DEPLOYMENT_FAILURE_LOG_TERM}"`);
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
