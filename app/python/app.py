#!/usr/bin/env python3
"""`cdk synth` / `cdk deploy` entry point of the Python reference app (cdk.json): the same app as app/build-app.ts."""
import os

from aws_cdk import App, Environment, Tags

from reference_stack import ReferenceStack

# Feature flags the reference app sets: without it, aws-cdk-lib gives an ECS Exec task role logs:* on every log
# group even when Exec session logging is off.
REFERENCE_APP_FLAGS = {"@aws-cdk/aws-ecs:reduceEc2FargateCloudWatchPermissions": True}

app = App()
for flag, value in REFERENCE_APP_FLAGS.items():
    if app.node.try_get_context(flag) is None:
        app.node.set_context(flag, value)
vpc_id = app.node.try_get_context("vpcId")
region = os.environ.get("CDK_DEFAULT_REGION")
stack = ReferenceStack(
    app,
    "ServerlessProxySql",
    vpc_id=vpc_id,
    lean=app.node.try_get_context("lean") in ("true", True),
    description="serverless-proxysql reference architecture: Aurora MySQL behind ProxySQL on Fargate, with a demo Lambda",
    # With a region (cdk deploy sets it) ProxySQL verifies Aurora against that region's RDS CAs.
    env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=region) if vpc_id or region else None,
)
Tags.of(stack).add(
    "project",
    "serverless-proxysql",
    exclude_resource_types=["AWS::ElasticLoadBalancingV2::Listener", "AWS::ApplicationAutoScaling::ScalableTarget", "AWS::CloudWatch::Dashboard"],
)
app.synth()
