import { Duration, Names } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEPLOYMENT_FAILURE_FILTER_PATTERN, DEPLOYMENT_FAILURE_LINES_PER_MINUTE } from './config/deployment-alarm';
import { METRICS_NAMESPACE } from './config/metrics';

/**
 * A new configuration whose users cannot log in must not replace a working one. The health check makes such a
 * task unhealthy (the circuit breaker then rolls back); this alarm, on ProxySQL's own lines saying the database
 * refused one of its backend connections or its monitor user (src/config/deployment-alarm.ts), rolls back as soon
 * as one appears during the deployment. A client's failed login or a statement's error text does not count. It
 * counts lines of this log group only: no dependency on the service, so none in a cycle.
 */
export function rollBackOnAccessDenied(scope: Construct, logGroup: logs.ILogGroup, service: ecs.FargateService): cloudwatch.Alarm {
  const filter = logGroup.addMetricFilter('AccessDenied', {
    filterPattern: logs.FilterPattern.literal(DEPLOYMENT_FAILURE_FILTER_PATTERN),
    metricNamespace: `${METRICS_NAMESPACE}/Logs`,
    // One metric per service: a metric filter's dimensions can only come from the log line itself.
    metricName: `AccessDenied-${Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' })}`,
    metricValue: '1',
    defaultValue: 0,
  });
  const alarm = new cloudwatch.Alarm(scope, 'DeploymentAccessDenied', {
    metric: filter.metric({ statistic: 'Sum', period: Duration.minutes(1) }),
    threshold: DEPLOYMENT_FAILURE_LINES_PER_MINUTE,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription:
      'The database refused a login of ProxySQL itself (a backend connection of an application user, or the monitor user): the deployed configuration has a wrong password, a dropped user or missing grants. During a deployment ECS rolls it back (serverless-proxysql, docs/operations.md#deployment-safety).',
  });
  service.enableDeploymentAlarms([alarm.alarmName], { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM });
  return alarm;
}
