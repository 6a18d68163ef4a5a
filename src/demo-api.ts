import { Duration, RemovalPolicy, Tokenization } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { hostProblem, portProblem, schemaProblem } from './config/rules';
import { checkProp } from './prop-rules';
import { DEMO_ENV } from './config/demo-env';
import { CLIENT_PORT } from './constants';
import { acknowledge } from './nag';
import { newLibraryFunction } from './library-function';

export interface DemoApiProps {
  readonly vpc: ec2.IVpc;
  /** @default private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The ProxySQL endpoint DNS name (may be a token, e.g. the service's load balancer DNS name). */
  readonly proxyHostname: string;
  /** @default 3306 */
  readonly proxyPort?: number;
  /** The application user's credentials as JSON `{"username": …, "password": …}`; the function reads it at run time. */
  readonly userSecret: secretsmanager.ISecret;
  /** The schema the demo's `items` table lives in (created by the function on first use if absent). */
  readonly databaseName: string;
  /**
   * Who may call the API.
   * @default DemoApiAuthorization.IAM
   */
  readonly authorization?: DemoApiAuthorization;
  /**
   * Where the function's HTTPS (Secrets Manager) may go: e.g. the security group of a Secrets Manager interface
   * endpoint, or the VPC's CIDR when every AWS API it needs has an endpoint.
   * @default - any IPv4 address: Secrets Manager may be reached through a NAT gateway
   */
  readonly httpsEgress?: ec2.IPeer;
}

/** Who may call the demo API. */
export enum DemoApiAuthorization {
  /** SigV4-signed requests from principals allowed `execute-api:Invoke` (e.g. `awscurl --service execute-api <url>whoami`). */
  IAM = 'iam',
  /** Anyone who knows the URL (the stage is throttled). */
  NONE = 'none',
}

/** Default throttling of the API's stage: a public demo endpoint must not be able to run up the bill. */
const THROTTLE = { burstLimit: 100, rateLimit: 50 };

const PROPS = 'DemoApiProps';

function validate(props: DemoApiProps): void {
  checkProp(`${PROPS}.proxyHostname`, props.proxyHostname, hostProblem);
  if (props.proxyPort !== undefined) checkProp(`${PROPS}.proxyPort`, props.proxyPort, portProblem);
  checkProp(`${PROPS}.databaseName`, props.databaseName, schemaProblem);
}

/**
 * A small HTTP API (API Gateway HTTP API → Lambda in the VPC) that uses the proxy: `POST /items` writes,
 * `GET /items` reads, `GET /whoami` shows which backend served a read and a write.
 *
 * The function's security group allows no egress but HTTPS (Secrets Manager); let it reach the proxy with
 * `proxySqlService.grantConnect(demo.function)`.
 */
export class DemoApi extends Construct implements ec2.IConnectable {
  /** The handler (a NodejsFunction). */
  readonly function: lambda.IFunction;
  readonly api: apigwv2.HttpApi;
  /** The API's base URL (`https://{api-id}.execute-api.{region}.amazonaws.com/`). */
  readonly url: string;
  /** The function's security group (no egress but HTTPS until the proxy grants it). */
  readonly securityGroup: ec2.ISecurityGroup;
  readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: DemoApiProps) {
    super(scope, id);
    validate(props);
    const port = props.proxyPort ?? CLIENT_PORT;

    const fn = newLibraryFunction(this, 'Function', {
      asset: 'demo',
      description: 'serverless-proxysql demo API: items through ProxySQL, and which backend served them',
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroupDescription: 'ProxySQL demo API Lambda: HTTPS (Secrets Manager) and, once granted, the proxy port',
      httpsEgress: props.httpsEgress,
      // Covers the handler's worst case: 3 connection attempts of 2 s each plus backoff, or a 5 s statement.
      timeout: Duration.seconds(10),
      environment: {
        [DEMO_ENV.host]: props.proxyHostname,
        [DEMO_ENV.port]: Tokenization.stringifyNumber(port),
        [DEMO_ENV.database]: props.databaseName,
        // The ARN only: the function reads the secret itself, so the password is in no template or env var.
        [DEMO_ENV.secretArn]: props.userSecret.secretArn,
        POWERTOOLS_SERVICE_NAME: 'serverless-proxysql-demo',
        // POWERTOOLS_LOG_LEVEL is the current name of Powertools' LOG_LEVEL (which it still reads as an alias).
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      logGroup: new logs.LogGroup(this, 'FunctionLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        // A demo: its logs go when it goes.
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      reaches: 'ProxySQL',
    });
    props.userSecret.grantRead(fn);
    this.function = fn;
    this.securityGroup = fn.connections.securityGroups[0];
    this.connections = fn.connections;

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'serverless-proxysql demo API',
      // The stage is created below, with throttling and access logs, which the implicit default stage lacks.
      createDefaultStage: false,
    });
    const integration = new HttpLambdaIntegration('Integration', fn);
    const authorization: `${DemoApiAuthorization}` = props.authorization ?? DemoApiAuthorization.IAM;
    if (authorization !== 'iam' && authorization !== 'none') {
      throw new Error(`DemoApiProps.authorization: must be 'iam' or 'none', got '${String(authorization)}'`);
    }
    // A demo that writes to the database is not left open to the internet by default.
    const authorizer = authorization === 'iam' ? new HttpIamAuthorizer() : undefined;
    this.api.addRoutes({ path: '/items', methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST], integration, authorizer });
    this.api.addRoutes({ path: '/whoami', methods: [apigwv2.HttpMethod.GET], integration, authorizer });
    if (authorization === 'none') {
      acknowledge(this.api, {
        'AwsSolutions-APIG4': "authorization: 'none' was chosen for this demo API; its stage is throttled and it only reads and writes the demo table.",
      });
    }

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      autoDeploy: true,
      throttle: THROTTLE,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        // JSON, one object per request ($context variables of HTTP APIs:
        // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html).
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            sourceIp: '$context.identity.sourceIp',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integration.latency',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });
    this.url = stage.url;
  }
}
