import { X509Certificate } from 'node:crypto';
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, test } from 'vitest';
import { AGENT_IMAGE, PROXYSQL_IMAGE } from '../src/constants';
import { FIGURES_LINE_MARKER, FIGURES_QUERY } from '../src/config/figures';
import { ProxySqlBackend } from '../src/proxysql-backend';
import { ProxySqlService, ProxySqlServiceProps } from '../src/proxysql-service';
import { QueryDestination } from '../src/config/query-rules';
import { ReadConsistency } from '../src/config/session-state';
import { describeIntrinsic } from '../app/describe-intrinsic';
import { substituteSecrets } from '../src/config/secrets';
import { givenAuroraCluster, givenClientFunction, givenStack, renderedConfig } from './support/stack';
import { parseLibconfig } from './support/libconfig';

/** The ProxySQL container's environment, by name (values as CloudFormation has them: text or intrinsics). */
function containerEnvironment(template: Template): Record<string, unknown> {
  const [td] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as Array<{ Properties: { ContainerDefinitions: Array<{ Environment: Array<{ Name: string; Value: unknown }> }> } }>;
  return Object.fromEntries(td.Properties.ContainerDefinitions[0].Environment.map((e) => [e.Name, e.Value]));
}

type SgRule = { IpProtocol: string; FromPort?: number; ToPort?: number; CidrIp?: string; SourceSecurityGroupId?: unknown; DestinationSecurityGroupId?: unknown };

function auroraProxy(extra: Partial<ProxySqlServiceProps> = {}) {
  const { stack, vpc } = givenStack();
  const cluster = givenAuroraCluster(stack, vpc);
  const proxy = new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), ...extra });
  return { stack, vpc, cluster, proxy };
}

/** The opt-in to serve the cluster's master login: its secret listed as a user. */
function auroraProxyWithAdminUser() {
  const { stack, vpc } = givenStack();
  const cluster = givenAuroraCluster(stack, vpc);
  const proxy = new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), users: [{ secret: cluster.secret! }] });
  return { stack, vpc, cluster, proxy };
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

describe('ProxySqlService on a new Aurora cluster', () => {
  // GIVEN a VPC, a new Aurora MySQL cluster and the proxy with default props, and a Lambda client
  const { stack, vpc, proxy } = auroraProxy({ users: [{ username: 'app' }] });
  const client = givenClientFunction(stack, vpc);
  proxy.grantConnect(client);
  // WHEN the stack is synthesized
  const template = Template.fromStack(stack);
  const lbSg = proxy.connections.securityGroups[0];
  const taskSg = proxy.taskConnections.securityGroups[0];

  test('the load balancer is an internal NLB with cross-zone load balancing and a security group', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internal',
      SecurityGroups: [{ 'Fn::GetAtt': [logicalId(stack, lbSg), 'GroupId'] }],
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 3306, Protocol: 'TCP' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 6033,
      Protocol: 'TCP',
      TargetType: 'ip',
      HealthCheckProtocol: 'TCP',
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }]),
    });
  });

  test('the task runs the pinned official image on ARM64, right-sized', () => {
    expect(PROXYSQL_IMAGE).toBe('proxysql/proxysql:3.0.13');
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '512',
      Memory: '1024',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'proxysql', Image: 'proxysql/proxysql:3.0.13', EntryPoint: Match.arrayWith(['/bin/sh', '-c']) })]),
    });
  });

  test('secrets are injected by ECS from Secrets Manager and never appear as plain environment values', () => {
    const td = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0] as {
      Properties: { ContainerDefinitions: Array<{ Secrets: Array<{ Name: string; ValueFrom: unknown }>; Environment: Array<{ Name: string; Value: unknown }> }> };
    };
    const [container, agent] = td.Properties.ContainerDefinitions;
    expect(container.Secrets.map((s) => s.Name).sort()).toEqual(['PROXYSQL_ADMIN_PASSWORD', 'PROXYSQL_MONITOR_PASSWORD', 'PROXYSQL_STATS_PASSWORD', 'PROXYSQL_USER_PASSWORD_0']);
    // the agent logs in to the admin interface and, for the health check, as each user: those secrets, no other
    expect(agent.Secrets.map((s) => s.Name).sort()).toEqual(['PROXYSQL_ADMIN_PASSWORD', 'PROXYSQL_USER_PASSWORD_0']);
    // the read-only stats login has a secret of its own, not the admin's (admin-stats_credentials)
    const valueFrom = Object.fromEntries(container.Secrets.map((s) => [s.Name, JSON.stringify(s.ValueFrom)]));
    expect(valueFrom.PROXYSQL_STATS_PASSWORD).toContain(logicalId(stack, proxy.statsSecret as never));
    expect(valueFrom.PROXYSQL_ADMIN_PASSWORD).toContain(logicalId(stack, proxy.adminSecret as never));
    expect(container.Environment.find((e) => e.Name === 'PROXYSQL_STATS_PASSWORD_SOURCE')?.Value).toEqual({ Ref: logicalId(stack, proxy.statsSecret as never) });
    for (const c of [container, agent]) {
      for (const secret of c.Secrets) {
        // ValueFrom = <secret ARN>:password:: — a reference, resolved by ECS when the task starts
        expect(JSON.stringify(secret.ValueFrom)).toMatch(/:password::/);
      }
      const envNames = c.Environment.map((e) => e.Name);
      expect(envNames).not.toContain('PROXYSQL_ADMIN_PASSWORD');
      expect(envNames.filter((n) => /PASSWORD/.test(n) && !n.endsWith('_SOURCE'))).toEqual([]);
      expect(JSON.stringify(c.Environment)).not.toMatch(/admin:admin|monitor:monitor|"password"/i);
    }
  });

  test('generated secrets exclude the characters ProxySQL cannot take', () => {
    const secrets = template.findResources('AWS::SecretsManager::Secret', {
      Properties: { Description: Match.stringLikeRegexp('ProxySQL') },
    });
    expect(Object.keys(secrets)).toHaveLength(4);
    for (const secret of Object.values(secrets)) {
      const exclude = (secret as { Properties: { GenerateSecretString: { ExcludeCharacters: string } } }).Properties.GenerateSecretString.ExcludeCharacters;
      for (const c of ["'", '"', ':', ';', '\\', '*']) expect(exclude).toContain(c);
    }
  });

  test('security groups: client → NLB 3306 → task 6033 → database 3306, nothing else', () => {
    const groups = template.findResources('AWS::EC2::SecurityGroup');
    const ingress = template.findResources('AWS::EC2::SecurityGroupIngress');
    const egress = template.findResources('AWS::EC2::SecurityGroupEgress');
    const lbId = logicalId(stack, lbSg);
    const taskId = logicalId(stack, taskSg);
    // NLB SG: ingress only from the client's SG on 3306; egress only to the task SG on 6033
    const lbIngress = Object.values(ingress).map((r) => (r as { Properties: SgRule & { GroupId: unknown } }).Properties).filter((p) => JSON.stringify(p.GroupId).includes(`"${lbId}"`));
    expect(lbIngress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^ClientSecurityGroup/), 'GroupId'] } }),
    ]);
    const lbEgress = Object.values(egress).map((r) => (r as { Properties: SgRule & { GroupId: unknown } }).Properties).filter((p) => JSON.stringify(p.GroupId).includes(`"${lbId}"`));
    expect(lbEgress).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 6033, ToPort: 6033, DestinationSecurityGroupId: { 'Fn::GetAtt': [taskId, 'GroupId'] } })]);
    // task SG: ingress only from the NLB SG on 6033 (the metrics collector reads CloudWatch Logs, no port);
    // egress: database port to the DB SG, HTTPS
    const taskIngress = Object.values(ingress).map((r) => (r as { Properties: SgRule & { GroupId: unknown } }).Properties).filter((p) => JSON.stringify(p.GroupId).includes(`"${taskId}"`));
    expect(taskIngress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 6033, ToPort: 6033, SourceSecurityGroupId: { 'Fn::GetAtt': [lbId, 'GroupId'] } }),
    ]);
    const taskGroup = groups[taskId] as { Properties: { SecurityGroupEgress?: SgRule[] } };
    const taskEgress = [
      ...(taskGroup.Properties.SecurityGroupEgress ?? []),
      ...Object.values(egress).map((r) => (r as { Properties: SgRule & { GroupId: unknown } }).Properties).filter((p) => JSON.stringify(p.GroupId).includes(`"${taskId}"`)),
    ];
    expect(taskEgress.map((r) => [r.FromPort, r.ToPort, r.CidrIp ?? 'sg'])).toEqual(
      expect.arrayContaining([
        [443, 443, '0.0.0.0/0'],
        [3306, 3306, 'sg'],
      ]),
    );
    expect(taskEgress).toHaveLength(2);
    // database SG: ProxySQL tasks in on the database port
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 3306,
      ToPort: 3306,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [taskId, 'GroupId'] },
    });
  });

  test('no rule anywhere opens the admin port or admits 0.0.0.0/0', () => {
    const all = [
      ...Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => (r as { Properties: SgRule }).Properties),
      ...Object.values(template.findResources('AWS::EC2::SecurityGroup')).flatMap(
        (r) => ((r as { Properties: { SecurityGroupIngress?: SgRule[] } }).Properties.SecurityGroupIngress ?? []),
      ),
    ];
    for (const rule of all) {
      expect(rule.CidrIp).not.toBe('0.0.0.0/0');
      const from = typeof rule.FromPort === 'number' ? rule.FromPort : -1;
      const to = typeof rule.ToPort === 'number' ? rule.ToPort : -1;
      expect(from <= 6032 && 6032 <= to).toBe(false);
    }
    expect(JSON.stringify(template.findResources('AWS::EC2::SecurityGroupEgress'))).not.toMatch(/"(FromPort|ToPort)":6032/);
  });

  test('the service keeps capacity on deploys, rolls back failures, allows ECS Exec and waits for the bootstrap', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 2,
      LaunchType: 'FARGATE',
      EnableExecuteCommand: true,
      DeploymentConfiguration: {
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      },
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
    const service = Object.values(template.findResources('AWS::ECS::Service'))[0] as { DependsOn?: string[] };
    const bootstrapResource = logicalId(stack, proxy.bootstrap!.resource as never);
    expect(service.DependsOn ?? []).toEqual(expect.arrayContaining([expect.stringMatching(/^ProxyBootstrap/)]));
    expect(bootstrapResource).toMatch(/^ProxyBootstrap/);
  });

  test('the rendered config uses Aurora discovery with the instance domain derived at deploy time', () => {
    const cnf = renderedConfig(template);
    const aurora = cnf.mysql_aws_aurora_hostgroups as Array<Record<string, unknown>>;
    expect(aurora).toHaveLength(1);
    // The cluster's attributes are tokens too: never pasted, checked at task start by the host rules
    expect(aurora[0].domain_name).toBe('{{param:PROXYSQL_PARAM_0}}');
    const servers = cnf.mysql_servers as Array<Record<string, unknown>>;
    expect(servers.map((s) => [s.hostgroup, s.weight, s.address])).toEqual([
      [10, 1, '{{param:PROXYSQL_PARAM_1}}'],
      [20, 1, '{{param:PROXYSQL_PARAM_1}}'],
      [20, 1000, '{{param:PROXYSQL_PARAM_2}}'],
    ]);
    const env = containerEnvironment(template);
    expect(env).toMatchObject({
      PROXYSQL_PARAM_0_RULE: 'domain',
      PROXYSQL_PARAM_0_SOURCE: 'ProxySqlServiceProps.backend (instance domain)',
      PROXYSQL_PARAM_1: { 'Fn::GetAtt': [expect.stringMatching(/^Databasewriter/), 'Endpoint.Address'] },
      PROXYSQL_PARAM_1_RULE: 'host',
      PROXYSQL_PARAM_1_SOURCE: 'ProxySqlServiceProps.backend (instance endpoint 0)',
      PROXYSQL_PARAM_2: { 'Fn::GetAtt': [expect.stringMatching(/^Databasereader/), 'Endpoint.Address'] },
      PROXYSQL_PARAM_2_RULE: 'host',
    });
    // the template itself is plain text: nothing in it for CloudFormation to resolve
    expect(typeof env.PROXYSQL_CONFIG_TEMPLATE).toBe('string');
    expect((cnf.mysql_users as Array<Record<string, unknown>>).map((u) => u.username)).toEqual(['app']);
  });

  test("the cluster's real attribute values pass the entrypoint's rules and render as Aurora discovery needs them", () => {
    const env = containerEnvironment(template) as Record<string, string>;
    const secrets = { PROXYSQL_ADMIN_PASSWORD: 'a', PROXYSQL_STATS_PASSWORD: 's', PROXYSQL_MONITOR_PASSWORD: 'm', PROXYSQL_USER_PASSWORD_0: 'u0' };
    const filled = parseLibconfig(substituteSecrets(env.PROXYSQL_CONFIG_TEMPLATE, {
      ...env,
      ...secrets,
      PROXYSQL_PARAM_0: '.xyz123abc.eu-west-1.rds.amazonaws.com',
      PROXYSQL_PARAM_1: 'writer-abc.xyz123abc.eu-west-1.rds.amazonaws.com',
      PROXYSQL_PARAM_2: 'reader-abc.xyz123abc.eu-west-1.rds.amazonaws.com',
    }));
    expect((filled.mysql_aws_aurora_hostgroups as Array<Record<string, unknown>>)[0]).toMatchObject({ domain_name: '.xyz123abc.eu-west-1.rds.amazonaws.com', aurora_port: 3306 });
    expect((filled.mysql_servers as Array<Record<string, unknown>>).map((s) => [s.address, s.port])).toEqual([
      ['writer-abc.xyz123abc.eu-west-1.rds.amazonaws.com', 3306],
      ['writer-abc.xyz123abc.eu-west-1.rds.amazonaws.com', 3306],
      ['reader-abc.xyz123abc.eu-west-1.rds.amazonaws.com', 3306],
    ]);
  });

  test('the domain is Fn::Join of "." and the part after ".cluster-" of the cluster endpoint', () => {
    const td = JSON.stringify(template.findResources('AWS::ECS::TaskDefinition'));
    expect(td).toContain('{"Fn::Select":[1,{"Fn::Split":[".cluster-",{"Fn::GetAtt":["DatabaseB269D8BB","Endpoint.Address"]}]}]}');
  });
});

describe('ProxySqlService without users: a generated least-privilege user, never the master login', () => {
  test("serves one user 'app' with a generated secret, created by the bootstrap on schema app only, with the least privileges", () => {
    const { stack } = auroraProxy();
    const template = Template.fromStack(stack);
    const cnf = renderedConfig(template);
    expect((cnf.mysql_users as Array<Record<string, unknown>>).map((u) => u.username)).toEqual(['app']);
    // the bootstrap creates it (the master secret is read by the bootstrap only)
    const [bootstrap] = Object.values(template.findResources('Custom::ProxySqlDatabaseBootstrap'));
    const users = JSON.stringify(bootstrap.Properties.Users);
    expect(users).toContain('\\"username\\":\\"app\\"');
    // the least an application needs (DEFAULT_APP_PRIVILEGES), not ALL PRIVILEGES: no DDL through the proxy
    expect(users).toContain('\\"privileges\\":[\\"SELECT\\",\\"INSERT\\",\\"UPDATE\\",\\"DELETE\\",\\"CREATE TEMPORARY TABLES\\",\\"EXECUTE\\"]');
    expect(users).not.toContain('ALL PRIVILEGES');
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('adminUser'));
  });

  test('bootstrap: false without users is refused naming the prop', () => {
    expect(() => auroraProxy({ bootstrap: false })).toThrow(/ProxySqlServiceProps\.users: required with bootstrap: false/);
  });

  test('grantConnect by user name returns the grant on that user\'s secret; an unknown name is refused', () => {
    const { stack, vpc, proxy } = auroraProxy({ users: [{ username: 'app' }, { username: 'reporting' }] });
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'i.h', code: lambda.Code.fromInline('x'), vpc });
    const grant = proxy.grantConnect(fn, 'reporting');
    expect(grant.success).toBe(true);
    const statements = stack.resolve(grant.principalStatements.map((st) => st.toStatementJson()));
    expect(statements).toEqual([
      expect.objectContaining({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: stack.resolve(proxy.userSecrets[1].secretArn) }),
    ]);
    expect(() => proxy.grantConnect(fn, 'nobody')).toThrow(/ProxySqlService\.grantConnect: no user named 'nobody'; the users with a name are: app, reporting/);
  });

  test("serving the master secret is an explicit choice, with a warning", () => {
    const { stack } = auroraProxyWithAdminUser();
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('serverless-proxysql:adminUser'));
  });
});

describe('ProxySqlService with the cluster secret as a user', () => {
  test('reads the username from the secret at task start and bootstraps only the monitor', () => {
    const { stack } = auroraProxyWithAdminUser();
    const template = Template.fromStack(stack);
    const cnf = renderedConfig(template);
    expect((cnf.mysql_users as Array<Record<string, unknown>>)[0].username).toBe('{{param:PROXYSQL_USER_NAME_0}}');
    // checked at task start by the user-name rule, an error naming the secret's ARN (never the value)
    expect(containerEnvironment(template)).toMatchObject({ PROXYSQL_USER_NAME_0_RULE: 'name', PROXYSQL_USER_NAME_0_SOURCE: { Ref: expect.stringMatching(/^DatabaseSecretAttachment/) } });
    // both containers: ProxySQL's entrypoint renders it, the agent's health check logs in with it
    const userName = Match.objectLike({
      Secrets: Match.arrayWith([Match.objectLike({ Name: 'PROXYSQL_USER_NAME_0', ValueFrom: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([':username::'])]) }) })]),
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [userName, userName] });
  });
});

describe('ProxySqlService on explicit endpoints', () => {
  test('renders replication hostgroups with the writer as last-resort reader', () => {
    // GIVEN RDS for MySQL with two replicas, brought credentials
    const { stack, vpc } = givenStack();
    const dbSg = new ec2.SecurityGroup(stack, 'DbSg', { vpc });
    const appSecret = new secretsmanager.Secret(stack, 'AppSecret');
    new ProxySqlService(stack, 'Proxy', {
      vpc,
      backend: ProxySqlBackend.endpoints({
        writer: { hostname: 'primary.abc.us-east-1.rds.amazonaws.com' },
        readers: [{ hostname: 'replica-1.abc.us-east-1.rds.amazonaws.com' }, { hostname: 'replica-2.abc.us-east-1.rds.amazonaws.com' }],
        databaseConnections: dbSg,
      }),
      users: [{ username: 'app', secret: appSecret }],
    });
    // WHEN synthesized
    const template = Template.fromStack(stack);
    const cnf = renderedConfig(template);
    // THEN
    expect(cnf.mysql_replication_hostgroups).toEqual([{ writer_hostgroup: 10, reader_hostgroup: 20, check_type: 'read_only', comment: expect.any(String) }]);
    expect((cnf.mysql_servers as Array<Record<string, unknown>>).map((s) => [s.hostgroup, s.address, s.weight, s.max_replication_lag])).toEqual([
      [10, 'primary.abc.us-east-1.rds.amazonaws.com', 1000, undefined],
      [20, 'primary.abc.us-east-1.rds.amazonaws.com', 1, undefined],
      [20, 'replica-1.abc.us-east-1.rds.amazonaws.com', 1000, 30],
      [20, 'replica-2.abc.us-east-1.rds.amazonaws.com', 1000, 30],
    ]);
    expect(cnf.mysql_aws_aurora_hostgroups).toBeUndefined();
    // no admin secret → no bootstrap, and a warning says what to do by hand
    template.resourceCountIs('AWS::CloudFormation::CustomResource', 0);
    Annotations.fromStack(stack).hasWarning('/TestStack/Proxy', Match.stringLikeRegexp('create the monitor user'));
  });

  test('an imported Aurora cluster with a concrete endpoint gets its domain at synth', () => {
    const { stack, vpc } = givenStack();
    const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'Imported', {
      clusterIdentifier: 'orders',
      clusterEndpointAddress: 'orders.cluster-c9akciq32.eu-west-1.rds.amazonaws.com',
      port: 3306,
      instanceIdentifiers: ['orders-1', 'orders-2'],
      securityGroups: [new ec2.SecurityGroup(stack, 'DbSg', { vpc })],
    });
    new ProxySqlService(stack, 'Proxy', {
      vpc,
      backend: ProxySqlBackend.auroraCluster(cluster),
      users: [{ username: 'app', secret: new secretsmanager.Secret(stack, 'S') }],
    });
    const cnf = renderedConfig(Template.fromStack(stack));
    expect((cnf.mysql_aws_aurora_hostgroups as Array<Record<string, unknown>>)[0].domain_name).toBe('.c9akciq32.eu-west-1.rds.amazonaws.com');
    expect((cnf.mysql_servers as Array<Record<string, unknown>>).map((s) => s.address)).toEqual([
      'orders-1.c9akciq32.eu-west-1.rds.amazonaws.com',
      'orders-1.c9akciq32.eu-west-1.rds.amazonaws.com',
      'orders-2.c9akciq32.eu-west-1.rds.amazonaws.com',
    ]);
  });

  test('an imported Aurora cluster without security groups gets egress to the VPC on its port, and bootstrap says what it needs', () => {
    const { stack, vpc } = givenStack();
    const attrs = { clusterIdentifier: 'c', clusterEndpointAddress: 'c.cluster-abc.us-east-1.rds.amazonaws.com', port: 3306, instanceIdentifiers: ['c-1'] };
    const proxy = new ProxySqlService(stack, 'Proxy', {
      vpc,
      backend: ProxySqlBackend.auroraCluster(rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'C', attrs)),
      users: [{ username: 'app', secret: new secretsmanager.Secret(stack, 'S') }],
    });
    const taskSg = stack.resolve(proxy.taskConnections.securityGroups[0].securityGroupId);
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ FromPort: 3306, ToPort: 3306, CidrIp: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Vpc'), 'CidrBlock'] } })]),
    });
    expect(taskSg).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ProxyTaskSecurityGroup/), 'GroupId'] });
    const { stack: stack2, vpc: vpc2 } = givenStack();
    expect(
      () =>
        new ProxySqlService(stack2, 'Proxy', {
          vpc: vpc2,
          backend: ProxySqlBackend.auroraCluster(rds.DatabaseCluster.fromDatabaseClusterAttributes(stack2, 'C', attrs), {
            adminSecret: new secretsmanager.Secret(stack2, 'Admin'),
          }),
          users: [{ username: 'app', secret: new secretsmanager.Secret(stack2, 'S') }],
        }),
    ).toThrow(/ProxySqlServiceProps\.bootstrap: the backend has no databaseConnections/);
  });

  test('a private DNS name becomes the endpoint', () => {
    const { stack, vpc } = givenStack();
    const cluster = givenAuroraCluster(stack, vpc);
    const zone = new route53.PrivateHostedZone(stack, 'Zone', { zoneName: 'db.internal', vpc });
    const proxy = new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), dnsName: { zone, recordName: 'proxy' } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'proxy.db.internal.', Type: 'A' });
    // a Ref to the record: its value is the record's name, and clients that use it depend on the record
    expect(stack.resolve(proxy.endpointHostname)).toEqual({ Ref: expect.stringMatching(/^ProxyDnsRecord/) });
  });
});

describe('validation', () => {
  const cases: Array<[string, (s: Stack, vpc: ec2.IVpc) => Partial<ProxySqlServiceProps>, RegExp]> = [
    ['cpu not a Fargate size', () => ({ cpu: 300 }), /ProxySqlServiceProps\.cpu: 300/],
    ['memory not valid for cpu', () => ({ cpu: 512, memoryLimitMiB: 512 }), /ProxySqlServiceProps\.memoryLimitMiB: 512 MiB is not valid with cpu 512/],
    ['desiredCount 0', () => ({ desiredCount: 0 }), /ProxySqlServiceProps\.desiredCount: must be a whole number of at least 1/],
    ['desiredCount fractional', () => ({ desiredCount: 1.5 }), /ProxySqlServiceProps\.desiredCount/],
    ['max below min capacity', () => ({ autoScaling: { minCapacity: 4, maxCapacity: 2 }, desiredCount: 4 }), /ProxySqlServiceProps\.autoScaling\.maxCapacity: 2 is below minCapacity 4/],
    ['desiredCount outside scaling range', () => ({ desiredCount: 9, autoScaling: { minCapacity: 2, maxCapacity: 4 } }), /ProxySqlServiceProps\.desiredCount: 9 is outside/],
    ['target cpu out of range', () => ({ autoScaling: { targetCpuUtilizationPercent: 99 } }), /targetCpuUtilizationPercent/],
    ['drain beyond Fargate stop timeout', () => ({ drainTimeout: Duration.seconds(200) }), /ProxySqlServiceProps\.drainTimeout: 200 s/],
    ['empty user list', () => ({ users: [] }), /ProxySqlServiceProps\.users: must hold at least one user/],
    ['duplicate usernames', () => ({ users: [{ username: 'app' }, { username: 'app' }] }), /ProxySqlServiceProps\.users\[1\]\.username: 'app' is already used by ProxySqlServiceProps\.users\[0\]\.username/],
    ['bad username', () => ({ users: [{ username: "o'brien" }] }), /ProxySqlServiceProps\.users\[0\]\.username/],
    ['user with neither name nor secret', () => ({ users: [{}] }), /ProxySqlServiceProps\.users\[0\]: give a username, a secret, or both/],
    ['createOnBackend without username', (s) => ({ users: [{ secret: new secretsmanager.Secret(s, 'X'), createOnBackend: true }] }), /users\[0\]\.username: required when createOnBackend/],
    ['bad schema', () => ({ users: [{ username: 'app', schema: 'a-b' }] }), /ProxySqlServiceProps\.users\[0\]\.schema/],
    ['bad monitor username', () => ({ monitorUsername: 'mon itor' }), /ProxySqlServiceProps\.monitorUsername/],
    ['maxClientConnections 0', () => ({ maxClientConnections: 0 }), /ProxySqlServiceProps\.maxClientConnections/],
    ['maxBackendConnectionsPerServer too big', () => ({ maxBackendConnectionsPerServer: 1e9 }), /ProxySqlServiceProps\.maxBackendConnectionsPerServer/],
    ['maxReplicaLag out of range', () => ({ maxReplicaLag: Duration.minutes(20) }), /ProxySqlServiceProps\.maxReplicaLag/],
    ['prefixed variable', () => ({ mysqlVariables: { 'mysql-wait_timeout': 1 } }), /ProxySqlServiceProps\.mysqlVariables: 'mysql-wait_timeout'/],
    ['invalid query rule', () => ({ queryRules: [{ matchDigest: '(?<=x)', destination: QueryDestination.READER }] }), /^TestStack\/Proxy: ProxySqlServiceProps\.queryRules\[0\]\.matchDigest: not a valid RE2 pattern/],
    ['second query rule without a pattern', () => ({ queryRules: [{ matchDigest: '^SELECT', destination: QueryDestination.WRITER }, { destination: QueryDestination.READER }] }), /^TestStack\/Proxy: ProxySqlServiceProps\.queryRules\[1\]: set exactly one of matchDigest and matchPattern \(in Python: query_rules\[1\]\)$/],
    ['sub-second drain timeout', () => ({ drainTimeout: Duration.millis(1500) }), /ProxySqlServiceProps\.drainTimeout: .* must be a whole number of seconds/],
    ['sub-second replica lag', () => ({ maxReplicaLag: Duration.millis(500) }), /ProxySqlServiceProps\.maxReplicaLag: .* must be a whole number of seconds/],
    ['variable set by the construct', () => ({ mysqlVariables: { monitor_password: 'hunter2' } }), /ProxySqlServiceProps\.mysqlVariables\.monitor_password: set by the construct/],
    ['variable with a double quote', () => ({ mysqlVariables: { server_version: 'a"b' } }), /ProxySqlServiceProps\.mysqlVariables\.server_version: must not contain a double quote/],
    ['variable with a line break', () => ({ mysqlVariables: { init_connect: 'a\nb' } }), /ProxySqlServiceProps\.mysqlVariables\.init_connect/],
    ['fractional variable', () => ({ mysqlVariables: { wait_timeout: 1.5 } }), /ProxySqlServiceProps\.mysqlVariables\.wait_timeout: must be a whole number from 0 to 1728000000 .*, got 1\.5 \(in Python: mysql_variables\.wait_timeout\)$/],
    ['variable beyond 32 bits', () => ({ mysqlVariables: { wait_timeout: 2 ** 40 } }), /ProxySqlServiceProps\.mysqlVariables\.wait_timeout/],
    ['misspelt variable', () => ({ mysqlVariables: { wait_timout: 1000 } }), /^TestStack\/Proxy: ProxySqlServiceProps\.mysqlVariables\.wait_timout: not a variable of ProxySQL 3\.0 .*; did you mean wait_timeout\? \(in Python: mysql_variables\.wait_timout\)$/],
    ['unknown variable', () => ({ mysqlVariables: { not_a_var: 1 } }), /^TestStack\/Proxy: ProxySqlServiceProps\.mysqlVariables\.not_a_var: not a variable of ProxySQL 3\.0 .*; the variables are listed at https:\/\/proxysql\.com/],
    ['boolean variable given a word', () => ({ mysqlVariables: { multiplexing: 'yes' } }), /ProxySqlServiceProps\.mysqlVariables\.multiplexing: must be true or false .*, got 'yes' \(in Python: mysql_variables\.multiplexing\)$/],
    ['integer variable below its range', () => ({ mysqlVariables: { monitor_ping_timeout: 50 } }), /ProxySqlServiceProps\.mysqlVariables\.monitor_ping_timeout: must be a whole number from 100 to 600000 .*, got 50 \(in Python: mysql_variables\.monitor_ping_timeout\)$/],
    ['bootstrap without admin secret', (s, vpc) => ({
      backend: ProxySqlBackend.endpoints({ writer: { hostname: 'db.example.internal' }, databaseConnections: new ec2.SecurityGroup(s, 'Sg', { vpc }) }),
      users: [{ username: 'app', secret: new secretsmanager.Secret(s, 'Y') }],
      bootstrap: true,
    }), /ProxySqlServiceProps\.bootstrap: the backend has no admin credentials/],
    ['endpoints without users and without admin secret', () => ({ backend: ProxySqlBackend.endpoints({ writer: { hostname: 'db.example.internal' } }) }), /ProxySqlServiceProps\.users: required/],
    ['bad writer port', () => ({ backend: ProxySqlBackend.endpoints({ writer: { hostname: 'db', port: 70000 } }), users: [{ username: 'a', secret: undefined }] }), /ProxySqlServiceProps\.backend\.writer\.port/],
    ['bad reader hostname', () => ({ backend: ProxySqlBackend.endpoints({ writer: { hostname: 'db' }, readers: [{ hostname: 'bad host!' }] }) }), /ProxySqlServiceProps\.backend\.readers\[0\]\.hostname/],
    ['duplicate endpoint', () => ({ backend: ProxySqlBackend.endpoints({ writer: { hostname: 'db' }, readers: [{ hostname: 'db' }] }) }), /ProxySqlServiceProps\.backend: endpoint db:3306 is listed twice/],
    ['unsupported check type', () => ({ backend: ProxySqlBackend.endpoints({ writer: { hostname: 'db' }, replicationCheckType: 'read_only|innodb_read_only' as never }) }), /ProxySqlServiceProps\.backend\.replicationCheckType/],
    ['imported Aurora cluster without instances', (s) => ({
      backend: ProxySqlBackend.auroraCluster(rds.DatabaseCluster.fromDatabaseClusterAttributes(s, 'I', { clusterIdentifier: 'c', clusterEndpointAddress: 'c.cluster-abc.us-east-1.rds.amazonaws.com', port: 3306 })),
      users: [{ username: 'app', secret: new secretsmanager.Secret(s, 'Z') }],
    }), /ProxySqlServiceProps\.backend: the Aurora cluster has no known instances/],
    ['imported cluster endpoint that is not Aurora', (s) => ({
      backend: ProxySqlBackend.auroraCluster(rds.DatabaseCluster.fromDatabaseClusterAttributes(s, 'J', { clusterIdentifier: 'c', clusterEndpointAddress: 'db.example.com', port: 3306, instanceIdentifiers: ['x'] })),
      users: [{ username: 'app', secret: new secretsmanager.Secret(s, 'W') }],
    }), /ProxySqlServiceProps\.backend: 'db\.example\.com' is not an Aurora cluster endpoint/],
  ];

  test.each(cases)('%s', (_name, makeProps, message) => {
    const { stack, vpc } = givenStack();
    const cluster = givenAuroraCluster(stack, vpc);
    let error: Error | undefined;
    try {
      new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), ...makeProps(stack, vpc) });
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    // every synth error names the construct's path, then the prop
    expect(error?.message).toMatch(/^TestStack\/Proxy: ProxySqlServiceProps\.\w+/);
  });

  test('risky but legal choices warn with an acknowledgeable id', () => {
    const { stack } = auroraProxy({ desiredCount: 1, autoScaling: { minCapacity: 1 }, backendTls: false });
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning('/TestStack/Proxy', Match.stringLikeRegexp('desiredCount is 1'));
    annotations.hasWarning('/TestStack/Proxy', Match.stringLikeRegexp('clear text'));
  });

  test('mysqlVariables: a deploy-time value is checked by name at synth, by value at task start; with an image of your own an unknown name warns', () => {
    const { stack, vpc } = givenStack();
    const timeout = new CfnParameter(stack, 'PingTimeout').valueAsString;
    new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(givenAuroraCluster(stack, vpc)), mysqlVariables: { monitor_ping_timeout: timeout } });
    expect((renderedConfig(Template.fromStack(stack)) as { mysql_variables: Record<string, unknown> }).mysql_variables.monitor_ping_timeout).toBe('{{param:PROXYSQL_PARAM_0}}');
    expect(containerEnvironment(Template.fromStack(stack))).toMatchObject({
      PROXYSQL_PARAM_0: { Ref: 'PingTimeout' },
      PROXYSQL_PARAM_0_RULE: 'int 100 600000',
      PROXYSQL_PARAM_0_SOURCE: 'ProxySqlServiceProps.mysqlVariables.monitor_ping_timeout',
    });
    const own = auroraProxy({ image: ecs.ContainerImage.fromRegistry('proxysql/proxysql:3.1.0'), mysqlVariables: { some_new_variable: 1, multiplexing: true } });
    Annotations.fromStack(own.stack).hasWarning('/TestStack/Proxy', Match.stringLikeRegexp('ProxySqlServiceProps.mysqlVariables.some_new_variable: not a variable of ProxySQL 3.0 .* unless the image you gave has it'));
    // the type of a name the pinned release knows is still checked
    expect(() => auroraProxy({ image: ecs.ContainerImage.fromRegistry('proxysql/proxysql:3.1.0'), mysqlVariables: { multiplexing: 'yes' } })).toThrow(/mysqlVariables\.multiplexing: must be true or false/);
  });

  test('values given as CloudFormation parameters are never pasted into proxysql.cnf: each travels as a variable with its rule, and the task checks and escapes it', () => {
    const { stack, vpc } = givenStack();
    const name = new CfnParameter(stack, 'AppUser').valueAsString;
    const init = new CfnParameter(stack, 'InitQuery').valueAsString;
    const multiplexing = new CfnParameter(stack, 'Multiplexing').valueAsString;
    new ProxySqlService(stack, 'Proxy', {
      vpc,
      backend: ProxySqlBackend.auroraCluster(givenAuroraCluster(stack, vpc)),
      users: [{ username: 'app' }, { username: name }],
      mysqlVariables: { init_connect: init, multiplexing },
    });
    const template = Template.fromStack(stack);
    const env = containerEnvironment(template);
    const cnfText = describeIntrinsic(env.PROXYSQL_CONFIG_TEMPLATE);
    // no parameter inside the template, nor the cluster's attributes: CloudFormation would paste them there unchecked
    expect(typeof env.PROXYSQL_CONFIG_TEMPLATE).toBe('string');
    for (const parameter of ['AppUser', 'InitQuery', 'Multiplexing']) expect(cnfText).not.toContain(parameter);
    const cnf = parseLibconfig(cnfText) as { mysql_users: Array<Record<string, unknown>>; mysql_variables: Record<string, unknown> };
    expect(cnf.mysql_users.map((u) => u.username)).toEqual(['app', '{{param:PROXYSQL_PARAM_5}}']);
    expect(cnf.mysql_variables).toMatchObject({ init_connect: '{{param:PROXYSQL_PARAM_0}}', multiplexing: '{{param:PROXYSQL_PARAM_1}}' });
    expect(env).toMatchObject({
      PROXYSQL_PARAM_5: { Ref: 'AppUser' },
      PROXYSQL_PARAM_5_RULE: 'name',
      PROXYSQL_PARAM_5_SOURCE: 'ProxySqlServiceProps.users[1].username',
      PROXYSQL_PARAM_0: { Ref: 'InitQuery' },
      PROXYSQL_PARAM_0_RULE: 'text',
      PROXYSQL_PARAM_1_RULE: 'bool',
      PROXYSQL_PARAM_1_SOURCE: 'ProxySqlServiceProps.mysqlVariables.multiplexing',
    });
    // What the entrypoint does with the values CloudFormation puts in those variables (its sh twin is tested in
    // runtime/proxysql/entrypoint.test.ts against the same function).
    const secrets = {
      PROXYSQL_ADMIN_PASSWORD: 'a', PROXYSQL_STATS_PASSWORD: 's', PROXYSQL_MONITOR_PASSWORD: 'm', PROXYSQL_USER_PASSWORD_0: 'u0', PROXYSQL_USER_PASSWORD_1: 'u1',
      // the cluster's attributes, as CloudFormation resolves them
      PROXYSQL_PARAM_2: '.xyz.eu-west-1.rds.amazonaws.com', PROXYSQL_PARAM_3: 'writer.xyz.eu-west-1.rds.amazonaws.com', PROXYSQL_PARAM_4: 'reader.xyz.eu-west-1.rds.amazonaws.com',
    };
    const at = (values: Record<string, string>) => ({ ...(env as Record<string, string>), ...secrets, ...values });
    const good = parseLibconfig(substituteSecrets(cnfText, at({ PROXYSQL_PARAM_5: 'reports', PROXYSQL_PARAM_0: "SET @a='x\\y'", PROXYSQL_PARAM_1: 'false' }))) as typeof cnf;
    expect(good.mysql_users.map((u) => u.username)).toEqual(['app', 'reports']);
    expect(good.mysql_variables).toMatchObject({ init_connect: "SET @a='x\\y'", multiplexing: 'false' });
    expect(() => substituteSecrets(cnfText, at({ PROXYSQL_PARAM_5: 'x", password="', PROXYSQL_PARAM_0: 'ok', PROXYSQL_PARAM_1: '1' }))).toThrow(
      'ProxySqlServiceProps.users[1].username (PROXYSQL_PARAM_5) is not a valid user name: use 1-32 characters of A-Z, a-z, 0-9 and _',
    );
    expect(() => substituteSecrets(cnfText, at({ PROXYSQL_PARAM_5: 'ok', PROXYSQL_PARAM_0: 'SET @a="x"', PROXYSQL_PARAM_1: '1' }))).toThrow(
      /^ProxySqlServiceProps\.mysqlVariables\.init_connect \(PROXYSQL_PARAM_0\) must not contain a double quote/,
    );
    expect(() => substituteSecrets(cnfText, at({ PROXYSQL_PARAM_5: 'ok', PROXYSQL_PARAM_0: 'ok', PROXYSQL_PARAM_1: 'yes' }))).toThrow(
      /^ProxySqlServiceProps\.mysqlVariables\.multiplexing \(PROXYSQL_PARAM_1\) must be true or false/,
    );
  });

  test('backend hosts and ports given as CloudFormation parameters are never pasted into proxysql.cnf: each travels with the host or port rule', () => {
    const { stack, vpc } = givenStack();
    const writer = new CfnParameter(stack, 'WriterHost').valueAsString;
    const reader = new CfnParameter(stack, 'ReaderHost').valueAsString;
    const port = new CfnParameter(stack, 'DbPort', { type: 'Number' }).valueAsNumber;
    new ProxySqlService(stack, 'Proxy', {
      vpc,
      backend: ProxySqlBackend.endpoints({ writer: { hostname: writer, port }, readers: [{ hostname: reader }, { hostname: 'replica-2.example.com', port: 3307 }] }),
      users: [{ username: 'app', secret: new secretsmanager.Secret(stack, 'S') }],
    });
    const env = containerEnvironment(Template.fromStack(stack));
    expect(typeof env.PROXYSQL_CONFIG_TEMPLATE).toBe('string');
    const cnfText = env.PROXYSQL_CONFIG_TEMPLATE as string;
    for (const parameter of ['WriterHost', 'ReaderHost', 'DbPort']) expect(cnfText).not.toContain(parameter);
    const cnf = parseLibconfig(cnfText.replace(/port=(\{\{param:[A-Z0-9_]+\}\})/g, 'port="$1"')) as { mysql_servers: Array<Record<string, unknown>> };
    expect(cnf.mysql_servers.map((s) => [s.hostgroup, s.address, s.port])).toEqual([
      [10, '{{param:PROXYSQL_PARAM_0}}', '{{param:PROXYSQL_PARAM_1}}'],
      [20, '{{param:PROXYSQL_PARAM_0}}', '{{param:PROXYSQL_PARAM_1}}'],
      [20, '{{param:PROXYSQL_PARAM_2}}', 3306],
      [20, 'replica-2.example.com', 3307],
    ]);
    // a port is a libconfig int: its placeholder stands without quotes, so the filled-in file holds a number
    expect(cnfText).toContain('port={{param:PROXYSQL_PARAM_1}}');
    expect(env).toMatchObject({
      PROXYSQL_PARAM_0: { Ref: 'WriterHost' },
      PROXYSQL_PARAM_0_RULE: 'host',
      PROXYSQL_PARAM_0_SOURCE: 'ProxySqlServiceProps.backend.writer.hostname',
      PROXYSQL_PARAM_1: { Ref: 'DbPort' },
      PROXYSQL_PARAM_1_RULE: 'port',
      PROXYSQL_PARAM_1_SOURCE: 'ProxySqlServiceProps.backend.writer.port',
      PROXYSQL_PARAM_2: { Ref: 'ReaderHost' },
      PROXYSQL_PARAM_2_RULE: 'host',
      PROXYSQL_PARAM_2_SOURCE: 'ProxySqlServiceProps.backend.readers[0].hostname',
    });
    const secrets = { PROXYSQL_ADMIN_PASSWORD: 'a', PROXYSQL_STATS_PASSWORD: 's', PROXYSQL_MONITOR_PASSWORD: 'm', PROXYSQL_USER_PASSWORD_0: 'u0' };
    const at = (values: Record<string, string>) => ({ ...(env as Record<string, string>), ...secrets, ...values });
    const good = parseLibconfig(substituteSecrets(cnfText, at({ PROXYSQL_PARAM_0: 'db.example.com', PROXYSQL_PARAM_1: '3306', PROXYSQL_PARAM_2: '10.0.1.20' }))) as typeof cnf;
    expect(good.mysql_servers.map((s) => [s.address, s.port])).toEqual([
      ['db.example.com', 3306],
      ['db.example.com', 3306],
      ['10.0.1.20', 3306],
      ['replica-2.example.com', 3307],
    ]);
    for (const [value, problem] of [
      ['db"; x', 'is not a DNS name or IPv4 address'],
      ['db\nmysql_servers=', 'is not a DNS name or IPv4 address'],
      ['$(id)', 'is not a DNS name or IPv4 address'],
      ['::1', 'is an IPv6 address, which is not supported'],
      [`${'a'.repeat(64)}.example.com`, 'is not a DNS name or IPv4 address'],
    ]) {
      expect(() => substituteSecrets(cnfText, at({ PROXYSQL_PARAM_0: value, PROXYSQL_PARAM_1: '3306', PROXYSQL_PARAM_2: 'r' }))).toThrow(
        `ProxySqlServiceProps.backend.writer.hostname (PROXYSQL_PARAM_0) ${problem}`,
      );
    }
    for (const value of ['0', '65536', '3306, weight=0', ' 3306', '03306']) {
      expect(() => substituteSecrets(cnfText, at({ PROXYSQL_PARAM_0: 'db', PROXYSQL_PARAM_1: value, PROXYSQL_PARAM_2: 'r' }))).toThrow(
        'ProxySqlServiceProps.backend.writer.port (PROXYSQL_PARAM_1) is not a TCP port: use a whole number from 1 to 65535',
      );
    }
  });

  test('an Aurora cluster imported from parameters: its endpoint, domain and instances are checked at task start, never pasted', () => {
    const { stack, vpc } = givenStack();
    const endpoint = new CfnParameter(stack, 'ClusterEndpoint').valueAsString;
    const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'Imported', {
      clusterIdentifier: 'orders',
      clusterEndpointAddress: endpoint,
      port: 3306,
      instanceIdentifiers: ['orders-1'],
      securityGroups: [new ec2.SecurityGroup(stack, 'DbSg', { vpc })],
    });
    const port = new CfnParameter(stack, 'ClusterPort', { type: 'Number' }).valueAsNumber;
    new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster, { port }), users: [{ username: 'app', secret: new secretsmanager.Secret(stack, 'S') }] });
    const env = containerEnvironment(Template.fromStack(stack));
    expect(typeof env.PROXYSQL_CONFIG_TEMPLATE).toBe('string');
    for (const parameter of ['ClusterEndpoint', 'ClusterPort']) expect(env.PROXYSQL_CONFIG_TEMPLATE).not.toContain(parameter);
    expect(env).toMatchObject({
      PROXYSQL_PARAM_0_RULE: 'domain',
      PROXYSQL_PARAM_1: { Ref: 'ClusterPort' },
      PROXYSQL_PARAM_1_RULE: 'port',
      PROXYSQL_PARAM_1_SOURCE: 'ProxySqlServiceProps.backend.port',
      PROXYSQL_PARAM_2_RULE: 'host',
      PROXYSQL_PARAM_2_SOURCE: 'ProxySqlServiceProps.backend (instance endpoint 0)',
    });
    expect(JSON.stringify(env.PROXYSQL_PARAM_2)).toContain('"Ref":"ClusterEndpoint"');
    // the port, a libconfig int, unquoted in the Aurora pair and in each server row
    expect(env.PROXYSQL_CONFIG_TEMPLATE).toContain('aurora_port={{param:PROXYSQL_PARAM_1}}');
    expect(env.PROXYSQL_CONFIG_TEMPLATE).toContain('port={{param:PROXYSQL_PARAM_1}}, weight=');
    const filled = parseLibconfig(substituteSecrets(env.PROXYSQL_CONFIG_TEMPLATE as string, {
      ...(env as Record<string, string>),
      PROXYSQL_ADMIN_PASSWORD: 'a', PROXYSQL_STATS_PASSWORD: 's', PROXYSQL_MONITOR_PASSWORD: 'm', PROXYSQL_USER_PASSWORD_0: 'u0',
      PROXYSQL_PARAM_0: '.c9akciq32.eu-west-1.rds.amazonaws.com', PROXYSQL_PARAM_1: '3307', PROXYSQL_PARAM_2: 'orders-1.c9akciq32.eu-west-1.rds.amazonaws.com',
    }));
    expect((filled.mysql_aws_aurora_hostgroups as Array<Record<string, unknown>>)[0]).toMatchObject({ aurora_port: 3307, domain_name: '.c9akciq32.eu-west-1.rds.amazonaws.com' });
  });

  describe('the backend connection budget against the database’s max_connections', () => {
    const budget = (extra: Partial<ProxySqlServiceProps>) =>
      Annotations.fromStack(auroraProxy(extra).stack).findWarning('/TestStack/Proxy', Match.stringLikeRegexp('backendConnectionBudget'));

    test('5,000 per server at 20 tasks, max_connections not given: a warning with the sum and the assumed 1,000', () => {
      const [warning] = budget({ maxBackendConnectionsPerServer: 5000, autoScaling: { maxCapacity: 20 } });
      expect(String(warning?.entry.data)).toBe(
        'ProxySqlServiceProps.maxBackendConnectionsPerServer: at autoScaling.maxCapacity the writer may see 20 tasks × (5000 + 1250 as last-resort reader + 4 monitor) + 1 bootstrap = 125,081 connections from the proxy, ' +
          "more than 1,000, Aurora MySQL's default max_connections on a db.r6g.large (set databaseMaxConnections to your database's). " +
          "Lower maxBackendConnectionsPerServer or autoScaling.maxCapacity, or raise the database's max_connections. [ack: serverless-proxysql:backendConnectionBudget]",
      );
    });

    test('the defaults fit the assumed 1,000; a databaseMaxConnections below their 175 warns; one above the budget does not', () => {
      expect(budget({})).toEqual([]);
      const [warning] = budget({ databaseMaxConnections: 150 });
      expect(String(warning?.entry.data)).toMatch(/writer may see 6 tasks × \(20 \+ 5 as last-resort reader \+ 4 monitor\) \+ 1 bootstrap = 175 connections from the proxy, more than databaseMaxConnections 150\./);
      expect(budget({ maxBackendConnectionsPerServer: 5000, autoScaling: { maxCapacity: 20 }, databaseMaxConnections: 16_000 * 10 })).toEqual([]);
    });

    test('databaseMaxConnections must be a whole number of at least 1', () => {
      expect(() => auroraProxy({ databaseMaxConnections: 0 })).toThrow('TestStack/Proxy: ProxySqlServiceProps.databaseMaxConnections: must be a whole number of at least 1, got 0');
    });
  });

  test('x86_64 can be chosen', () => {
    const { stack } = auroraProxy({ cpuArchitecture: ecs.CpuArchitecture.X86_64 });
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', { RuntimePlatform: { CpuArchitecture: 'X86_64' } });
  });
});

describe('secret rotation', () => {
  test('a finished rotation of any secret ProxySQL reads triggers a rolling restart of exactly this service', () => {
    // GIVEN the proxy with a generated application user
    const { stack, proxy } = auroraProxy({ users: [{ username: 'app' }] });
    // WHEN synthesized
    const template = Template.fromStack(stack);
    // THEN an EventBridge rule matches RotationSucceeded for the admin, monitor and user secrets
    const rule = Object.values(template.findResources('AWS::Events::Rule', { Properties: { EventPattern: Match.anyValue() } }))[0] as {
      Properties: { EventPattern: { detail: { eventName: string[]; additionalEventData: { SecretId: unknown[] } } } };
    };
    expect(rule.Properties.EventPattern.detail.eventName).toEqual(['RotationSucceeded']);
    expect(rule.Properties.EventPattern.detail.additionalEventData.SecretId).toEqual([
      { Ref: logicalId(stack, proxy.adminSecret as never) },
      { Ref: logicalId(stack, proxy.statsSecret as never) },
      { Ref: logicalId(stack, proxy.monitorSecret as never) },
      { Ref: logicalId(stack, proxy.userSecrets[0] as never) },
    ]);
    // and its target may only force a new deployment of this service
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'ecs:UpdateService', Effect: 'Allow', Resource: { Ref: logicalId(stack, proxy.service as never) } }] },
    });
  });

  test('can be turned off', () => {
    const { stack } = auroraProxy({ restartOnSecretRotation: false });
    // (the monitoring's every-minute schedule is the only rule left)
    expect(Object.keys(Template.fromStack(stack).findResources('AWS::Events::Rule', { Properties: { EventPattern: Match.anyValue() } }))).toEqual([]);
  });
});

describe('production defaults', () => {
  // GIVEN the proxy with defaults
  const { stack } = auroraProxy();
  const template = Template.fromStack(stack);
  const containers = () =>
    (Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0] as {
      Properties: { ContainerDefinitions: Array<Record<string, unknown>> };
    }).Properties.ContainerDefinitions;
  const container = () => containers().find((c) => c.Name === 'proxysql') as Record<string, unknown>;
  const agentContainer = () => containers().find((c) => c.Name === 'agent') as Record<string, unknown>;
  /** A container script as the task definition carries it: its comment lines left out (the 64 KiB budget). */
  const withoutComments = (name: string) =>
    fs
      .readFileSync(path.join(__dirname, '..', 'runtime', 'proxysql', name), 'utf8')
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n');

  test("the agent container: the pinned image with a MariaDB client, its script from its variable, its own log stream, a soft memory reservation", () => {
    const a = agentContainer();
    expect(AGENT_IMAGE).toBe('public.ecr.aws/docker/library/mariadb:11.8.3');
    expect(a.Image).toBe(AGENT_IMAGE);
    expect(a.EntryPoint).toEqual(['/bin/sh', '-c', 'eval "$PROXYSQL_AGENT"', 'proxysql-agent']);
    const env = Object.fromEntries((a.Environment as Array<{ Name: string; Value: string }>).map((e) => [e.Name, e.Value]));
    expect(env.PROXYSQL_AGENT).toBe(withoutComments('agent.sh'));
    expect(env).toMatchObject({ PROXYSQL_FIGURES_SECONDS: '60', PROXYSQL_FIGURES_QUERY: FIGURES_QUERY, PROXYSQL_FIGURES_MARKER: FIGURES_LINE_MARKER });
    expect(a.MemoryReservation).toBe(32);
    expect(a).not.toHaveProperty('Memory');
    expect(a).not.toHaveProperty('PortMappings');
    expect(a.LogConfiguration).toMatchObject({ LogDriver: 'awslogs' });
    expect((a.LogConfiguration as { Options: Record<string, unknown> }).Options['awslogs-stream-prefix']).toBe('proxysql');
    // agentImage replaces it (e.g. an ECR copy pinned by digest)
    const mine = Object.values(
      Template.fromStack(auroraProxy({ agentImage: ecs.ContainerImage.fromRegistry('123456789012.dkr.ecr.us-east-1.amazonaws.com/mariadb@sha256:abc') }).stack).findResources(
        'AWS::ECS::TaskDefinition',
      ),
    )[0] as { Properties: { ContainerDefinitions: Array<{ Name: string; Image: unknown }> } };
    expect(mine.Properties.ContainerDefinitions.find((c) => c.Name === 'agent')?.Image).toBe('123456789012.dkr.ecr.us-east-1.amazonaws.com/mariadb@sha256:abc');
  });

  test('each embedded script is valid sh without its comments', async () => {
    for (const name of ['entrypoint.sh', 'agent.sh', 'healthcheck.sh', 'listening.sh']) {
      const { spawnSync } = await import('node:child_process');
      const result = spawnSync('/bin/sh', ['-n'], { input: withoutComments(name) });
      expect(result.status, `${name}: ${String(result.stderr)}`).toBe(0);
    }
  });

  test('scales on CPU between 2 and 6 tasks', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 6 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 60,
      }),
    });
  });

  test("drain timing lines up: a 5 s NLB deregistration delay (ECS signals after it), the agent's stopTimeout = drain bound + 10 s, then ProxySQL's", () => {
    const c = container();
    // ProxySQL's container does not drain itself: its entrypoint needs no client; ProxySQL exits at once on SIGTERM
    expect(c.StopTimeout).toBe(10);
    expect((c.Environment as Array<{ Name: string }>).map((e) => e.Name).filter((name) => /DRAIN/.test(name))).toEqual([]);
    const a = agentContainer();
    expect(a.StopTimeout).toBe(40);
    expect(a.Environment).toEqual(expect.arrayContaining([{ Name: 'PROXYSQL_DRAIN_SECONDS', Value: '30' }]));
    // the agent starts after ProxySQL, so ECS stops it first (the reverse order) and ProxySQL runs while it drains
    expect(a.DependsOn).toEqual([{ ContainerName: 'proxysql', Condition: 'START' }]);
    expect(c).not.toHaveProperty('DependsOn');
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: '5' },
        { Key: 'deregistration_delay.connection_termination.enabled', Value: 'false' },
      ]),
    });
  });

  test('an init process forwards SIGTERM to the entrypoint, which is the repository script verbatim, run from its variable', () => {
    const c = container();
    expect(c.LinuxParameters).toEqual({ InitProcessEnabled: true, Capabilities: {} });
    // the script is in the environment, not argv: the unmodified image runs it with sh, and ProxySQL is exec'd from it without secrets
    expect(c.EntryPoint).toEqual(['/bin/sh', '-c', 'eval "$PROXYSQL_ENTRYPOINT"', 'proxysql-entrypoint']);
    const env = Object.fromEntries((c.Environment as Array<{ Name: string; Value: string }>).map((e) => [e.Name, e.Value]));
    expect(env.PROXYSQL_ENTRYPOINT).toBe(withoutComments('entrypoint.sh'));
  });

  test('idle client sessions sit on ProxySQL idle threads (the task command, passed on by the entrypoint); idleThreads false drops them', () => {
    expect(container().Command).toEqual(['--idle-threads']);
    const without = Object.values(Template.fromStack(auroraProxy({ idleThreads: false }).stack).findResources('AWS::ECS::TaskDefinition'))[0] as {
      Properties: { ContainerDefinitions: Array<Record<string, unknown>> };
    };
    expect(without.Properties.ContainerDefinitions[0]).not.toHaveProperty('Command');
  });

  test("the agent container's health check proves the deployed configuration works (healthcheck.sh); ProxySQL's needs no client (listening.sh); the NLB checks the client port over TCP", () => {
    const a = agentContainer();
    // 5 s + 3 s for the one user's bounded login
    expect(a.HealthCheck).toMatchObject({ Command: ['CMD-SHELL', 'eval "$PROXYSQL_HEALTH_CHECK"'], Interval: 15, Retries: 3, Timeout: 8 });
    const env = Object.fromEntries((a.Environment as Array<{ Name: string; Value: string }>).map((e) => [e.Name, e.Value]));
    expect(env.PROXYSQL_HEALTH_CHECK).toBe(withoutComments('healthcheck.sh'));
    expect(env).toMatchObject({ PROXYSQL_EXPECTED_USERS: '1', PROXYSQL_USER_LOGIN_0: 'app', PROXYSQL_MYSQL_PORT: '6033', PROXYSQL_ADMIN_PORT: '6032' });
    // both essential: an essential container without a check reports UNKNOWN, and ECS derives the task's health from them
    expect(a.Essential).toBe(true);
    const c = container();
    expect(c.Essential).toBe(true);
    expect(c.HealthCheck).toMatchObject({ Command: ['CMD-SHELL', 'eval "$PROXYSQL_LISTEN_CHECK"'], Interval: 15, Retries: 3, Timeout: 5 });
    const proxyEnv = Object.fromEntries((c.Environment as Array<{ Name: string; Value: string }>).map((e) => [e.Name, e.Value]));
    expect(proxyEnv.PROXYSQL_LISTEN_CHECK).toBe(withoutComments('listening.sh'));
    expect(proxyEnv).not.toHaveProperty('PROXYSQL_HEALTH_CHECK');
    expect(proxyEnv).not.toHaveProperty('PROXYSQL_RESTAPI_PORT');
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { HealthCheckProtocol: 'TCP', HealthyThresholdCount: 2 });
    expect(renderedConfig(template).mysql_variables).toMatchObject({ log_unhealthy_connections: false });
  });

  test('the NLB idle timeout is stated and ProxySQL ends idle client sessions 10 s before it', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      ListenerAttributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '350' }],
    });
    expect(renderedConfig(template).mysql_variables).toMatchObject({ wait_timeout: 340000 });
  });

  test('the tasks spread over the private subnets of both AZs, without public IPs', () => {
    const service = Object.values(template.findResources('AWS::ECS::Service'))[0] as {
      Properties: { NetworkConfiguration: { AwsvpcConfiguration: { Subnets: unknown[]; AssignPublicIp: string } } };
    };
    expect(service.Properties.NetworkConfiguration.AwsvpcConfiguration.Subnets).toHaveLength(2);
    expect(service.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('DISABLED');
  });

  test('client TLS is an option: ProxySQL offers TLS and the users must use it', () => {
    const { stack: tlsStack } = auroraProxy({ clientTls: true, users: [{ username: 'app' }] });
    const cnf = renderedConfig(Template.fromStack(tlsStack));
    expect((cnf.mysql_variables as Record<string, unknown>).have_ssl).toBe(true);
    expect((cnf.mysql_users as Array<Record<string, unknown>>)[0].use_ssl).toBe(1);
  });

  test('backend TLS is on by default, for seeded and discovered servers', () => {
    const cnf = renderedConfig(template);
    expect((cnf.mysql_servers as Array<Record<string, unknown>>).every((s) => s.use_ssl === 1)).toBe(true);
    expect((cnf.mysql_hostgroup_attributes as Array<{ servers_defaults: string }>).map((a) => JSON.parse(a.servers_defaults).use_ssl)).toEqual([1, 1]);
  });
});

describe('bootstrapRevision', () => {
  test('re-runs the bootstrap and replaces the tasks after it', () => {
    const { stack } = auroraProxy({ users: [{ username: 'app' }], bootstrapRevision: 'rotated-2026-11-25' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::ProxySqlDatabaseBootstrap', { Revision: 'rotated-2026-11-25' });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({ Environment: Match.arrayWith([{ Name: 'PROXYSQL_BOOTSTRAP_REVISION', Value: 'rotated-2026-11-25' }]) })]),
    });
  });
});

describe('ECS Exec: the only way to the admin interface, and its output is not logged by default', () => {
  /** The actions granted to the task role (what code in the container, or an Exec session, may do). */
  function taskRoleActions(template: Template): string[] {
    const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
    const taskRole = (taskDefinition.Properties.TaskRoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === taskRole),
    );
    return policies.flatMap((p) => (p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).flatMap((st) => st.Action));
  }

  test('the cluster does not log Exec session output, so the task role gets no logs permission at all (the reference app also sets the reduce-permissions flag)', () => {
    const app = new App({ context: { '@aws-cdk/aws-ecs:reduceEc2FargateCloudWatchPermissions': true } });
    const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(givenAuroraCluster(stack, vpc)) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::Cluster', { Configuration: { ExecuteCommandConfiguration: { Logging: 'NONE' } } });
    template.hasResourceProperties('AWS::ECS::Service', { EnableExecuteCommand: true });
    const actions = taskRoleActions(template);
    expect(actions).toEqual(expect.arrayContaining(['ssmmessages:CreateControlChannel']));
    expect(actions.filter((a) => a.startsWith('logs:'))).toEqual([]);
  });

  test('enableExecuteCommand: false leaves no Exec permission on the task role', () => {
    const { stack } = auroraProxy({ enableExecuteCommand: false });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::Service', { EnableExecuteCommand: false });
    expect(taskRoleActions(template).filter((a) => a.startsWith('ssmmessages:'))).toEqual([]);
  });

  test('a log group given for Exec sessions is used, encrypted; with your own cluster it is refused, and Exec there warns', () => {
    const { stack, vpc } = givenStack();
    const group = new logs.LogGroup(stack, 'ExecLogs');
    new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(givenAuroraCluster(stack, vpc)), executeCommandLogGroup: group });
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::Cluster', {
      Configuration: {
        ExecuteCommandConfiguration: {
          Logging: 'OVERRIDE',
          LogConfiguration: { CloudWatchEncryptionEnabled: true, CloudWatchLogGroupName: stack.resolve(group.logGroupName) },
        },
      },
    });
    const other = givenStack();
    const cluster = new ecs.Cluster(other.stack, 'Mine', { vpc: other.vpc });
    const backend = () => ProxySqlBackend.auroraCluster(givenAuroraCluster(other.stack, other.vpc));
    expect(() => new ProxySqlService(other.stack, 'P1', { vpc: other.vpc, backend: backend(), cluster, executeCommandLogGroup: new logs.LogGroup(other.stack, 'L') })).toThrow(
      /ProxySqlServiceProps\.executeCommandLogGroup: applies to the cluster this construct creates .* configure your cluster's executeCommandConfiguration instead/,
    );
  });

  test('ECS Exec in a cluster you give warns that its logging is yours to set', () => {
    const { stack, vpc } = givenStack();
    const cluster = new ecs.Cluster(stack, 'Mine', { vpc });
    new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(givenAuroraCluster(stack, vpc)), cluster });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('serverless-proxysql:execLogging'));
  });
});

describe('authenticated TLS to the database', () => {
  test("Aurora in a stack with a region: ProxySQL verifies against that region's RDS CAs, delivered in the task definition", () => {
    const { stack } = auroraProxy();
    const template = Template.fromStack(stack);
    const c = (Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0].Properties.ContainerDefinitions as Array<Record<string, unknown>>)[0];
    const env = Object.fromEntries((c.Environment as Array<{ Name: string; Value: string }>).map((e) => [e.Name, e.Value]));
    expect(env.PROXYSQL_BACKEND_CA_FILE).toBe('/var/lib/proxysql/backend-ca.pem');
    expect(renderedConfig(template).mysql_variables).toMatchObject({ ssl_p2s_ca: '/var/lib/proxysql/backend-ca.pem' });
    const pems = env.PROXYSQL_BACKEND_CA.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    const names = pems.map((pem) => /CN=([^\n]*)/.exec(new X509Certificate(pem).subject)?.[1]);
    expect(names).toEqual(expect.arrayContaining(['Amazon RDS us-east-1 Root CA RSA2048 G1', 'Amazon RDS us-east-1 Root CA ECC384 G1', 'Amazon RDS Root 2019 CA']));
    expect(names.every((n) => n === 'Amazon RDS Root 2019 CA' || n?.startsWith('Amazon RDS us-east-1 '))).toBe(true);
    // the whole task definition stays well inside ECS's 64 KiB
    expect(JSON.stringify(c).length).toBeLessThan(48 * 1024);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('backendTlsUnverified'));
  });

  test('without a region at synth, or for servers outside RDS, TLS is not authenticated and synth says so', () => {
    const app = new App();
    const stack = new Stack(app, 'NoEnv');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(givenAuroraCluster(stack, vpc)) });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp("the stack's region is not known at synth"));
    expect(renderedConfig(Template.fromStack(stack)).mysql_variables).not.toHaveProperty('ssl_p2s_ca');
    const { stack: s2, vpc: v2 } = givenStack();
    new ProxySqlService(s2, 'Proxy', {
      vpc: v2,
      backend: ProxySqlBackend.endpoints({ writer: { hostname: 'db.example.internal' }, databaseConnections: new ec2.SecurityGroup(s2, 'Db', { vpc: v2 }) }),
      users: [{ username: 'app', secret: new secretsmanager.Secret(s2, 'S') }],
      bootstrap: false,
    });
    Annotations.fromStack(s2).hasWarning('*', Match.stringLikeRegexp('set backendCa to the CA that signs its certificates'));
  });

  test.each([
    ['not PEM', { backendCa: 'hello' }, /ProxySqlServiceProps\.backendCa: must be PEM text/],
    ['with TLS off', { backendCa: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', backendTls: false }, /ProxySqlServiceProps\.backendCa: set with backendTls false/],
    ['too large', { backendCa: `-----BEGIN CERTIFICATE-----\n${'A'.repeat(17_000)}\n-----END CERTIFICATE-----` }, /ProxySqlServiceProps\.backendCa: keep it under 16 KiB/],
  ])('backendCa %s is refused naming the prop', (_label, extra, message) => {
    expect(() => auroraProxy(extra as Partial<ProxySqlServiceProps>)).toThrow(message);
  });
});

describe('ProxySqlService read consistency (issue 17)', () => {
  const rules = (extra: Partial<ProxySqlServiceProps>) =>
    renderedConfig(Template.fromStack(auroraProxy(extra).stack)).mysql_query_rules as Array<Record<string, unknown>>;

  test('by default a write moves the session to wrote(5): reads after it go to the writer; no connection is held after an INSERT', () => {
    const { stack } = auroraProxy();
    const cnf = renderedConfig(Template.fromStack(stack));
    const all = cnf.mysql_query_rules as Array<Record<string, unknown>>;
    // No destination: the session user's default_hostgroup, its own writer pool.
    expect(all.find((r) => r.rule_id === 1910)).toMatchObject({ next_query_flagIN: 105 });
    expect(all.find((r) => r.rule_id === 1910)?.destination_hostgroup).toBeUndefined();
    expect(all.filter((r) => r.flagIN === 101)).toHaveLength(5); // refusal, state, lock, read, write
    expect((cnf.mysql_variables as Record<string, unknown>).auto_increment_delay_multiplex).toBe(0);
  });

  test('readYourWritesStatements, WRITER_ONLY and keepConnectionForLastInsertId render as documented', () => {
    expect(rules({ readYourWritesStatements: 3 }).find((r) => r.rule_id === 1910)).toMatchObject({ next_query_flagIN: 103 });
    const writerOnly = rules({ readConsistency: ReadConsistency.WRITER_ONLY }).find((r) => r.rule_id === 90);
    expect(writerOnly).toMatchObject({ apply: 1 });
    expect(writerOnly?.destination_hostgroup).toBeUndefined();
    expect(rules({ readConsistency: ReadConsistency.EVENTUAL }).some((r) => Number(r.flagIN) > 100)).toBe(false);
    const { stack } = auroraProxy({ keepConnectionForLastInsertId: true });
    expect(renderedConfig(Template.fromStack(stack)).mysql_variables).toMatchObject({ auto_increment_delay_multiplex: 5, auto_increment_delay_multiplex_timeout_ms: 500 });
  });

  test.each([
    [{ readYourWritesStatements: 0 }, /ProxySqlServiceProps\.readYourWritesStatements: must be a whole number of statements from 1 to 15, got 0/],
    [{ readYourWritesStatements: 16 }, /ProxySqlServiceProps\.readYourWritesStatements: must be a whole number of statements from 1 to 15, got 16/],
    [{ readConsistency: 'strong' as ReadConsistency }, /ProxySqlServiceProps\.readConsistency: must be one of 'read-your-writes', 'writer-only', 'eventual', got 'strong'/],
    [{ readConsistency: ReadConsistency.EVENTUAL, readYourWritesStatements: 5 }, /ProxySqlServiceProps\.readYourWritesStatements: only applies with readConsistency READ_YOUR_WRITES/],
  ])('%j is refused naming the prop', (extra, message) => {
    expect(() => auroraProxy(extra)).toThrow(message);
  });
});

describe('the rendered configuration fits the task definition', () => {
  test('too many long custom rules are refused at synth, naming the props to change', () => {
    const queryRules = Array.from({ length: 80 }, (_, i) => ({ matchDigest: `^SELECT .* FROM report_${i}_${'x'.repeat(300)}`, destination: QueryDestination.WRITER }));
    expect(() => auroraProxy({ queryRules })).toThrow(/ProxySqlServiceProps: the rendered proxysql\.cnf is \d+\.\d KiB, over the 32 KiB .* fewer queryRules .* smaller readYourWritesStatements/);
  });

  test('the defaults, and the most read-your-writes statements allowed, fit', () => {
    expect(() => auroraProxy({ readYourWritesStatements: 15 })).not.toThrow();
  });

  /** `n` custom rules of about 330 bytes each. */
  const rules = (n: number) => Array.from({ length: n }, (_, i) => ({ matchDigest: `^SELECT .* FROM report_${i}_${'x'.repeat(300)}`, destination: QueryDestination.WRITER }));
  /** As many rules as bring the rendered file close under its 32 KiB cap. */
  function rulesNearTheCap(): ReturnType<typeof rules> {
    const base = Buffer.byteLength(auroraProxy().proxy.configTemplate);
    const perRule = Buffer.byteLength(auroraProxy({ queryRules: rules(1) }).proxy.configTemplate) - base;
    return rules(Math.floor((31.5 * 1024 - base) / perRule));
  }

  test("both containers fit in ECS's 64 KiB with the rendered file near its cap and the region's RDS CAs", () => {
    const queryRules = rulesNearTheCap();
    const { proxy } = auroraProxy({ queryRules });
    expect(Buffer.byteLength(proxy.configTemplate)).toBeGreaterThan(31 * 1024);
    expect(Buffer.byteLength(proxy.configTemplate)).toBeLessThanOrEqual(32 * 1024);
  });

  test('a file near its cap with a large backendCa besides is refused at synth, naming the props to change', () => {
    const backendCa = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(15_000)}\n-----END CERTIFICATE-----`;
    expect(() => auroraProxy({ queryRules: rulesNearTheCap(), backendCa })).toThrow(
      /ProxySqlServiceProps: the task's container definitions take \d+\.\d KiB, over the 60 KiB .* fewer queryRules .* smaller backendCa/,
    );
  });
});

describe('per-user budgets (issue 18)', () => {
  const users = [
    { username: 'api', schema: 'app' },
    { username: 'jobs', schema: 'app' },
  ];

  test("each user writes through a writer pool of its own and may hold half the task's client connections", () => {
    const cnf = renderedConfig(Template.fromStack(auroraProxy({ users }).stack));
    expect((cnf.mysql_users as Array<Record<string, unknown>>).map((u) => [u.username, u.default_hostgroup, u.max_connections])).toEqual([
      ['api', 10, 5000],
      ['jobs', 102, 5000],
    ]);
    expect((cnf.mysql_aws_aurora_hostgroups as Array<Record<string, unknown>>).map((p) => [p.writer_hostgroup, p.reader_hostgroup])).toEqual([
      [10, 20],
      [102, 103],
    ]);
  });

  test('a user cap above the task cap is refused naming the prop', () => {
    expect(() => auroraProxy({ users: [users[0], { ...users[1], maxConnections: 600 }], maxClientConnections: 500 })).toThrow(
      /ProxySqlServiceProps\.users\[1\]\.maxConnections: 600 is more than maxClientConnections \(500\).*lower it/,
    );
  });

  test("the connection budget warning counts every user's writer pool", () => {
    const budgetWarnings = (extra: Partial<ProxySqlServiceProps>) =>
      Annotations.fromStack(auroraProxy({ databaseMaxConnections: 150, autoScaling: { maxCapacity: 4 }, ...extra }).stack)
        .findWarning('/TestStack/Proxy', Match.stringLikeRegexp('backendConnectionBudget'))
        .map((w) => String(w.entry.data));
    // One user: 4 × (20 + 5 + 4) + 1 = 117, under 150; two: 4 × (2 × 20 + 5 + 4) + 1 = 197.
    expect(budgetWarnings({ users: [users[0]] })).toEqual([]);
    expect(budgetWarnings({ users })).toEqual([expect.stringContaining('4 tasks × (2 users × 20 + 5 as last-resort reader + 4 monitor) + 1 bootstrap = 197 connections')]);
  });

  test('the most users that fit in the task definition beside the default rules', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ username: `user${i}`, schema: 'app' }));
    expect(() => auroraProxy({ users: many(10) })).not.toThrow();
    expect(() => auroraProxy({ users: many(20) })).toThrow(/over the 32 KiB .* fewer users/);
  });
});

describe('mysqlVariables that weaken TLS or log what clients send (issue 18)', () => {
  test.each([
    ['ssl_p2s_ca', '/etc/ssl/other.pem', /ProxySqlServiceProps\.mysqlVariables\.ssl_p2s_ca: set by the construct \(set backendCa instead/],
    ['ssl_p2s_capath', '/etc/ssl', /ProxySqlServiceProps\.mysqlVariables\.ssl_p2s_capath: set by the construct \(set backendCa instead/],
    ['auto_increment_delay_multiplex', 5, /mysqlVariables\.auto_increment_delay_multiplex: set by the construct \(set keepConnectionForLastInsertId instead/],
  ])('%s is refused, naming the prop that sets it', (name, value, message) => {
    expect(() => auroraProxy({ mysqlVariables: { [name]: value } })).toThrow(message);
  });

  test('query logging and a cipher list are accepted with a warning naming the variable; turning logging off is not warned about', () => {
    const { stack } = auroraProxy({ mysqlVariables: { eventslog_filename: 'queries.log', auditlog_filename: 'audit.log', ssl_p2s_cipher: 'AES128-SHA', eventslog_default_log: 0 } });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('riskyMysqlVariable')).map((w) => String(w.entry.data));
    expect(warnings).toHaveLength(3);
    expect(warnings.join('\n')).toMatch(/ProxySqlServiceProps\.mysqlVariables\.eventslog_filename: logs every client statement's text, data values included/);
    expect(warnings.join('\n')).toMatch(/mysqlVariables\.auditlog_filename: logs every client login/);
    expect(warnings.join('\n')).toMatch(/mysqlVariables\.ssl_p2s_cipher: restricts the ciphers of TLS to the database/);
    expect(warnings.join('\n')).not.toMatch(/eventslog_default_log/);
  });
});
