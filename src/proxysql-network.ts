import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { CLIENT_PORT, PROXYSQL_MYSQL_PORT } from './constants';
import { ProxySqlBackendConfig } from './proxysql-backend';
import { ProxySqlServiceProps } from './proxysql-service-props';

/** The NLB's and the tasks' security groups, with the only rules the data path needs. */
export function createSecurityGroups(scope: Construct, props: ProxySqlServiceProps, backend: ProxySqlBackendConfig): [ec2.Connections, ec2.Connections] {
  // The clients' side: the security groups given (securityGroups, as on rds.DatabaseProxy) or one of our own.
  const lbGroups: ec2.ISecurityGroup[] = props.securityGroups ?? [
    new ec2.SecurityGroup(scope, 'LoadBalancerSecurityGroup', {
      vpc: props.vpc,
      description: 'ProxySQL NLB: clients in on 3306 (added per client), out to the tasks on 6033 only',
      allowAllOutbound: false,
    }),
  ];
  const task = new ec2.SecurityGroup(scope, 'TaskSecurityGroup', {
    vpc: props.vpc,
    description: 'ProxySQL tasks: in from the NLB on 6033 only, out to the database and HTTPS',
    allowAllOutbound: false,
  });
  for (const lb of lbGroups) {
    lb.addEgressRule(task, ec2.Port.tcp(PROXYSQL_MYSQL_PORT), 'to ProxySQL tasks (traffic and health checks)');
    task.addIngressRule(lb, ec2.Port.tcp(PROXYSQL_MYSQL_PORT), 'from the NLB (traffic and health checks)');
  }
  // Image pull, Secrets Manager, CloudWatch Logs and ECS Exec all speak HTTPS; no other egress.
  task.addEgressRule(props.httpsEgress ?? ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: image pull, Secrets Manager, logs, ECS Exec');
  for (const port of backend.ports) {
    if (backend.databaseConnections) {
      backend.databaseConnections.connections.allowFrom(task, ec2.Port.tcp(port), 'from ProxySQL tasks');
      continue;
    }
    if (!hasCidrBlock(props.vpc)) {
      throw new Error(
        `${scope.node.path}: ProxySqlServiceProps.backend: with no databaseConnections the tasks' egress to the database is opened to the VPC's CIDR, and this imported VPC has none; give the database's security group (ProxySqlBackend.endpoints({ databaseConnections })) or import the VPC with vpcCidrBlock`,
      );
    }
    task.addEgressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(port), 'to the database endpoints (no database security group given)');
  }
  return [
    new ec2.Connections({ securityGroups: lbGroups, defaultPort: ec2.Port.tcp(CLIENT_PORT) }),
    new ec2.Connections({ securityGroups: [task], defaultPort: ec2.Port.tcp(PROXYSQL_MYSQL_PORT) }),
  ];
}

/** Whether the VPC knows its CIDR: an imported VPC without `vpcCidrBlock` throws from the getter. */
export function hasCidrBlock(vpc: ec2.IVpc): boolean {
  try {
    return typeof vpc.vpcCidrBlock === 'string';
  } catch {
    return false;
  }
}
