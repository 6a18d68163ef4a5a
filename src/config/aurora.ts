/**
 * Aurora endpoint names. ProxySQL's Aurora monitor reads the instance ids (`SERVER_ID`) from
 * information_schema.replica_host_status and builds each instance's host name as `SERVER_ID + domain_name`
 * (lib/MySQL_HostGroups_Manager.cpp: `sprintf(address,"%s%s",_server_id,domain_name)`); `domain_name` must start
 * with a dot (admin table CHECK). See https://proxysql.com/documentation/aws-aurora-configuration/.
 *
 * Aurora endpoints (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Overview.Endpoints.html):
 *   cluster:  <cluster-id>.cluster-<hash>.<region>.rds.amazonaws.com
 *   reader:   <cluster-id>.cluster-ro-<hash>.<region>.rds.amazonaws.com
 *   custom:   <name>.cluster-custom-<hash>.<region>.rds.amazonaws.com
 *   instance: <instance-id>.<hash>.<region>.rds.amazonaws.com
 * so the instance domain is everything after `.cluster-`, `.cluster-ro-` or `.cluster-custom-`, with a dot.
 */

/** The separator between the cluster name and the instance domain in a cluster endpoint. */
export const AURORA_CLUSTER_ENDPOINT_SEPARATOR = '.cluster-';

const CLUSTER_ENDPOINT = /^[a-z0-9][a-z0-9-]*\.cluster-(?:ro-|custom-)?([a-z0-9]+\.[a-z0-9-]+\.rds\.amazonaws\.com(?:\.cn)?)\.?$/i;

/**
 * The `domain_name` for `mysql_aws_aurora_hostgroups`, from a concrete cluster (or reader/custom) endpoint.
 * Throws when the name is not an Aurora cluster endpoint. For an endpoint CloudFormation resolves at
 * deploy time, the construct builds the same thing with Fn::Split/Fn::Select (src/proxysql-backend.ts).
 */
export function auroraInstanceDomain(clusterEndpoint: string): string {
  const match = CLUSTER_ENDPOINT.exec(clusterEndpoint.trim());
  if (!match) {
    throw new Error(
      `'${clusterEndpoint}' is not an Aurora cluster endpoint (<cluster>.cluster-<hash>.<region>.rds.amazonaws.com)`,
    );
  }
  return `.${match[1].toLowerCase()}`;
}

/** An instance endpoint from its identifier and the domain: what ProxySQL itself will build. */
export function auroraInstanceEndpoint(instanceIdentifier: string, domainName: string): string {
  return `${instanceIdentifier}${domainName}`;
}
