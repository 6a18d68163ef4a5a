import { CfnElement, CustomResource, Duration, Stack, Tokenization } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { DEFAULT_BACKEND_TLS } from './constants';
import { acknowledge } from './nag';
import { caBundleProblem, check, hostProblem, managedUsernameProblem, portProblem, privilegesProblem, schemaProblem, UniqueNames } from './config/rules';
import { checkProp } from './prop-rules';
import { newLibraryFunction } from './library-function';

/** Where the bootstrap step connects: the writer. */
export interface BootstrapEndpoint {
  /** DNS name or IP address (a CloudFormation token is fine). */
  readonly hostname: string;
  readonly port: number;
}

export interface BootstrapApplicationUser {
  /** The database user name (1-32 of A-Z a-z 0-9 _). */
  readonly username: string;
  /** Holds the user's password as JSON `{"password": …}` (a `username` key is allowed and ignored). */
  readonly secret: secretsmanager.ISecret;
  /** The schema the user works in; created if absent (1-64 of A-Z a-z 0-9 _). */
  readonly schema: string;
  /** Privileges ON `schema`.*, the whole list (others found on the schema are revoked), e.g. ['SELECT', 'INSERT', 'UPDATE', 'DELETE']. */
  readonly privileges: string[];
}

export interface DatabaseBootstrapProps {
  readonly vpc: ec2.IVpc;
  /** @default private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The writer / cluster endpoint. */
  readonly endpoint: BootstrapEndpoint;
  /** Its security group gets ingress from the bootstrap Lambda on `endpoint.port` only. */
  readonly database: ec2.IConnectable;
  /** The master credentials, `{"username": …, "password": …}` as RDS writes them. */
  readonly adminSecret: secretsmanager.ISecret;
  readonly monitorUsername: string;
  /** Holds the monitor user's password as JSON `{"password": …}`. */
  readonly monitorSecret: secretsmanager.ISecret;
  readonly users: BootstrapApplicationUser[];
  /**
   * Where the function's HTTPS (Secrets Manager) may go: e.g. the security group of a Secrets Manager interface
   * endpoint, or the VPC's CIDR when every AWS API it needs has an endpoint.
   * @default - any IPv4 address: Secrets Manager may be reached through a NAT gateway
   */
  readonly httpsEgress?: ec2.IPeer;
  /**
   * Existing accounts the bootstrap may take over (replace their password, revoke their other grants). Any other
   * account that exists and that this stack did not create makes the bootstrap fail with a message naming it.
   * @default [] - nothing is adopted silently
   */
  readonly adoptExistingUsers?: string[];
  /** Drop the monitor and application users when this resource is deleted (schemas and data are kept). @default false */
  readonly dropUsersOnDelete?: boolean;
  /** How long to wait for the database to accept connections (a new Aurora cluster takes minutes). @default Duration.minutes(10) */
  readonly waitForDatabase?: Duration;
  /**
   * Connect over TLS, as ProxySQL's backend connections do (`ProxySqlServiceProps.backendTls`). The application
   * users are then created `REQUIRE SSL` (and `REQUIRE NONE` without it): a login in clear text, by ProxySQL or
   * anyone holding the password, is refused. The monitor user is left without the requirement.
   * @default true
   */
  readonly backendTls?: boolean;
  /**
   * PEM bundle of the CAs that sign the database's certificate (`ProxySqlServiceProps.backendCa`); the
   * certificate and the endpoint's name are verified against it.
   * @default - the Amazon RDS CAs when `rdsManaged`, else TLS that encrypts without verifying (as ProxySQL does then)
   */
  readonly backendCa?: string;
  /**
   * The database is Amazon RDS or Aurora, whose certificates the RDS CAs sign (`ProxySqlBackendConfig.rdsManaged`).
   * @default true
   */
  readonly rdsManaged?: boolean;
  /**
   * Change this value to run the bootstrap again without any other change, e.g. after rotating a user's
   * secret outside CloudFormation (secret values are never in the template, so CloudFormation cannot see them change).
   * @default - none
   */
  readonly revision?: string;
}

/** The Lambda timeout must cover the wait plus the SQL work; Lambda allows 15 minutes at most. */
const WORK_MARGIN = Duration.minutes(2);
const MAX_WAIT = Duration.minutes(13);

const PROPS = 'DatabaseBootstrapProps';

function validate(props: DatabaseBootstrapProps): void {
  checkProp(`${PROPS}.endpoint.port`, props.endpoint.port, portProblem);
  checkProp(`${PROPS}.endpoint.hostname`, props.endpoint.hostname, hostProblem);
  checkProp(`${PROPS}.monitorUsername`, props.monitorUsername, managedUsernameProblem);
  const names = new UniqueNames();
  props.users.forEach((user, i) => {
    const field = `${PROPS}.users[${i}]`;
    checkProp(`${field}.username`, user.username, (name) => managedUsernameProblem(name, { monitorUsername: props.monitorUsername }) ?? names.problem(name, `${field}.username`));
    checkProp(`${field}.schema`, user.schema, schemaProblem);
    check(`${field}.privileges`, privilegesProblem(user.privileges));
  });
  if (props.backendCa !== undefined) check(`${PROPS}.backendCa`, caBundleProblem(props.backendCa, props.backendTls ?? DEFAULT_BACKEND_TLS));
  const wait = props.waitForDatabase;
  if (wait !== undefined && !wait.isUnresolved() && (wait.toSeconds() < 1 || wait.toSeconds() > MAX_WAIT.toSeconds())) {
    throw new Error(
      `${PROPS}.waitForDatabase: ${wait.toHumanString()} is out of range: use 1 second to ${MAX_WAIT.toHumanString()} (Lambda runs 15 minutes at most)`,
    );
  }
}

/**
 * The resource properties Ssl and SslCa (runtime/bootstrap/handler.ts tlsFromProperties reads them), and RequireSsl:
 * with TLS to the database the application users may log in only over TLS, as ProxySQL does.
 */
function tlsProperties(props: DatabaseBootstrapProps): { Ssl: string; SslCa?: string; RequireSsl: string } {
  if (!(props.backendTls ?? DEFAULT_BACKEND_TLS)) return { Ssl: 'false', RequireSsl: 'false' };
  if (props.backendCa !== undefined) return { Ssl: 'custom-ca', SslCa: props.backendCa.trim(), RequireSsl: 'true' };
  return { Ssl: (props.rdsManaged ?? true) ? 'true' : 'unverified', RequireSsl: 'true' };
}

/**
 * Creates ProxySQL's monitor user and the application users (and their schemas) on the writer at deploy
 * time, through a custom resource backed by a Lambda in the VPC. Idempotent; updates rotate passwords and
 * reconcile privileges; Delete keeps the users unless `dropUsersOnDelete`.
 */
export class DatabaseBootstrap extends Construct {
  /** The custom resource: depend on it for anything that needs the users to exist. */
  readonly resource: CustomResource;
  /** The onEvent Lambda (in the VPC). */
  readonly function: lambda.IFunction;
  /** The Lambda's security group: egress only to the database port and HTTPS. */
  readonly securityGroup: ec2.ISecurityGroup;

  constructor(scope: Construct, id: string, props: DatabaseBootstrapProps) {
    super(scope, id);
    validate(props);
    const waitForDatabase = props.waitForDatabase ?? Duration.minutes(10);

    const fn = newLibraryFunction(this, 'Function', {
      asset: 'bootstrap',
      description: 'Creates/updates the ProxySQL monitor and application users on the database writer',
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroupDescription: 'ProxySQL database bootstrap Lambda: database port and HTTPS (Secrets Manager) only',
      httpsEgress: props.httpsEgress,
      timeout: Duration.seconds(Math.min(waitForDatabase.toSeconds() + WORK_MARGIN.toSeconds(), 900)),
      environment: { POWERTOOLS_SERVICE_NAME: 'serverless-proxysql-db-bootstrap' },
      reaches: 'the database',
    });
    this.function = fn;
    this.securityGroup = fn.connections.securityGroups[0];
    // Adds ingress on the database's security group and the matching egress on ours.
    props.database.connections.allowFrom(this.securityGroup, ec2.Port.tcp(props.endpoint.port), 'ProxySQL database bootstrap Lambda');

    const secrets = new Set<secretsmanager.ISecret>([props.adminSecret, props.monitorSecret, ...props.users.map((u) => u.secret)]);
    for (const secret of secrets) secret.grantRead(fn);

    const provider = new cr.Provider(this, 'Provider', { onEventHandler: fn });
    acknowledge(provider, {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        "aws-cdk-lib's custom-resource provider framework function: the AWS managed policy only lets it write its own CloudWatch Logs.",
      [`AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`]:
        'The provider framework may invoke any version of the bootstrap function (lambda:InvokeFunction on <arn>:*), and only that function.',
    });

    const users = props.users.map((u) => ({ username: u.username, secretArn: u.secret.secretArn, schema: u.schema, privileges: u.privileges }));
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ProxySqlDatabaseBootstrap',
      properties: {
        DatabaseHost: props.endpoint.hostname,
        DatabasePort: Tokenization.stringifyNumber(props.endpoint.port),
        AdminSecretArn: props.adminSecret.secretArn,
        MonitorUsername: props.monitorUsername,
        MonitorSecretArn: props.monitorSecret.secretArn,
        Users: Stack.of(this).toJsonString(users),
        DropUsersOnDelete: props.dropUsersOnDelete ? 'true' : 'false',
        ...(props.adoptExistingUsers?.length ? { AdoptExistingUsers: Stack.of(this).toJsonString(props.adoptExistingUsers) } : {}),
        WaitForDatabaseMs: String(waitForDatabase.toMilliseconds()),
        ...tlsProperties(props),
        ...(props.revision !== undefined ? { Revision: props.revision } : {}),
      },
    });
    // The rules that let the function reach the database (ingress on the database's security groups, egress on
    // ours) are resources of their own: created before the first run, and deleted only after the Delete event ran
    // (dropUsersOnDelete needs the database then).
    this.resource.node.addDependency(this.securityGroup, ...props.database.connections.securityGroups);
  }
}
