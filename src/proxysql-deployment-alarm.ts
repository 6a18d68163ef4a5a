import { Duration, Names } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEPLOYMENT_FAILURE_LINES_PER_MINUTE, DEPLOYMENT_FAILURE_LOG_TERM } from './config/deployment-alarm';
import { METRICS_NAMESPACE } from './config/metrics';

/**
 * A new configuration whose users cannot log in must not replace a working one. The health check makes such a
 * task unhealthy (the circuit breaker then rolls back); this alarm, on ProxySQL's own "Access denied" lines in the
 * task log, rolls back as soon as one appears during the deployment, also when the refusal is the monitor's or a
 * client's. It counts lines of this log group only: no dependency on the service, so none in a cycle.
 */
export function rollBackOnAccessDenied(scope: Construct, logGroup: logs.ILogGroup, service: ecs.FargateService): cloudwatch.Alarm {
  const filter = logGroup.addMetricFilter('AccessDenied', {
    filterPattern: logs.FilterPattern.literal(`"${DEPLOYMENT_FAILURE_LOG_TERM}"`),
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
      'ProxySQL logged "Access denied": a login through or by ProxySQL was refused (a user or password the deployed configuration gets wrong). During a deployment ECS rolls it back (serverless-proxysql, docs/operations.md#deployment-safety).',
  });
  service.enableDeploymentAlarms([alarm.alarmName], { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM });
  return alarm;
}
