import { Annotations, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** What the ProxySQL log group is made of (ProxySqlServiceProps.logEncryptionKey, logRetention). */
export interface ProxySqlLogGroupOptions {
  readonly encryptionKey?: kms.IKey;
  readonly retention?: logs.RetentionDays;
}

/** The retention when none is given: see ProxySqlServiceProps.logRetention. */
export const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

/**
 * The ProxySQL container's log group. It holds what docs/operations.md ("What ProxySQL writes to its log") lists:
 * the database's error messages, which can quote data values, client addresses and user names; never a password.
 * Kept when the stack is deleted (RETAIN): the log of an incident outlives the stack it happened in.
 *
 * With a customer managed key, CloudWatch Logs (the service principal of the stack's region) must be allowed to use
 * it: "Encrypt log data in CloudWatch Logs using AWS Key Management Service", Amazon CloudWatch Logs User Guide, whose
 * key policy statement this adds, with the encryption-context condition narrowed to the log groups of this account
 * and region (the group's own ARN would be a cycle: the group names the key, the key's policy would name the group).
 * A key this stack does not own (imported) cannot be given a statement: synth warns and the deploy fails when
 * CloudWatch Logs is not allowed to use it.
 */
export function createProxySqlLogGroup(scope: Construct, id: string, options: ProxySqlLogGroupOptions): logs.LogGroup {
  const key = options.encryptionKey;
  if (key) {
    const stack = Stack.of(scope);
    const statement = new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisAccountAndRegion',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` },
      },
    });
    const { statementAdded } = key.addToResourcePolicy(statement, true);
    if (!statementAdded) {
      Annotations.of(scope).addWarningV2(
        'serverless-proxysql:logKeyPolicy',
        `ProxySqlServiceProps.logEncryptionKey: this stack cannot change the policy of the key you gave (${key.keyArn}); it must allow the service principal logs.<region>.amazonaws.com to use it (kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe*), or the log group cannot be created.`,
      );
    }
  }
  // The group refers to the key's ARN, so the key (whose policy is part of it) is created first: CloudWatch Logs
  // checks that it may use the key when the group is created.
  return new logs.LogGroup(scope, id, {
    retention: options.retention ?? DEFAULT_LOG_RETENTION,
    encryptionKey: key,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
