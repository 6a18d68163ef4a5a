"""What a Python user of serverless-proxysql meets, checked in the wheel's own virtual environment (npm run test:python).

Each check prints `ok <name>` or `FAIL <name>: <why>`; the script exits 1 if any failed. Every check builds its own
stack, so one failure does not hide the others.
"""
import sys
import traceback

import jsii
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template
from serverless_proxysql import (
    MySqlEndpoint,
    ProxySqlBackend,
    ProxySqlService,
    ProxySqlServiceMonitoringOptions,
    ProxySqlUser,
    QueryDestination,
    QueryRuleSpec,
    ReadConsistency,
    ReplicationCheckType,
)

CHECKS = []


def check(function):
    CHECKS.append(function)
    return function


def stack_with_vpc():
    app = App()
    stack = Stack(app, "Checks")
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    return stack, vpc


def endpoints_backend(stack, vpc):
    return ProxySqlBackend.endpoints(
        writer=MySqlEndpoint(hostname="writer.example.internal"),
        readers=[MySqlEndpoint(hostname="reader.example.internal", port=3307)],
        # Not check_type: that keyword shadowed jsii's type-checking function in the generated code.
        replication_check_type=ReplicationCheckType.INNODB_READ_ONLY,
    )


def proxy_in(stack, vpc, **props):
    """A service in front of explicit endpoints, with the users an endpoints backend without an admin secret needs."""
    users = [ProxySqlUser(username="app", secret=secretsmanager.Secret(stack, "AppSecret"))]
    return ProxySqlService(stack, "Proxy", vpc=vpc, backend=endpoints_backend(stack, vpc), users=users, bootstrap=False, **props)


def config_of(proxy):
    """The rendered proxysql.cnf template, tokens resolved to CloudFormation intrinsics."""
    resolved = Stack.of(proxy).resolve(proxy.config_template)
    return resolved if isinstance(resolved, str) else str(resolved)


def function_in(stack, vpc):
    return lambda_.Function(
        stack,
        "Client",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return 1\n"),
        vpc=vpc,
    )


@check
def keyword_arguments_structs_and_the_endpoints_backend():
    stack, vpc = stack_with_vpc()
    proxy = proxy_in(stack, vpc)
    config = config_of(proxy)
    assert "writer.example.internal" in config and "reader.example.internal" in config, "both endpoints are in proxysql.cnf"
    assert "port=3307" in config.replace(" ", ""), "the reader's port 3307 is rendered"
    assert 'check_type="innodb_read_only"' in config.replace(" ", ""), "the enum value reaches mysql_replication_hostgroups"
    Template.from_stack(stack).resource_count_is("AWS::ECS::Service", 1)


@check
def structs_as_dicts():
    stack, vpc = stack_with_vpc()
    backend = ProxySqlBackend.endpoints(writer={"hostname": "dict-writer.example.internal", "port": 3310})
    users = [{"username": "app", "secret": secretsmanager.Secret(stack, "AppSecret")}]
    proxy = ProxySqlService(stack, "Proxy", vpc=vpc, backend=backend, users=users, bootstrap=False)
    config = config_of(proxy).replace(" ", "")
    assert 'address="dict-writer.example.internal"' in config and "port=3310" in config, "a dict struct reaches proxysql.cnf"


@check
def enums_and_query_rules():
    stack, vpc = stack_with_vpc()
    rule = QueryRuleSpec(match_digest="^SELECT .* FROM reports", destination=QueryDestination.WRITER)
    eventual = config_of(proxy_in(stack, vpc, read_consistency=ReadConsistency.EVENTUAL, query_rules=[rule]))
    assert "^SELECT .* FROM reports" in eventual, "the query rule is rendered"
    other_stack, other_vpc = stack_with_vpc()
    default = config_of(proxy_in(other_stack, other_vpc, query_rules=[rule]))
    # READ_YOUR_WRITES (the default) adds the write-window states' rules; EVENTUAL has none of them.
    assert default.count("rule_id") > eventual.count("rule_id"), "ReadConsistency.EVENTUAL changed the rendered rules"


@check
def durations_reach_proxysql_and_the_task():
    stack, vpc = stack_with_vpc()
    proxy = proxy_in(
        stack,
        vpc,
        max_replica_lag=Duration.seconds(7),
        drain_timeout=Duration.seconds(20),
    )
    assert "max_replication_lag=7" in config_of(proxy).replace(" ", ""), "maxReplicaLag 7 s is max_replication_lag=7"
    Template.from_stack(stack).has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {"ContainerDefinitions": Match.array_with([Match.object_like({"Environment": Match.array_with([{"Name": "PROXYSQL_DRAIN_SECONDS", "Value": "20"}])})])},
    )


@check
def grant_connect_returns_a_grant_and_opens_the_port():
    stack, vpc = stack_with_vpc()
    proxy = proxy_in(stack, vpc)
    function = function_in(stack, vpc)
    grant = proxy.grant_connect(function)
    assert isinstance(grant, iam.Grant), f"grant_connect returns aws_iam.Grant, got {type(grant)}"
    assert grant.success, "the grant succeeded"
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::EC2::SecurityGroupIngress", {"FromPort": proxy.endpoint_port, "ToPort": proxy.endpoint_port})
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Action": Match.array_with(["secretsmanager:GetSecretValue"])})])}},
    )


@check
def monitoring_options_as_a_struct():
    stack, vpc = stack_with_vpc()
    proxy_in(stack, vpc, monitoring=ProxySqlServiceMonitoringOptions(dashboard=False, alarms=True))
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::CloudWatch::Dashboard", 0)
    assert len(template.find_resources("AWS::CloudWatch::Alarm")) >= 2, "the alarms are there"


@check
def a_bad_prop_is_an_error_that_names_it():
    stack, vpc = stack_with_vpc()
    try:
        proxy_in(stack, vpc, read_your_writes_statements=99)
    except (jsii.errors.JSIIError, RuntimeError) as error:
        message = str(error)
        assert "Checks/Proxy" in message, f"the error names the construct: {message}"
        assert "read_your_writes_statements" in message, f"the error names the prop as Python spells it: {message}"
        return
    raise AssertionError("read_your_writes_statements=99 was accepted")


@check
def a_wrong_type_is_refused_before_synth():
    stack, vpc = stack_with_vpc()
    try:
        ProxySqlService(stack, "Proxy", vpc=vpc, backend="writer.example.internal")
    except TypeError as error:
        assert "backend" in str(error), f"the TypeError names the argument: {error}"
        return
    raise AssertionError("a string for backend was accepted")


failed = 0
for function in CHECKS:
    name = function.__name__.replace("_", " ")
    try:
        function()
        print(f"ok   {name}")
    except Exception as error:  # noqa: BLE001 - every failure is reported, then the next check runs
        failed += 1
        print(f"FAIL {name}: {type(error).__name__}: {error}")
        traceback.print_exc(file=sys.stderr)
print(f"check_api: {len(CHECKS) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
