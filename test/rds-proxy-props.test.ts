// The props named after rds.DatabaseProxy's (issue 20, item 4): each renders its ProxySQL setting, and each bad
// input is refused naming the construct, the prop and why. The table of every DatabaseProxy prop is in
// docs/architecture.md, "From RDS Proxy".
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, test } from 'vitest';
import { ProxySqlBackend } from '../src/proxysql-backend';
import { ProxySqlService, ProxySqlServiceProps } from '../src/proxysql-service';
import { givenAuroraCluster, givenClientFunction, givenStack, renderedConfig } from './support/stack';

function auroraProxy(extra: (stack: Stack, vpc: ec2.IVpc) => Partial<ProxySqlServiceProps> = () => ({})) {
  const { stack, vpc } = givenStack();
  const cluster = givenAuroraCluster(stack, vpc);
  const proxy = new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), ...extra(stack, vpc) });
  return { stack, vpc, proxy, template: Template.fromStack(stack) };
}

function variables(template: Template): Record<string, unknown> {
  return renderedConfig(template).mysql_variables as Record<string, unknown>;
}

describe('RDS Proxy knobs render their ProxySQL settings', () => {
  test('defaults: a 10 s borrow timeout, idle sessions closed after 340 s, no init query, generated names', () => {
    const { template } = auroraProxy();
    expect(variables(template)).toMatchObject({ connect_timeout_server_max: 10000, wait_timeout: 340000 });
    expect(variables(template)).not.toHaveProperty('init_connect');
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Name: Match.absent() });
    template.hasResourceProperties('AWS::ECS::Service', { ServiceName: Match.absent() });
  });

  test('borrowTimeout → mysql-connect_timeout_server_max, idleClientTimeout → mysql-wait_timeout, initQuery → mysql-init_connect', () => {
    const { template } = auroraProxy(() => ({
      borrowTimeout: Duration.minutes(2),
      idleClientTimeout: Duration.seconds(60),
      initQuery: "SET SESSION innodb_lock_wait_timeout=5; SET SESSION sql_mode='STRICT_ALL_TABLES'",
    }));
    expect(variables(template)).toMatchObject({
      connect_timeout_server_max: 120000,
      wait_timeout: 60000,
      init_connect: "SET SESSION innodb_lock_wait_timeout=5; SET SESSION sql_mode='STRICT_ALL_TABLES'",
    });
  });

  test('the longest idleClientTimeout, 340 s, is taken', () => {
    const { template } = auroraProxy(() => ({ idleClientTimeout: Duration.seconds(340) }));
    expect(variables(template)).toMatchObject({ wait_timeout: 340000 });
  });

  test('proxyName names the load balancer and the ECS service', () => {
    const { template } = auroraProxy(() => ({ proxyName: 'orders-proxy' }));
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Name: 'orders-proxy' });
    template.hasResourceProperties('AWS::ECS::Service', { ServiceName: 'orders-proxy' });
  });

  test('securityGroups are the load balancer’s: egress to the tasks, and grantConnect opens them to the client', () => {
    const { stack, vpc } = givenStack();
    const cluster = givenAuroraCluster(stack, vpc);
    const clientSide = new ec2.SecurityGroup(stack, 'ClientSide', { vpc, allowAllOutbound: false });
    const proxy = new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster), securityGroups: [clientSide] });
    const client = givenClientFunction(stack, vpc);
    proxy.grantConnect(client);
    const template = Template.fromStack(stack);
    const groupId = stack.resolve(clientSide.securityGroupId);
    expect(proxy.connections.securityGroups).toEqual([clientSide]);
    // no load balancer security group of our own
    expect(template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('^ProxySQL NLB') } })).toEqual({});
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { SecurityGroups: [groupId] });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { GroupId: groupId, FromPort: 6033, ToPort: 6033 });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { SourceSecurityGroupId: groupId, FromPort: 6033, ToPort: 6033 });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { GroupId: groupId, FromPort: 3306, ToPort: 3306 });
  });
});

describe('RDS Proxy knobs: bad inputs are refused naming the prop', () => {
  const cases: Array<[string, (stack: Stack, vpc: ec2.IVpc) => Partial<ProxySqlServiceProps>, string]> = [
    ['borrowTimeout of 0', () => ({ borrowTimeout: Duration.seconds(0) }), 'ProxySqlServiceProps.borrowTimeout: must be a whole number of seconds from 1 to 3600, got 0'],
    ['borrowTimeout over an hour', () => ({ borrowTimeout: Duration.hours(2) }), 'ProxySqlServiceProps.borrowTimeout: must be a whole number of seconds from 1 to 3600, got 7200'],
    ['sub-second borrowTimeout', () => ({ borrowTimeout: Duration.millis(2500) }), 'ProxySqlServiceProps.borrowTimeout: 2 seconds 500 millis must be a whole number of seconds'],
    [
      'idleClientTimeout past the NLB',
      () => ({ idleClientTimeout: Duration.minutes(30) }),
      "ProxySqlServiceProps.idleClientTimeout: must be a whole number of seconds from 1 to 340, got 1800: the load balancer drops a TCP flow idle for 350 s without telling either end, so ProxySQL must close an idle session first (10 s earlier, for its idle-session pass); a client wanting longer idle sessions sends a keepalive query",
    ],
    ['idleClientTimeout 345 s, under the NLB but inside the margin', () => ({ idleClientTimeout: Duration.seconds(345) }), 'ProxySqlServiceProps.idleClientTimeout: must be a whole number of seconds from 1 to 340, got 345: the load balancer drops'],
    ['idleClientTimeout of 0', () => ({ idleClientTimeout: Duration.seconds(0) }), 'ProxySqlServiceProps.idleClientTimeout: must be a whole number of seconds from 1 to 340, got 0'],
    [
      'initQuery with a double quote',
      () => ({ initQuery: 'SET time_zone="+00:00"' }),
      "ProxySqlServiceProps.initQuery: must not contain a double quote, a line break, '{{secret:' or '{{param:' (ProxySQL's config loader splices it into SQL between double quotes, unescaped): quote strings in it with single quotes",
    ],
    ['initQuery with a line break', () => ({ initQuery: 'SET a=1;\nSET b=2' }), 'ProxySqlServiceProps.initQuery: must not contain a double quote, a line break'],
    ['empty initQuery', () => ({ initQuery: ' ' }), 'ProxySqlServiceProps.initQuery: is empty: leave it out for no init query'],
    [
      'a prop and its variable in mysqlVariables',
      () => ({ idleClientTimeout: Duration.seconds(60), mysqlVariables: { wait_timeout: 30000 } }),
      'ProxySqlServiceProps.mysqlVariables.wait_timeout: set by idleClientTimeout as well; keep idleClientTimeout and remove it from mysqlVariables',
    ],
    ['initQuery and init_connect', () => ({ initQuery: 'SET a=1', mysqlVariables: { init_connect: 'SET b=1' } }), 'ProxySqlServiceProps.mysqlVariables.init_connect: set by initQuery as well'],
    ['no security groups', () => ({ securityGroups: [] }), 'ProxySqlServiceProps.securityGroups: a load balancer takes 1 to 5 security groups, got 0; leave it out for a new one'],
    [
      'six security groups',
      (s, vpc) => ({ securityGroups: [1, 2, 3, 4, 5, 6].map((i) => new ec2.SecurityGroup(s, `Sg${i}`, { vpc })) }),
      'ProxySqlServiceProps.securityGroups: a load balancer takes 1 to 5 security groups, got 6',
    ],
    [
      'proxyName too long',
      () => ({ proxyName: 'a'.repeat(33) }),
      `ProxySqlServiceProps.proxyName: '${'a'.repeat(33)}' is not a valid name: use 1-32 letters, digits and hyphens, not starting or ending with a hyphen and not starting with 'internal-' (the load balancer's name rules)`,
    ],
    ['proxyName ending with a hyphen', () => ({ proxyName: 'orders-' }), "ProxySqlServiceProps.proxyName: 'orders-' is not a valid name"],
    ['proxyName with an underscore', () => ({ proxyName: 'orders_proxy' }), "ProxySqlServiceProps.proxyName: 'orders_proxy' is not a valid name"],
    ['proxyName starting with internal-', () => ({ proxyName: 'internal-orders' }), "ProxySqlServiceProps.proxyName: 'internal-orders' is not a valid name"],
    ['empty proxyName', () => ({ proxyName: '' }), "ProxySqlServiceProps.proxyName: '' is not a valid name"],
  ];

  test.each(cases)('%s', (_name, makeProps, message) => {
    expect(() => auroraProxy(makeProps)).toThrow(`TestStack/Proxy: ${message}`);
  });

  test('the longest valid proxyName is taken', () => {
    const { template } = auroraProxy(() => ({ proxyName: `a${'-'.repeat(30)}b` }));
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Name: `a${'-'.repeat(30)}b` });
  });
});

describe('docs/architecture.md, "From RDS Proxy", maps every rds.DatabaseProxy prop', () => {
  /** The props of DatabaseProxyOptions and DatabaseProxyProps in the installed aws-cdk-lib's declarations. */
  function databaseProxyProps(): string[] {
    const dts = fs.readFileSync(path.join(path.dirname(require.resolve('aws-cdk-lib/package.json')), 'aws-rds', 'lib', 'proxy.d.ts'), 'utf8');
    return ['DatabaseProxyOptions', 'DatabaseProxyProps'].flatMap((name) => {
      const body = new RegExp(`export interface ${name}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`).exec(dts)?.[1];
      if (body === undefined) throw new Error(`no interface ${name} in proxy.d.ts`);
      return [...body.matchAll(/^ {4}readonly (\w+)\??:/gm)].map((m) => m[1]);
    });
  }

  test('each prop is in the first column of the table', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'architecture.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## From RDS Proxy'));
    const firstColumn = section
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .flatMap((line) => [...line.split('|')[1].matchAll(/`(\w+)/g)].map((m) => m[1]));
    const props = databaseProxyProps();
    expect(props).toEqual(expect.arrayContaining(['borrowTimeout', 'idleClientTimeout', 'initQuery', 'requireTLS', 'securityGroups', 'dbProxyName', 'proxyTarget']));
    expect(props.filter((p) => !firstColumn.includes(p))).toEqual([]);
  });
});
