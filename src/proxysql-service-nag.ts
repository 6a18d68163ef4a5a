import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';
import { acknowledge } from './nag';

export interface ServiceFindings {
  readonly service: IConstruct & { readonly taskDefinition: ecs.TaskDefinition; readonly loadBalancer: elbv2.INetworkLoadBalancer };
  readonly secrets: secretsmanager.ISecret[];
  readonly exec: boolean;
  /** What aws-cdk-lib added to the stack for the rotation rule's AwsApi target (its singleton function). */
  readonly apiCallers: Construct[];
}

/** cdk-nag AwsSolutions findings on ProxySqlService that are deliberate, each with its reason. */
export function acknowledgeServiceFindings({ service, secrets, exec, apiCallers }: ServiceFindings): void {
  const noRotationFunction =
    'No rotation function exists for this secret; rotate it by replacing the secret (a new deployment restarts the tasks), see docs/operations.md. A rotation you add elsewhere triggers a rolling restart through the RestartOnSecretRotation rule.';
  for (const secret of secrets) {
    if (secret instanceof secretsmanager.Secret && secret.node.scope === service) acknowledge(secret, { 'AwsSolutions-SMG4': noRotationFunction });
  }
  acknowledge(service.taskDefinition, {
    'AwsSolutions-ECS2':
      'The environment holds no secret: the config template with {{secret:…}} placeholders, the entrypoint and health-check scripts, the drain bound, ports, the admin user, user names given in props, and secret ARNs. Passwords arrive through ECS secrets.',
    ...(exec
      ? {
          'AwsSolutions-IAM5[Resource::*]':
            'ECS Exec: ssmmessages:CreateControlChannel/CreateDataChannel/OpenControlChannel/OpenDataChannel do not support resource-level permissions; no logs permission is granted while Exec session logging is off (@aws-cdk/aws-ecs:reduceEc2FargateCloudWatchPermissions).',
        }
      : {}),
  });
  acknowledge(service.loadBalancer, {
    'AwsSolutions-ELB2': 'NLB access logs are only written for TLS listeners; this NLB has a plain TCP listener (MySQL protocol).',
  });
  for (const caller of apiCallers) {
    acknowledge(caller, {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
        "aws-cdk-lib's AwsApi event target function: the managed policy only lets it write its own CloudWatch Logs.",
    });
  }
}
