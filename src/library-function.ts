import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME } from './lambda-runtime';
import { acknowledge } from './nag';
import { LambdaAssetName, requireLambdaAsset } from './runtime-assets';

/** What differs between this library's Lambda functions; everything else is decided once, below. */
export interface LibraryFunctionProps {
  /** Which prebuilt handler bundle (src/runtime-assets.ts). */
  readonly asset: LambdaAssetName;
  readonly description: string;
  /**
   * The VPC, for a function that reaches something inside it (the database).
   * @default - not in a VPC: for a function that calls AWS APIs only (then no security group either)
   */
  readonly vpc?: ec2.IVpc;
  /** @default private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The construct id of the function's own security group. @default 'SecurityGroup' */
  readonly securityGroupId?: string;
  /** The description of the function's own security group (no egress but HTTPS to `httpsEgress`). @default - none: required with `vpc` */
  readonly securityGroupDescription?: string;
  /** What its HTTPS egress is for, the rule's description. @default 'Secrets Manager API (HTTPS)' */
  readonly httpsFor?: string;
  /** Where its HTTPS (Secrets Manager) may go. @default - any IPv4 address (through a NAT gateway) */
  readonly httpsEgress?: ec2.IPeer;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** @default - the function's default log group */
  readonly logGroup?: logs.ILogGroup;
  /** What the function reaches (inside the VPC, when it is in one), for the reason of the managed-policy acknowledgement. */
  readonly reaches: string;
}

/**
 * A Node.js Lambda function of this library: pinned runtime and architecture, in the VPC when given one, its code the bundle
 * built with the package (mysql2 and Powertools inside; the AWS SDK v3 comes with the runtime). Nothing is
 * bundled at synth: no esbuild, Docker or lock file is needed in the consuming app.
 */
export function newLibraryFunction(scope: Construct, id: string, props: LibraryFunctionProps): lambda.Function {
  // In a VPC, its own security group: HTTPS for Secrets Manager and nothing else until the construct adds what it reaches.
  let network: Pick<lambda.FunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'> = {};
  if (props.vpc) {
    if (props.securityGroupDescription === undefined) throw new Error(`${scope.node.path}/${id}: a function in a VPC needs securityGroupDescription`);
    const securityGroup = new ec2.SecurityGroup(scope, props.securityGroupId ?? 'SecurityGroup', {
      vpc: props.vpc,
      description: props.securityGroupDescription,
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(props.httpsEgress ?? ec2.Peer.anyIpv4(), ec2.Port.tcp(443), props.httpsFor ?? 'Secrets Manager API (HTTPS)');
    network = { vpc: props.vpc, vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [securityGroup] };
  }
  const fn = new lambda.Function(scope, id, {
    code: lambda.Code.fromAsset(requireLambdaAsset(props.asset)),
    handler: 'index.handler',
    runtime: LAMBDA_RUNTIME,
    architecture: LAMBDA_ARCHITECTURE,
    description: props.description,
    ...network,
    timeout: props.timeout,
    memorySize: 256,
    environment: props.environment,
    logGroup: props.logGroup,
  });
  const logsOnly = 'The AWS managed policy only lets the function write its own CloudWatch Logs';
  acknowledge(fn, {
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]': `${logsOnly} (the function that reaches ${props.reaches}).`,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]':
      `${logsOnly} and manage the ENIs it needs to reach ${props.reaches} inside the VPC.`,
  });
  return fn;
}
