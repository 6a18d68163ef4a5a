// The ProxySQL log group takes a customer managed key and a retention (issue 18, item 6): the key is granted to
// CloudWatch Logs as its user guide requires, or synth says why it cannot be.
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, test } from 'vitest';
import { ProxySqlBackend } from '../src/proxysql-backend';
import { ProxySqlService } from '../src/proxysql-service';
import { ProxySqlServiceProps } from '../src/proxysql-service-props';
import { givenAuroraCluster, givenStack } from './support/stack';

function proxyWith(props: Partial<ProxySqlServiceProps>, stackAndVpc = givenStack()) {
  const { stack, vpc } = stackAndVpc;
  const cluster = givenAuroraCluster(stack, vpc);
  const proxy = new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), ...props });
  const template = Template.fromStack(stack);
  const logGroupId = stack.getLogicalId(proxy.logGroup.node.defaultChild as never);
  return { stack, proxy, template, logGroupId, logGroup: template.toJSON().Resources[logGroupId] };
}

const LOGS_KEY_STATEMENT = {
  Sid: 'AllowCloudWatchLogsOfThisAccountAndRegion',
  Effect: 'Allow',
  Principal: { Service: 'logs.us-east-1.amazonaws.com' },
  Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
  Resource: '*',
  Condition: {
    ArnLike: { 'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:us-east-1:111111111111:log-group:*']] } },
  },
};

describe('the ProxySQL log group', () => {
  test('by default: a month, kept when the stack goes, encrypted by CloudWatch Logs (no key of ours)', () => {
    const { logGroup } = proxyWith({});
    expect(logGroup.Properties.RetentionInDays).toBe(30);
    expect(logGroup.Properties).not.toHaveProperty('KmsKeyId');
    expect(logGroup.DeletionPolicy).toBe('Retain');
  });

  test('logRetention sets the retention', () => {
    expect(proxyWith({ logRetention: logs.RetentionDays.THREE_MONTHS }).logGroup.Properties.RetentionInDays).toBe(90);
  });

  test("logEncryptionKey: the group is encrypted with it, and the key's policy lets CloudWatch Logs of this account and region use it", () => {
    const given = givenStack();
    const key = new kms.Key(given.stack, 'LogKey');
    const { stack, template, logGroup, logGroupId } = proxyWith({ logEncryptionKey: key }, given);
    const keyId = stack.getLogicalId(key.node.defaultChild as never);
    expect(logGroup.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    template.hasResourceProperties('AWS::KMS::Key', { KeyPolicy: { Statement: Match.arrayWith([LOGS_KEY_STATEMENT]) } });
    // the deployment alarm's filter still reads the group
    template.hasResourceProperties('AWS::Logs::MetricFilter', { LogGroupName: { Ref: logGroupId } });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('serverless-proxysql:logKeyPolicy'))).toHaveLength(0);
  });

  test('in a stack without an account and region, the statement names them as CloudFormation resolves them', () => {
    const app = new App();
    const stack = new Stack(app, 'Agnostic');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const key = new kms.Key(stack, 'LogKey');
    const { template } = proxyWith({ logEncryptionKey: key }, { app, stack, vpc });
    const [policy] = Object.values(template.findResources('AWS::KMS::Key')).map((k) => k.Properties.KeyPolicy.Statement);
    const statement = policy.find((s: { Sid?: string }) => s.Sid === 'AllowCloudWatchLogsOfThisAccountAndRegion');
    expect(JSON.stringify(statement.Principal)).toContain('AWS::Region');
    expect(JSON.stringify(statement.Condition)).toMatch(/AWS::Partition.*AWS::Region.*AWS::AccountId/);
  });

  test('an imported key cannot be given the statement: synth warns, naming the prop', () => {
    const arn = 'arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555';
    const given = givenStack();
    const key = kms.Key.fromKeyArn(given.stack, 'Imported', arn);
    const { stack, proxy, logGroup } = proxyWith({ logEncryptionKey: key }, given);
    expect(logGroup.Properties.KmsKeyId).toBe(arn);
    const warnings = Annotations.fromStack(stack).findWarning(`/${proxy.node.path}`, Match.stringLikeRegexp('serverless-proxysql:logKeyPolicy'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toContain('ProxySqlServiceProps.logEncryptionKey');
  });
});
