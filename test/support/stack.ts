import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import { describeIntrinsic } from '../../app/describe-intrinsic';
import { CONFIG_TEMPLATE_ENV } from '../../src/constants';
import { parseLibconfig } from './libconfig';
import { Template } from 'aws-cdk-lib/assertions';

/** A fresh stack with a 2-AZ VPC: the GIVEN of most construct tests. */
export function givenStack(): { app: App; stack: Stack; vpc: ec2.Vpc } {
  const app = new App();
  const stack = new Stack(app, 'TestStack', { env: { account: '111111111111', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  return { app, stack, vpc };
}

/** A new Aurora MySQL 3 cluster with a writer and one reader, generated credentials. */
export function givenAuroraCluster(stack: Stack, vpc: ec2.IVpc): rds.DatabaseCluster {
  return new rds.DatabaseCluster(stack, 'Database', {
    engine: rds.DatabaseClusterEngine.auroraMysql({ version: rds.AuroraMysqlEngineVersion.VER_3_10_3 }),
    credentials: rds.Credentials.fromGeneratedSecret('admin'),
    writer: rds.ClusterInstance.serverlessV2('writer'),
    readers: [rds.ClusterInstance.serverlessV2('reader', { scaleWithWriter: true })],
    vpc,
  });
}

/** The proxysql.cnf template a task definition carries, with CloudFormation values shown as ${…}, parsed. */
export function renderedConfig(template: Template): Record<string, unknown> {
  const taskDefinitions = template.findResources('AWS::ECS::TaskDefinition');
  const containers = Object.values(taskDefinitions).flatMap(
    (td) => (td as { Properties: { ContainerDefinitions: Array<{ Environment?: Array<{ Name: string; Value: unknown }> }> } }).Properties.ContainerDefinitions,
  );
  const env = containers.flatMap((c) => c.Environment ?? []).find((e) => e.Name === CONFIG_TEMPLATE_ENV);
  if (!env) throw new Error(`no ${CONFIG_TEMPLATE_ENV} in any task definition`);
  return parseLibconfig(describeIntrinsic(env.Value));
}

/** A Lambda function in the VPC: the client a test grants access to. */
export function givenClientFunction(stack: Stack, vpc: ec2.IVpc, id = 'Client'): lambda.Function {
  return new lambda.Function(stack, id, {
    vpc,
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
  });
}
