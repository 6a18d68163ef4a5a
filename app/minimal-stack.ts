import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ProxySqlBackend, ProxySqlService } from '../src';
import { CostEstimate, estimateTemplate } from '../src/cost/estimate';

/** Where the minimal app's imported VPC and cluster are said to be (they are never looked up). */
export const MINIMAL_APP_ENV = { account: '111111111111', region: 'us-east-1' } as const;

export interface MinimalStackProps extends StackProps {
  /** The existing cluster's instances, writer first. @default - a writer and one reader */
  readonly instanceIdentifiers?: readonly string[];
}

/**
 * The smallest deploy: the ProxySQL service, with its defaults, in front of an Aurora MySQL cluster that already
 * exists, in a VPC that already exists — what a user adds to an app that has both. Both are imported by attributes,
 * so it synthesizes offline. `npm run synth` prints its bill next to the reference app's, docs/architecture.md
 * compares it with RDS Proxy's, and the cost tests price it.
 */
export class MinimalStack extends Stack {
  public readonly proxy: ProxySqlService;

  constructor(scope: Construct, id: string, props: MinimalStackProps = {}) {
    super(scope, id, { env: MINIMAL_APP_ENV, ...props });
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      vpcCidrBlock: '10.0.0.0/16',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'],
      privateSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaaa', 'rtb-0bbbbbbbbbbbbbbbb'],
    });
    const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(this, 'Database', {
      clusterIdentifier: 'shop',
      clusterEndpointAddress: 'shop.cluster-abcdefghijkl.us-east-1.rds.amazonaws.com',
      port: 3306,
      instanceIdentifiers: [...(props.instanceIdentifiers ?? ['shop-1', 'shop-2'])],
      securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(this, 'DatabaseSecurityGroup', 'sg-0123456789abcdef0')],
    });
    const adminSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'AdminSecret', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:shop-admin-AbCdEf');
    this.proxy = new ProxySqlService(this, 'ProxySql', { vpc, backend: ProxySqlBackend.auroraCluster(cluster, { adminSecret }) });
  }
}

/** Adds the minimal stack to `app` (a new App with a temporary output directory when none is given). */
export function buildMinimalApp(app: App = new App(), props: MinimalStackProps = {}): { app: App; stack: MinimalStack } {
  return { app, stack: new MinimalStack(app, 'ProxySqlOnly', props) };
}

/** The estimate of the minimal app, synthesized (without aws-cdk-lib's template validation) in a temporary directory. */
export function estimateMinimalApp(props: MinimalStackProps = {}): CostEstimate {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'spx-minimal-'));
  try {
    const { app, stack } = buildMinimalApp(new App({ outdir, builtinCloudFormationValidation: false }), props);
    const artifact = app.synth().getStackByName(stack.stackName);
    return estimateTemplate(artifact.template, { stackName: artifact.stackName });
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
