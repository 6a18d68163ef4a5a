"""The reference architecture in Python: the same composition as app/reference-stack.ts, line for line.

npm run test:python synthesizes it with the serverless-proxysql wheel installed in a fresh virtual environment and
compares its template with the TypeScript app's (scripts/python/parity.ts).
"""
from typing import Optional

from aws_cdk import Acknowledgment, CfnOutput, RemovalPolicy, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from constructs import Construct
from serverless_proxysql import DemoApi, ProxySqlBackend, ProxySqlDnsName, ProxySqlService, ProxySqlUser

# Aurora MySQL 3.10 (MySQL 8.0.42), the current long-term-support release line.
REFERENCE_AURORA_ENGINE = rds.AuroraMysqlEngineVersion.VER_3_10_3


def acknowledge(scope: Construct, reasons: dict) -> None:
    """cdk-nag (v3, AwsSolutions pack) acknowledgements through aws-cdk-lib's own Validations API."""
    for rule, reason in reasons.items():
        Validations.of(scope).acknowledge(Acknowledgment(id=rule if "::" in rule else f"AwsSolutions::{rule}", reason=reason))


class ReferenceStack(Stack):
    """VPC -> Aurora MySQL 3 (Serverless v2 writer + reader) -> ProxySQL on Fargate behind an internal NLB with a
    private DNS name -> a demo Lambda behind an HTTP API that talks to the database through the proxy."""

    def __init__(self, scope: Construct, construct_id: str, *, vpc_id: Optional[str] = None, lean: bool = False, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        new_vpc = None
        if not vpc_id:
            new_vpc = ec2.Vpc(
                self,
                "Vpc",
                max_azs=2,
                # A NAT per AZ: one AZ's NAT lost must not stop the other AZ's tasks from pulling the image.
                nat_gateways=1 if lean else 2,
                subnet_configuration=[
                    ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
                    ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                    ec2.SubnetConfiguration(name="database", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
                ],
                flow_logs={"all": ec2.FlowLogOptions(traffic_type=ec2.FlowLogTrafficType.REJECT)},
            )
        vpc = new_vpc if new_vpc is not None else ec2.Vpc.from_lookup(self, "Vpc", vpc_id=vpc_id)

        # Secrets Manager and CloudWatch Logs without the NAT; S3 (gateway, free) for Lambda code and ECR layers.
        secrets_manager_only = None
        if new_vpc is not None and not lean:
            private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
            for endpoint_id, service in [
                ("SecretsManagerEndpoint", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
                ("LogsEndpoint", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS),
            ]:
                endpoint = new_vpc.add_interface_endpoint(endpoint_id, service=service, subnets=private_subnets)
                # The functions call Secrets Manager only: their HTTPS goes to its endpoint and nowhere else.
                if endpoint_id == "SecretsManagerEndpoint":
                    secrets_manager_only = ec2.Peer.security_group_id(endpoint.connections.security_groups[0].security_group_id)
                acknowledge(endpoint, {
                    "AwsSolutions-EC23":
                        "The endpoint's security group admits HTTPS from the VPC's own CIDR (a token cdk-nag cannot read), not from the internet: every function and task in the VPC that calls the service, the secret-rotation function included, goes through it once private DNS is on.",
                })
            new_vpc.add_gateway_endpoint("S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3)

        # Aurora needs no egress of its own: ingress only, added per client.
        database_security_group = ec2.SecurityGroup(
            self,
            "DatabaseSecurityGroup",
            vpc=vpc,
            description="Aurora MySQL: ingress from ProxySQL, the bootstrap and the rotation function only; no egress",
            allow_all_outbound=False,
        )
        database = rds.DatabaseCluster(
            self,
            "Database",
            security_groups=[database_security_group],
            engine=rds.DatabaseClusterEngine.aurora_mysql(version=REFERENCE_AURORA_ENGINE),
            credentials=rds.Credentials.from_generated_secret("admin"),
            # No automatic minor version upgrades on LTS releases (Aurora MySQL 3.10.0 release notes).
            writer=rds.ClusterInstance.serverless_v2("writer", auto_minor_version_upgrade=False),
            readers=[rds.ClusterInstance.serverless_v2("reader", scale_with_writer=True, auto_minor_version_upgrade=False)],
            serverless_v2_min_capacity=0.5,
            serverless_v2_max_capacity=4,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS if vpc_id else ec2.SubnetType.PRIVATE_ISOLATED
            ),
            storage_encrypted=True,
            iam_authentication=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
            cloudwatch_logs_exports=["error", "slowquery"],
        )
        database.add_rotation_single_user()
        acknowledge(database, {
            "AwsSolutions-RDS10":
                "The reference app is meant to be torn down with cdk destroy; removalPolicy SNAPSHOT keeps a final snapshot instead of deletion protection.",
            "AwsSolutions-RDS11":
                "Port 3306 is what ProxySQL's Aurora discovery (aurora_port) and MySQL clients expect; only the proxy's, the bootstrap's and the rotation function's security groups can reach it.",
            "AwsSolutions-RDS14":
                "Backtrack must be chosen at cluster creation and is billed per change record; the reference app relies on continuous backups and point-in-time restore.",
        })

        zone = route53.PrivateHostedZone(self, "Zone", zone_name="proxysql.internal", vpc=vpc)

        # [README:python]
        self.proxy = ProxySqlService(
            self,
            "ProxySql",
            vpc=vpc,
            backend=ProxySqlBackend.aurora_cluster(database),  # or ProxySqlBackend.endpoints(writer=..., readers=[...])
            users=[ProxySqlUser(username="app", schema="app")],  # generated secret, created on the database at deploy
            dns_name=ProxySqlDnsName(zone=zone, record_name="proxy"),  # optional private DNS name
            bootstrap_https_egress=secrets_manager_only,
        )

        self.demo = DemoApi(
            self,
            "Demo",
            vpc=vpc,
            proxy_hostname=self.proxy.endpoint_hostname,
            proxy_port=self.proxy.endpoint_port,
            user_secret=self.proxy.user_secrets[0],
            database_name="app",
            https_egress=secrets_manager_only,
        )
        self.proxy.grant_connect(self.demo.function)  # SG ingress on 3306 + read on the user's secret
        # [/README:python]

        CfnOutput(self, "ProxyEndpoint", value=self.proxy.endpoint_hostname, description="MySQL host for clients in the VPC")
        CfnOutput(self, "ProxyPort", value=str(self.proxy.endpoint_port))
        CfnOutput(
            self,
            "AppUserSecretArn",
            value=self.proxy.user_secrets[0].secret_arn,
            description="Secrets Manager secret with the 'app' user's {username, password}",
        )
        CfnOutput(self, "DatabaseAdminSecretArn", value=database.secret.secret_arn if database.secret else "n/a")
        CfnOutput(self, "EcsClusterName", value=self.proxy.cluster.cluster_name)
        CfnOutput(self, "EcsServiceName", value=self.proxy.service.service_name)
        CfnOutput(
            self,
            "AdminInterface",
            description="Open the ProxySQL admin interface (127.0.0.1:6032 inside a task) with ECS Exec",
            value=f"aws ecs execute-command --cluster {self.proxy.cluster.cluster_name} --container agent --interactive --task <TASK_ID> --command \"sh -c 'MYSQL_PWD=\\$PROXYSQL_ADMIN_PASSWORD mariadb --skip-ssl -h127.0.0.1 -P6032 -uadmin --prompt=admin>\\ '\"",
        )
        CfnOutput(self, "DemoApiUrl", value=self.demo.url, description="GET /whoami shows which backend served a read and a write")
