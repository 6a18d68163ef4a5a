import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME } from './lambda-runtime';
import { acknowledge } from './nag';

const LOCK_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock'];

/**
 * `projectRoot` and `depsLockFilePath` for this library's NodejsFunctions, found from this file's location,
 * not from the process's working directory: `npm run synth` run from any folder, and an app that installs
 * the library under node_modules, both bundle the same way. Walks up to the nearest lock file (this repo's,
 * or the consuming project's).
 */
export function lambdaBundlingPaths(): { projectRoot: string; depsLockFilePath: string } {
  let dir = __dirname;
  for (;;) {
    for (const name of LOCK_FILES) {
      const candidate = path.join(dir, name);
      if (fs.existsSync(candidate)) return { projectRoot: dir, depsLockFilePath: candidate };
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`serverless-proxysql: no lock file (${LOCK_FILES.join(', ')}) above ${__dirname}; bundling its Lambda functions needs one`);
    }
    dir = parent;
  }
}

/** What differs between this library's Lambda functions; everything else is decided once, below. */
export interface LibraryFunctionProps {
  /** Absolute path of the TypeScript handler (exported as `handler`). */
  readonly entry: string;
  readonly description: string;
  readonly vpc: ec2.IVpc;
  /** @default private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** @default - the function's default log group */
  readonly logGroup?: logs.ILogGroup;
  /** What the function reaches inside the VPC, for the reason of the managed-policy acknowledgement. */
  readonly reaches: string;
}

/**
 * A Node.js Lambda function of this library: pinned runtime and architecture, in the VPC, bundled with the
 * local esbuild (never Docker: `npm run synth` works offline). mysql2 and Powertools are bundled; the AWS SDK
 * v3 comes with the runtime.
 */
export function newLibraryFunction(scope: Construct, id: string, props: LibraryFunctionProps): nodejs.NodejsFunction {
  const fn = new nodejs.NodejsFunction(scope, id, {
    entry: props.entry,
    ...lambdaBundlingPaths(),
    handler: 'handler',
    runtime: LAMBDA_RUNTIME,
    architecture: LAMBDA_ARCHITECTURE,
    description: props.description,
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [props.securityGroup],
    timeout: props.timeout,
    memorySize: 256,
    environment: props.environment,
    logGroup: props.logGroup,
    bundling: { forceDockerBundling: false, minify: true, sourceMap: true, externalModules: ['@aws-sdk/*'] },
  });
  const logsOnly = 'The AWS managed policy only lets the function write its own CloudWatch Logs';
  acknowledge(fn, {
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]': `${logsOnly} (the function that reaches ${props.reaches}).`,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]':
      `${logsOnly} and manage the ENIs it needs to reach ${props.reaches} inside the VPC.`,
  });
  return fn;
}
