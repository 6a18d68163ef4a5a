import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it, test } from 'vitest';
import { DemoApi, DemoApiProps } from '../src/demo-api';
import { givenStack } from './support/stack';

const HOST = 'proxysql-nlb-0123456789.elb.us-east-1.amazonaws.com';

describe('DemoApi', () => {
  let app: App;
  let stack: Stack;
  let vpc: ec2.Vpc;
  let secret: secretsmanager.Secret;
  let otherSecret: secretsmanager.Secret;
  let demo: DemoApi;
  let template: Template;

  beforeAll(() => {
    // GIVEN a VPC, the app user's secret and an unrelated secret
    ({ app, stack, vpc } = givenStack());
    secret = new secretsmanager.Secret(stack, 'AppUser');
    otherSecret = new secretsmanager.Secret(stack, 'Other');
    // WHEN the demo is added (esbuild bundles the handler locally)
    demo = new DemoApi(stack, 'Demo', { vpc, proxyHostname: HOST, userSecret: secret, databaseName: 'app' });
    template = Template.fromStack(stack);
  });

  it('runs the handler on the pinned runtime and architecture, in the private subnets, with its own security group', () => {
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 10,
      MemorySize: 256,
      VpcConfig: {
        SubnetIds: vpc.privateSubnets.map((s) => stack.resolve(s.subnetId)),
        SecurityGroupIds: [stack.resolve(demo.securityGroup.securityGroupId)],
      },
    });
    expect(demo.connections.securityGroups).toEqual([demo.securityGroup]);
  });

  it('passes the endpoint, schema and secret ARN in the environment, and no password', () => {
    // THEN the environment is exactly this: the secret appears as its ARN (a Ref), never as a value
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectEquals({
          DB_HOST: HOST,
          DB_PORT: '3306',
          DB_NAME: 'app',
          DB_SECRET_ARN: stack.resolve(secret.secretArn),
          POWERTOOLS_SERVICE_NAME: 'serverless-proxysql-demo',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        }),
      },
    });
    const fnJson = JSON.stringify(template.findResources('AWS::Lambda::Function'));
    expect(fnJson).not.toMatch(/resolve:secretsmanager|SecretString|password/i);
  });

  it('allows no egress but HTTPS until the proxy grants its port', () => {
    // THEN
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('demo API'),
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() }],
    });
  });

  it('lets the function read that one secret and no other', () => {
    // THEN
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [stack.resolve((demo.function.role!.node.defaultChild as iam.CfnRole).ref)] },
    });
    const statements = Object.values(policies).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } } }).Properties.PolicyDocument.Statement,
    );
    const secretStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    expect(secretStatements).toEqual([
      expect.objectContaining({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: stack.resolve(secret.secretArn) }),
    ]);
    expect(JSON.stringify(statements)).not.toContain(JSON.stringify(stack.resolve(otherSecret.secretArn)));
  });

  it('routes GET /items, POST /items and GET /whoami, and nothing else, to the function', () => {
    // THEN
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => (r as { Properties: { RouteKey: string } }).Properties.RouteKey,
    );
    expect(routes.sort()).toEqual(['GET /items', 'GET /whoami', 'POST /items']);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: stack.resolve((demo.function as { functionArn: string }).functionArn),
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
    });
  });

  it('deploys a throttled $default stage with JSON access logs in a log group with retention', () => {
    // THEN
    const accessLogGroups = template.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 } });
    expect(Object.keys(accessLogGroups)).toHaveLength(2); // the function's and the API's
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DemoAccessLogs'), 'Arn'] },
        Format: Match.serializedJson(Match.objectLike({ requestId: '$context.requestId', status: '$context.status' })),
      },
    });
    expect(stack.resolve(demo.url)).toEqual({
      'Fn::Join': ['', ['https://', stack.resolve(demo.api.apiId), '.execute-api.us-east-1.', { Ref: 'AWS::URLSuffix' }, '/']],
    });
  });

  it('bundles the handler with mysql2 and Powertools, and without the AWS SDK (the runtime has it)', () => {
    // THEN the asset esbuild wrote holds one index.js
    const assembly = app.synth();
    const bundles = fs
      .readdirSync(assembly.directory)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => path.join(assembly.directory, d, 'index.js'))
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.readFileSync(f, 'utf8'));
    const demoBundle = bundles.find((b) => b.includes('DB_SECRET_ARN'));
    expect(demoBundle).toBeDefined();
    expect(demoBundle).toMatch(/mysql_native_password/); // mysql2's auth code
    expect(demoBundle).toMatch(/POWERTOOLS_LOG_LEVEL/); // Powertools Logger
    expect(demoBundle).toMatch(/require\("@aws-sdk\/client-secrets-manager"\)/);
  });
});

describe('DemoApi with deploy-time values', () => {
  it('accepts a token hostname and port (the proxy load balancer) and passes them through', () => {
    // GIVEN a stack whose bundling is skipped (this test is about the template only)
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Tokens', { env: { account: '111111111111', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const nlb = new elbv2.NetworkLoadBalancer(stack, 'Nlb', { vpc });
    const port = new CfnParameter(stack, 'ProxyPort', { type: 'Number', default: 3306 });
    // WHEN
    new DemoApi(stack, 'Demo', {
      vpc,
      proxyHostname: nlb.loadBalancerDnsName,
      proxyPort: port.valueAsNumber,
      userSecret: new secretsmanager.Secret(stack, 'S'),
      databaseName: 'app',
    });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DB_HOST: stack.resolve(nlb.loadBalancerDnsName), DB_PORT: { Ref: 'ProxyPort' } }) },
    });
  });
});

describe('DemoApi validation', () => {
  function props(overrides: Partial<DemoApiProps>): { stack: Stack; props: DemoApiProps } {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Invalid');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'i', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    return {
      stack,
      props: { vpc, proxyHostname: HOST, userSecret: new secretsmanager.Secret(stack, 'S'), databaseName: 'app', ...overrides },
    };
  }

  test.each<[string, Partial<DemoApiProps>, RegExp]>([
    ['an empty hostname', { proxyHostname: '' }, /DemoApiProps\.proxyHostname: is empty/],
    ['a URL as hostname', { proxyHostname: 'mysql://proxy.internal' }, /DemoApiProps\.proxyHostname: 'mysql:\/\/proxy\.internal' is not a DNS name/],
    ['a host:port as hostname', { proxyHostname: 'proxy.internal:3306' }, /DemoApiProps\.proxyHostname: .* without scheme, port/],
    ['a hostname with a space', { proxyHostname: 'proxy internal' }, /DemoApiProps\.proxyHostname/],
    ['port 0', { proxyPort: 0 }, /DemoApiProps\.proxyPort: 0 is not a TCP port/],
    ['port 70000', { proxyPort: 70000 }, /DemoApiProps\.proxyPort: 70000 is not a TCP port/],
    ['a fractional port', { proxyPort: 3306.5 }, /DemoApiProps\.proxyPort: 3306\.5 is not a TCP port/],
    ['an empty database name', { databaseName: '' }, /DemoApiProps\.databaseName: '' is not a valid schema name/],
    ['a database name with a hyphen', { databaseName: 'my-app' }, /DemoApiProps\.databaseName: 'my-app' is not a valid schema name/],
    ['a 65-character database name', { databaseName: 'd'.repeat(65) }, /DemoApiProps\.databaseName/],
  ])('rejects %s, naming the prop', (_label, overrides, message) => {
    // GIVEN
    const { stack, props: p } = props(overrides);
    // WHEN / THEN
    expect(() => new DemoApi(stack, 'Demo', p)).toThrow(message);
  });

  it('accepts the valid edge values', () => {
    const { stack, props: p } = props({ proxyPort: 65535, databaseName: 'd'.repeat(64), proxyHostname: 'a.b' });
    expect(() => new DemoApi(stack, 'Demo', { ...p, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } })).not.toThrow();
  });
});

describe('DemoApi authorization', () => {
  test('routes require IAM (SigV4) by default', () => {
    const { stack, vpc } = givenStack();
    new DemoApi(stack, 'Demo', { vpc, proxyHostname: 'proxy.internal', userSecret: new secretsmanager.Secret(stack, 'S'), databaseName: 'app' });
    const routes = Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Route');
    expect(Object.values(routes).map((r) => (r as { Properties: { AuthorizationType: string } }).Properties.AuthorizationType)).toEqual(['AWS_IAM', 'AWS_IAM', 'AWS_IAM']);
  });

  test("'none' leaves the routes open", () => {
    const { stack, vpc } = givenStack();
    new DemoApi(stack, 'Demo', { vpc, proxyHostname: 'proxy.internal', userSecret: new secretsmanager.Secret(stack, 'S'), databaseName: 'app', authorization: 'none' });
    const routes = Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Route');
    expect(Object.values(routes).map((r) => (r as { Properties: { AuthorizationType?: string } }).Properties.AuthorizationType ?? 'NONE')).toEqual(['NONE', 'NONE', 'NONE']);
  });

  test('an unknown authorization is rejected naming the prop', () => {
    const { stack, vpc } = givenStack();
    expect(
      () => new DemoApi(stack, 'Demo', { vpc, proxyHostname: 'proxy.internal', userSecret: new secretsmanager.Secret(stack, 'S'), databaseName: 'app', authorization: 'cognito' as never }),
    ).toThrow(/DemoApiProps\.authorization/);
  });
});
