import { App, Tags } from 'aws-cdk-lib';
import { ReferenceStack } from './reference-stack';

/** Adds the reference stack to `app`. `-c vpcId=vpc-…` deploys into an existing VPC (a lookup: needs credentials once). */
/**
 * Feature flags the reference app sets (also in cdk.json, for `cdk synth`): without the first, aws-cdk-lib gives
 * an ECS Exec task role logs:* on every log group even when Exec session logging is off.
 */
export const REFERENCE_APP_FLAGS = { '@aws-cdk/aws-ecs:reduceEc2FargateCloudWatchPermissions': true } as const;

export function buildReferenceApp(app: App): { app: App; stack: ReferenceStack } {
  for (const [flag, value] of Object.entries(REFERENCE_APP_FLAGS)) {
    if (app.node.tryGetContext(flag) === undefined) app.node.setContext(flag, value);
  }
  const vpcId = app.node.tryGetContext('vpcId') as string | undefined;
  const stack = new ReferenceStack(app, 'ServerlessProxySql', {
    vpcId,
    lean: ['true', true].includes(app.node.tryGetContext('lean') as string | boolean),
    description: 'serverless-proxysql reference architecture: Aurora MySQL behind ProxySQL on Fargate, with a demo Lambda',
    // `cdk deploy` sets CDK_DEFAULT_ACCOUNT/REGION: the stack then knows its region at synth, and ProxySQL gets that
    // region's RDS CAs to verify Aurora with. The region alone is enough (`CDK_DEFAULT_REGION=eu-west-1 npm run
    // synth`). Offline they are unset and the stack stays environment-agnostic: synth warns that TLS to the database
    // would not be verified (backendTlsUnverified), and app/synth.ts says how to give the region.
    env:
      vpcId || process.env.CDK_DEFAULT_REGION
        ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
        : undefined,
  });
  // cfn-lint's resource specification (1.51) does not list Tags for these types yet; leave them untagged
  // so the template lints clean.
  Tags.of(stack).add('project', 'serverless-proxysql', {
    excludeResourceTypes: ['AWS::ElasticLoadBalancingV2::Listener', 'AWS::ApplicationAutoScaling::ScalableTarget', 'AWS::CloudWatch::Dashboard'],
  });
  return { app, stack };
}
