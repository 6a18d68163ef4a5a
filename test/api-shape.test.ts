// What the construct exposes, the way aws-ecs-patterns and aws-rds expose it (issue: the package's API shape).
import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, test } from 'vitest';
import { CLIENT_PORT, PROXYSQL_MYSQL_PORT } from '../src/constants';
import { ProxySqlBackend } from '../src/proxysql-backend';
import { ProxySqlService, ProxySqlServiceProps } from '../src/proxysql-service';
import { givenAuroraCluster, givenClientFunction, givenStack } from './support/stack';

function auroraProxy() {
  const { stack, vpc } = givenStack();
  const cluster = givenAuroraCluster(stack, vpc);
  const proxy = new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster) });
  return { stack, vpc, proxy };
}

const resolve = (stack: Stack, value: unknown): unknown => stack.resolve(value);

describe('ProxySqlService exposes what monitoring and extension need', () => {
  const { stack, proxy } = auroraProxy();
  const template = Template.fromStack(stack);

  test('the listener is the NLB listener on the client port', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: CLIENT_PORT,
      LoadBalancerArn: resolve(stack, proxy.loadBalancer.loadBalancerArn),
    });
    expect(resolve(stack, proxy.listener.listenerArn)).toEqual({ Ref: stack.getLogicalId(proxy.listener.node.defaultChild as never) });
  });

  test('the target group is the tasks on 6033, and its metrics resolve to it', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: PROXYSQL_MYSQL_PORT, TargetType: 'ip' });
    const metric = proxy.targetGroup.metrics.healthyHostCount();
    expect(metric.metricName).toBe('HealthyHostCount');
    expect(resolve(stack, metric.dimensions?.TargetGroup)).toEqual(resolve(stack, proxy.targetGroup.targetGroupFullName));
  });

  test('the containers and their log group are the ones in the task definition', () => {
    expect(proxy.container.containerName).toBe('proxysql');
    expect(proxy.container.taskDefinition).toBe(proxy.taskDefinition);
    expect(proxy.agentContainer.containerName).toBe('agent');
    expect(proxy.agentContainer.taskDefinition).toBe(proxy.taskDefinition);
    const logs = (name: string) =>
      Match.objectLike({ Name: name, LogConfiguration: Match.objectLike({ Options: Match.objectLike({ 'awslogs-group': resolve(stack, proxy.logGroup.logGroupName) }) }) });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [logs('proxysql'), logs('agent')] });
  });

  test('scaling is the service scalable target, open to more policies', () => {
    const fresh = auroraProxy();
    fresh.proxy.scaling.scaleOnMemoryUtilization('Memory', { targetUtilizationPercent: 70 });
    const after = Template.fromStack(fresh.stack);
    after.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1);
    after.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageMemoryUtilization' },
        TargetValue: 70,
      }),
    });
  });
});

describe('grantConnect(grantee, username?) returns an iam.Grant', () => {
  test('a grantee with security groups also gets ingress on the client port', () => {
    const { stack, vpc, proxy } = auroraProxy();
    const fn = givenClientFunction(stack, vpc);
    const grant = proxy.grantConnect(fn);
    expect(grant).toBeInstanceOf(iam.Grant);
    expect(grant.success).toBe(true);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: CLIENT_PORT,
      ToPort: CLIENT_PORT,
      GroupId: resolve(stack, proxy.connections.securityGroups[0].securityGroupId),
      SourceSecurityGroupId: resolve(stack, fn.connections.securityGroups[0].securityGroupId),
    });
  });

  test('a grantee without security groups (a role) gets the secret and no network rule', () => {
    const { stack, proxy } = auroraProxy();
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    const grant = proxy.grantConnect(role);
    expect(grant.principalStatements.length + (grant.principalStatement ? 1 : 0)).toBeGreaterThan(0);
    const template = Template.fromStack(stack);
    const lbSg = resolve(stack, proxy.connections.securityGroups[0].securityGroupId);
    const clientRules = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) => JSON.stringify(r.Properties.GroupId) === JSON.stringify(lbSg),
    );
    expect(clientRules).toEqual([]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as never) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['secretsmanager:GetSecretValue']),
            Resource: resolve(stack, proxy.userSecrets[0].secretArn),
          }),
        ]),
      },
    });
  });
});

describe('validation names the construct path and the prop', () => {
  test('a bad prop', () => {
    const { stack, vpc } = givenStack();
    const cluster = givenAuroraCluster(stack, vpc);
    expect(() => new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), cpu: 300 })).toThrow(
      /^TestStack\/Proxy: ProxySqlServiceProps\.cpu: 300 is not a Fargate CPU size/,
    );
  });

  test('with the prop as Python spells it: jsii gives Python users snake_case keywords', () => {
    const { stack, vpc } = givenStack();
    const cluster = givenAuroraCluster(stack, vpc);
    expect(() => new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), readYourWritesStatements: 99 })).toThrow(
      /^TestStack\/Proxy: ProxySqlServiceProps\.readYourWritesStatements: .*got 99 \(in Python: read_your_writes_statements\)$/,
    );
    // A one-word prop is spelt the same in both: nothing is added.
    expect(() => new ProxySqlService(stack, 'Cpu', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), cpu: 300 })).toThrow(/not a Fargate CPU size[^()]*$/);
  });

  test('an imported VPC without vpcCidrBlock and endpoints without databaseConnections', () => {
    const { stack } = givenStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Imported', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
    });
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'App', 'app');
    const build = (databaseConnections?: ec2.IConnectable) =>
      new ProxySqlService(stack, databaseConnections ? 'WithSg' : 'Proxy', {
        vpc,
        backend: ProxySqlBackend.endpoints({ writer: { hostname: 'db.internal' }, databaseConnections }),
        users: [{ username: 'app', secret }],
        bootstrap: false,
      });
    expect(() => build()).toThrow(
      /^TestStack\/Proxy: ProxySqlServiceProps\.backend: with no databaseConnections .* this imported VPC has none; give the database's security group .* or import the VPC with vpcCidrBlock/,
    );
    // Given the database's security group instead, it synthesizes.
    const dbSg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbSg', 'sg-0123456789abcdef0');
    expect(() => build(dbSg)).not.toThrow();
  });
});

describe('props given as CloudFormation tokens (e.g. a CfnParameter)', () => {
  function withParameters(build: (number: () => number, text: () => string) => Partial<ProxySqlServiceProps>) {
    const { stack, vpc } = givenStack();
    const cluster = givenAuroraCluster(stack, vpc);
    let n = 0;
    const number = () => new CfnParameter(stack, `N${n++}`, { type: 'Number' }).valueAsNumber;
    const text = () => new CfnParameter(stack, `S${n++}`, { type: 'String' }).valueAsString;
    const make = () => new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), ...build(number, text) });
    return { stack, make };
  }

  test('are left to deploy time where nothing is computed from them', () => {
    const { stack, make } = withParameters((number, text) => ({
      desiredCount: number(),
      autoScaling: { minCapacity: 2, maxCapacity: 6, targetCpuUtilizationPercent: number() },
      mysqlVariables: { default_charset: text() },
      users: [{ username: text(), schema: text() }],
    }));
    make();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: { Ref: 'N0' } });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: { Ref: 'N1' } }),
    });
    // The user name parameter reaches the rendered config and the bootstrap's input.
    const config = JSON.stringify(template.findResources('AWS::ECS::TaskDefinition'));
    expect(config).toContain('"Ref":"S2"');
    expect(config).toContain('"Ref":"S3"');
    expect(JSON.stringify(template.findResources('Custom::ProxySqlDatabaseBootstrap'))).toContain('"Ref":"S3"');
  });

  test.each<[string, (number: () => number) => Partial<ProxySqlServiceProps>, RegExp]>([
    ['cpu', (number) => ({ cpu: number(), memoryLimitMiB: 2048 }), /ProxySqlServiceProps\.cpu: must be known at synth, not a CloudFormation token .*thread count/],
    ['maxBackendConnectionsPerServer', (number) => ({ maxBackendConnectionsPerServer: number() }), /ProxySqlServiceProps\.maxBackendConnectionsPerServer: must be known at synth/],
    ['maxClientConnections', (number) => ({ maxClientConnections: number() }), /ProxySqlServiceProps\.maxClientConnections: must be known at synth.*proxysql\.cnf/],
    ['a numeric mysqlVariables value', (number) => ({ mysqlVariables: { wait_timeout: number() } }), /ProxySqlServiceProps\.mysqlVariables\.wait_timeout: must be known at synth.*as a string/],
    ['drainTimeout', (number) => ({ drainTimeout: Duration.seconds(number()) }), /ProxySqlServiceProps\.drainTimeout: must be known at synth.*stop timeout/],
    ['desiredCount without maxCapacity', (number) => ({ desiredCount: number() }), /ProxySqlServiceProps\.autoScaling\.maxCapacity: must be known at synth.*give it, then desiredCount may be a token/],
  ])('%s: an error that says it must be known at synth, and why', (_name, props, message) => {
    const { make } = withParameters((number) => props(number));
    expect(make).toThrow(message);
  });
});
