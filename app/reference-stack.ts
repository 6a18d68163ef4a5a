import { CfnOutput, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { DemoApi, ProxySqlBackend, ProxySqlService } from '../src';
import { acknowledge } from '../src/nag';

/** The Aurora MySQL engine of the reference app: 3.10 (MySQL 8.0.42), the current long-term-support release line. */
export const REFERENCE_AURORA_ENGINE = rds.AuroraMysqlEngineVersion.VER_3_10_3;

export interface ReferenceStackProps extends StackProps {
  /** An existing VPC to deploy into (looked up at synth). @default - a new VPC with 2 AZs */
  readonly vpcId?: string;
  /**
   * A cheaper demo network: one NAT gateway and no VPC endpoints (`-c lean=true`).
   * @default false - a NAT per AZ, and endpoints for Secrets Manager, CloudWatch Logs and S3
   */
  readonly lean?: boolean;
}

/**
 * The reference architecture: a thin composition of the library's constructs.
 * VPC → Aurora MySQL 3 (Serverless v2 writer + reader) → ProxySQL on Fargate behind an internal NLB with a
 * private DNS name → a demo Lambda behind an HTTP API that talks to the database through the proxy.
 */
export class ReferenceStack extends Stack {
  public readonly proxy: ProxySqlService;
  public readonly demo: DemoApi;

  constructor(scope: Construct, id: string, props: ReferenceStackProps = {}) {
    super(scope, id, props);

    const lean = props.lean ?? false;
    const newVpc = props.vpcId
      ? undefined
      : new ec2.Vpc(this, 'Vpc', {
          maxAzs: 2,
          // A NAT per AZ: losing one AZ's NAT must not stop the other AZ's tasks from pulling the image (Docker
          // Hub) during the scale-out or rollback that AZ loss triggers. `-c lean=true`: one NAT.
          natGateways: lean ? 1 : 2,
          subnetConfiguration: [
            { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
            { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
          ],
          flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
        });
    const vpc: ec2.IVpc = newVpc ?? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId as string });

    // Secrets Manager and CloudWatch Logs without the NAT: a task starts (its secrets) and logs even while the NAT
    // path is impaired; S3 (gateway, free) for Lambda code and ECR layers. ~$29/month for the two interface
    // endpoints in 2 AZs; `-c lean=true` leaves them out.
    let secretsManagerOnly: ec2.IPeer | undefined;
    if (newVpc && !lean) {
      const privateSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
      for (const [id, service] of [
        ['SecretsManagerEndpoint', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
        ['LogsEndpoint', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
      ] as const) {
        const endpoint = newVpc.addInterfaceEndpoint(id, { service, subnets: privateSubnets });
        // The functions call Secrets Manager only: their HTTPS goes to its endpoint and nowhere else. (The
        // tasks keep HTTPS to the internet: the image comes from Docker Hub.)
        if (service === ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER) {
          secretsManagerOnly = ec2.Peer.securityGroupId(endpoint.connections.securityGroups[0].securityGroupId);
        }
        acknowledge(endpoint, {
          'AwsSolutions-EC23':
            "The endpoint's security group admits HTTPS from the VPC's own CIDR (a token cdk-nag cannot read), not from the internet: every function and task in the VPC that calls the service, the secret-rotation function included, goes through it once private DNS is on.",
        });
      }
      newVpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    }

    // Aurora needs no egress of its own (no S3/Lambda integrations here): ingress only, added per client.
    const databaseSecurityGroup = new ec2.SecurityGroup(this, 'DatabaseSecurityGroup', {
      vpc,
      description: 'Aurora MySQL: ingress from ProxySQL, the bootstrap and the rotation function only; no egress',
      allowAllOutbound: false,
    });
    const database = new rds.DatabaseCluster(this, 'Database', {
      securityGroups: [databaseSecurityGroup],
      engine: rds.DatabaseClusterEngine.auroraMysql({ version: REFERENCE_AURORA_ENGINE }),
      credentials: rds.Credentials.fromGeneratedSecret('admin'),
      // AWS recommends no automatic minor version upgrades on LTS releases: they can move a cluster off LTS
      // (Aurora MySQL 3.10.0 release notes).
      writer: rds.ClusterInstance.serverlessV2('writer', { autoMinorVersionUpgrade: false }),
      readers: [rds.ClusterInstance.serverlessV2('reader', { scaleWithWriter: true, autoMinorVersionUpgrade: false })],
      serverlessV2MinCapacity: 0.5,
      serverlessV2MaxCapacity: 4,
      vpc,
      vpcSubnets: { subnetType: props.vpcId ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED },
      storageEncrypted: true,
      iamAuthentication: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      cloudwatchLogsExports: ['error', 'slowquery'],
    });
    // The admin secret is only read by the bootstrap step, which fetches it on every run: rotating it needs
    // no restart of anything.
    database.addRotationSingleUser();
    acknowledge(database, {
      'AwsSolutions-RDS10':
        'The reference app is meant to be torn down with cdk destroy; removalPolicy SNAPSHOT keeps a final snapshot instead of deletion protection.',
      'AwsSolutions-RDS11':
        "Port 3306 is what ProxySQL's Aurora discovery (aurora_port) and MySQL clients expect; only the proxy's, the bootstrap's and the rotation function's security groups can reach it.",
      'AwsSolutions-RDS14':
        'Backtrack must be chosen at cluster creation and is billed per change record; the reference app relies on continuous backups and point-in-time restore.',
    });

    const zone = new route53.PrivateHostedZone(this, 'Zone', { zoneName: 'proxysql.internal', vpc });

    this.proxy = new ProxySqlService(this, 'ProxySql', {
      vpc,
      backend: ProxySqlBackend.auroraCluster(database),
      users: [{ username: 'app', schema: 'app' }],
      dnsName: { zone, recordName: 'proxy' },
      bootstrapHttpsEgress: secretsManagerOnly,
    });

    this.demo = new DemoApi(this, 'Demo', {
      vpc,
      proxyHostname: this.proxy.endpointHostname,
      proxyPort: this.proxy.endpointPort,
      userSecret: this.proxy.userSecrets[0],
      databaseName: 'app',
      httpsEgress: secretsManagerOnly,
    });
    this.proxy.grantConnect(this.demo.function);

    new CfnOutput(this, 'ProxyEndpoint', { value: this.proxy.endpointHostname, description: 'MySQL host for clients in the VPC' });
    new CfnOutput(this, 'ProxyPort', { value: String(this.proxy.endpointPort) });
    new CfnOutput(this, 'AppUserSecretArn', {
      value: this.proxy.userSecrets[0].secretArn,
      description: "Secrets Manager secret with the 'app' user's {username, password}",
    });
    new CfnOutput(this, 'DatabaseAdminSecretArn', { value: database.secret?.secretArn ?? 'n/a' });
    new CfnOutput(this, 'EcsClusterName', { value: this.proxy.cluster.clusterName });
    new CfnOutput(this, 'EcsServiceName', { value: this.proxy.service.serviceName });
    new CfnOutput(this, 'AdminInterface', {
      description: 'Open the ProxySQL admin interface (127.0.0.1:6032 inside a task) with ECS Exec',
      value: `aws ecs execute-command --cluster ${this.proxy.cluster.clusterName} --container agent --interactive --task <TASK_ID> --command "sh -c 'MYSQL_PWD=\\$PROXYSQL_ADMIN_PASSWORD mariadb --skip-ssl -h127.0.0.1 -P6032 -uadmin --prompt=admin>\\ '"`,
    });
    new CfnOutput(this, 'DemoApiUrl', { value: this.demo.url, description: 'GET /whoami shows which backend served a read and a write' });
  }
}
