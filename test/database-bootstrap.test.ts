import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it, test } from 'vitest';
import { DatabaseBootstrap, DatabaseBootstrapProps } from '../src/database-bootstrap';
import { ProxySqlBackend } from '../src/proxysql-backend';
import { ProxySqlService } from '../src/proxysql-service';
import { givenAuroraCluster, givenStack } from './support/stack';

interface Fixture {
  stack: Stack;
  vpc: ec2.Vpc;
  dbSg: ec2.SecurityGroup;
  props: DatabaseBootstrapProps;
}

function fixture(): Fixture {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const dbSg = new ec2.SecurityGroup(stack, 'DbSg', { vpc, allowAllOutbound: false });
  const database: ec2.IConnectable = { connections: new ec2.Connections({ securityGroups: [dbSg] }) };
  const secret = (id: string) => new secretsmanager.Secret(stack, id);
  const props: DatabaseBootstrapProps = {
    vpc,
    endpoint: { hostname: 'db.cluster-abc.eu-west-1.rds.amazonaws.com', port: 3306 },
    database,
    adminSecret: secret('Admin'),
    monitorUsername: 'proxysql_monitor',
    monitorSecret: secret('Monitor'),
    users: [
      { username: 'app', secret: secret('App'), schema: 'app', privileges: ['ALL PRIVILEGES'] },
      { username: 'reporting', secret: secret('Reporting'), schema: 'reports', privileges: ['SELECT'] },
    ],
  };
  return { stack, vpc, dbSg, props };
}

describe('DatabaseBootstrap', () => {
  let template: Template;
  let f: Fixture;
  let bootstrap: DatabaseBootstrap;

  beforeAll(() => {
    // GIVEN a VPC, a database security group and four secrets
    f = fixture();
    // WHEN the bootstrap is added (esbuild bundles the handler locally, offline)
    bootstrap = new DatabaseBootstrap(f.stack, 'Bootstrap', f.props);
    template = Template.fromStack(f.stack);
  });

  it('runs the bundled handler in the VPC private subnets, on the pinned runtime, with a timeout above the wait', () => {
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 720,
      VpcConfig: {
        SubnetIds: f.vpc.privateSubnets.map((s) => f.stack.resolve(s.subnetId)),
        SecurityGroupIds: [f.stack.resolve(bootstrap.securityGroup.securityGroupId)],
      },
    });
  });

  it('gives the Lambda security group egress only to the database port and HTTPS', () => {
    // THEN no allow-all egress, and exactly two egress rules: 3306 to the database SG, 443
    const sgs = template.findResources('AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: Match.stringLikeRegexp('database bootstrap') },
    });
    const [sg] = Object.values(sgs);
    expect(sg.Properties.SecurityGroupEgress).toEqual([
      { CidrIp: '0.0.0.0/0', Description: 'Secrets Manager API (HTTPS)', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 },
    ]);
    const sgLogicalId = Object.keys(sgs)[0];
    const egress = template.findResources('AWS::EC2::SecurityGroupEgress', {
      Properties: { GroupId: { 'Fn::GetAtt': [sgLogicalId, 'GroupId'] } },
    });
    expect(Object.values(egress).map((r) => r.Properties)).toEqual([
      expect.objectContaining({
        FromPort: 3306,
        ToPort: 3306,
        IpProtocol: 'tcp',
        DestinationSecurityGroupId: f.stack.resolve(f.dbSg.securityGroupId),
      }),
    ]);
  });

  it('opens the database security group to the Lambda on the database port only', () => {
    template.resourcePropertiesCountIs(
      'AWS::EC2::SecurityGroupIngress',
      { GroupId: f.stack.resolve(f.dbSg.securityGroupId) },
      1,
    );
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: f.stack.resolve(f.dbSg.securityGroupId),
      SourceSecurityGroupId: f.stack.resolve(bootstrap.securityGroup.securityGroupId),
      FromPort: 3306,
      ToPort: 3306,
    });
  });

  it('lets the Lambda read exactly the four secrets', () => {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [f.stack.resolve(bootstrap.function.role!.roleName)] },
    });
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
    const getSecret = statements.filter((s) => ([] as unknown[]).concat(s.Action).includes('secretsmanager:GetSecretValue'));
    const resources = getSecret.flatMap((s) => ([] as unknown[]).concat(s.Resource));
    const expected = [f.props.adminSecret, f.props.monitorSecret, ...f.props.users.map((u) => u.secret)].map((s) => f.stack.resolve(s.secretArn));
    expect(resources).toHaveLength(4);
    expect(resources).toEqual(expect.arrayContaining(expected));
  });

  it('passes endpoint, secret ARNs and users to the custom resource, never a secret value', () => {
    template.hasResourceProperties('Custom::ProxySqlDatabaseBootstrap', {
      ServiceToken: Match.anyValue(),
      DatabaseHost: 'db.cluster-abc.eu-west-1.rds.amazonaws.com',
      DatabasePort: '3306',
      AdminSecretArn: f.stack.resolve(f.props.adminSecret.secretArn),
      MonitorUsername: 'proxysql_monitor',
      MonitorSecretArn: f.stack.resolve(f.props.monitorSecret.secretArn),
      DropUsersOnDelete: 'false',
      WaitForDatabaseMs: '600000',
      Ssl: 'true',
      Users: Match.anyValue(),
    });
    const json = JSON.stringify(template.toJSON());
    // No dynamic reference (which would put a secret value into a resource property), only ARNs.
    expect(json).not.toContain('{{resolve:secretsmanager');
    const [resource] = Object.values(template.findResources('Custom::ProxySqlDatabaseBootstrap'));
    const users = JSON.stringify(resource.Properties.Users);
    for (const part of ['"username\\":\\"app\\"', '"schema\\":\\"reports\\"', 'ALL PRIVILEGES', f.stack.resolve(f.props.users[0].secret.secretArn).Ref]) {
      expect(users).toContain(part);
    }
  });

  it('sets dropUsersOnDelete, waitForDatabase (and the Lambda timeout) and revision', () => {
    // GIVEN
    const g = fixture();
    // WHEN
    new DatabaseBootstrap(g.stack, 'Bootstrap', { ...g.props, dropUsersOnDelete: true, waitForDatabase: Duration.minutes(3), revision: 'r2' });
    // THEN
    const t = Template.fromStack(g.stack);
    t.hasResourceProperties('Custom::ProxySqlDatabaseBootstrap', { DropUsersOnDelete: 'true', WaitForDatabaseMs: '180000', Revision: 'r2' });
    t.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Timeout: 300 });
  });
});

describe('DatabaseBootstrap validation', () => {
  type Mutation = (p: DatabaseBootstrapProps) => DatabaseBootstrapProps;
  const user0 = (p: DatabaseBootstrapProps, change: object) => ({ ...p, users: [{ ...p.users[0], ...change }, ...p.users.slice(1)] });
  it.each<[string, Mutation, RegExp]>([
    ['bad user name', (p) => user0(p, { username: 'x-y' }), /^DatabaseBootstrapProps\.users\[0\]\.username: 'x-y' is not a valid user name/],
    ['reserved user name', (p) => user0(p, { username: 'root' }), /^DatabaseBootstrapProps\.users\[0\]\.username: 'root' is reserved/],
    ['user named like the monitor', (p) => user0(p, { username: 'proxysql_monitor' }), /^DatabaseBootstrapProps\.users\[0\]\.username: 'proxysql_monitor' is the monitor user's name/],
    ['duplicate user', (p) => ({ ...p, users: [p.users[0], { ...p.users[1], username: 'app' }] }), /^DatabaseBootstrapProps\.users\[1\]\.username: 'app' is already used by DatabaseBootstrapProps\.users\[0\]\.username/],
    ['bad schema', (p) => user0(p, { schema: 'my-db' }), /^DatabaseBootstrapProps\.users\[0\]\.schema: 'my-db' is not a valid schema name/],
    ['no privileges', (p) => user0(p, { privileges: [] }), /^DatabaseBootstrapProps\.users\[0\]\.privileges: is empty/],
    ['unknown privilege', (p) => user0(p, { privileges: ['SELECT', 'SUPER'] }), /^DatabaseBootstrapProps\.users\[0\]\.privileges\[1\]: 'SUPER' is not an allowed schema privilege/],
    ['bad monitor name', (p) => ({ ...p, monitorUsername: 'mon itor' }), /^DatabaseBootstrapProps\.monitorUsername: 'mon itor' is not a valid user name/],
    ['bad port', (p) => ({ ...p, endpoint: { ...p.endpoint, port: 70000 } }), /^DatabaseBootstrapProps\.endpoint\.port: 70000 is not a TCP port/],
    ['empty hostname', (p) => ({ ...p, endpoint: { ...p.endpoint, hostname: ' ' } }), /^DatabaseBootstrapProps\.endpoint\.hostname: is empty/],
    ['too long a wait', (p) => ({ ...p, waitForDatabase: Duration.minutes(20) }), /^DatabaseBootstrapProps\.waitForDatabase: 20 minutes is out of range/],
  ])('rejects a %s, naming the prop and the fix', (_name, mutate, message) => {
    // GIVEN
    const g = fixture();
    // WHEN / THEN
    expect(() => new DatabaseBootstrap(g.stack, 'Bootstrap', mutate(g.props))).toThrow(message);
  });
});

describe('DatabaseBootstrap ordering', () => {
  test('waits for the writer instance and the security-group rules it needs, and is deleted before them', () => {
    const { stack, vpc } = givenStack();
    const cluster = givenAuroraCluster(stack, vpc);
    new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(cluster) });
    const template = Template.fromStack(stack);
    const [[, bootstrap]] = Object.entries(template.findResources('Custom::ProxySqlDatabaseBootstrap'));
    const dependsOn = new Set(bootstrap.DependsOn as string[]);
    const ids = (type: string) => Object.keys(template.findResources(type));
    // every Aurora instance of the cluster
    const instances = ids('AWS::RDS::DBInstance');
    expect(instances.length).toBeGreaterThan(0);
    for (const id of instances) expect(dependsOn).toContain(id);
    // the ingress rule on the database's security group that lets the bootstrap function in, and its own egress rules
    const ingress = Object.entries(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(([, r]) =>
      /bootstrap/i.test(String(r.Properties.Description)),
    );
    expect(ingress.length).toBeGreaterThan(0);
    for (const [id] of ingress) expect(dependsOn).toContain(id);
    const egress = Object.entries(template.findResources('AWS::EC2::SecurityGroupEgress')).filter(([, r]) =>
      /bootstrap/i.test(String(r.Properties.Description)) || /Bootstrap/.test(JSON.stringify(r.Properties.GroupId)),
    );
    for (const [id] of egress) expect(dependsOn).toContain(id);
  });
});

describe('DatabaseBootstrap TLS follows the backend (it was always TLS with the RDS CAs), and with TLS the application users must use it (RequireSsl)', () => {
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----';
  const tlsProps = (stack: Stack) => {
    const [resource] = Object.values(Template.fromStack(stack).findResources('Custom::ProxySqlDatabaseBootstrap'));
    const { Ssl, SslCa, RequireSsl } = resource.Properties as { Ssl: string; SslCa?: string; RequireSsl: string };
    return { Ssl, SslCa, RequireSsl };
  };

  it.each<[string, Partial<DatabaseBootstrapProps>, { Ssl: string; SslCa?: string; RequireSsl: string }]>([
    ['RDS by default: verified against the RDS CAs', {}, { Ssl: 'true', SslCa: undefined, RequireSsl: 'true' }],
    ['backendTls false: clear text', { backendTls: false }, { Ssl: 'false', SslCa: undefined, RequireSsl: 'false' }],
    ['backendCa: verified against it', { backendCa: `${PEM}\n` }, { Ssl: 'custom-ca', SslCa: PEM, RequireSsl: 'true' }],
    ['a server outside RDS without a CA: encrypted, unverified', { rdsManaged: false }, { Ssl: 'unverified', SslCa: undefined, RequireSsl: 'true' }],
  ])('%s', (_label, extra, expected) => {
    const g = fixture();
    new DatabaseBootstrap(g.stack, 'Bootstrap', { ...g.props, ...extra });
    expect(tlsProps(g.stack)).toEqual(expected);
  });

  it.each<[string, Partial<DatabaseBootstrapProps>, RegExp]>([
    ['a CA with TLS off', { backendCa: PEM, backendTls: false }, /^DatabaseBootstrapProps\.backendCa: set with backendTls false/],
    ['a CA that is not PEM', { backendCa: 'hello' }, /^DatabaseBootstrapProps\.backendCa: must be PEM text/],
  ])('refuses %s, naming the prop', (_label, extra, message) => {
    const g = fixture();
    expect(() => new DatabaseBootstrap(g.stack, 'Bootstrap', { ...g.props, ...extra })).toThrow(message);
  });

  function endpointsService(extra: Record<string, unknown>, hostname = 'db.example.internal'): Stack {
    const { stack, vpc } = givenStack();
    new ProxySqlService(stack, 'Proxy', {
      vpc,
      backend: ProxySqlBackend.endpoints({
        writer: { hostname },
        databaseConnections: new ec2.SecurityGroup(stack, 'Db', { vpc }),
        adminSecret: new secretsmanager.Secret(stack, 'Admin'),
      }),
      ...extra,
    });
    return stack;
  }

  it.each<[string, () => Stack, { Ssl: string; SslCa?: string; RequireSsl: string }]>([
    ['Aurora: the RDS CAs', () => {
      const { stack, vpc } = givenStack();
      new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(givenAuroraCluster(stack, vpc)) });
      return stack;
    }, { Ssl: 'true', SslCa: undefined, RequireSsl: 'true' }],
    ['RDS for MySQL endpoints: the RDS CAs', () => endpointsService({}, 'orders.abc123.eu-west-1.rds.amazonaws.com'), { Ssl: 'true', SslCa: undefined, RequireSsl: 'true' }],
    ['endpoints outside RDS: unverified, as ProxySQL connects', () => endpointsService({}), { Ssl: 'unverified', SslCa: undefined, RequireSsl: 'true' }],
    ['backendTls false: clear text, as ProxySQL connects', () => endpointsService({ backendTls: false }), { Ssl: 'false', SslCa: undefined, RequireSsl: 'false' }],
    ['backendCa: the same CA as ProxySQL', () => endpointsService({ backendCa: PEM }), { Ssl: 'custom-ca', SslCa: PEM, RequireSsl: 'true' }],
  ])('ProxySqlService passes its backend TLS on: %s', (_label, make, expected) => {
    expect(tlsProps(make())).toEqual(expected);
  });
});
