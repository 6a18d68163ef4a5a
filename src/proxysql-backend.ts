import { Fn, Token, Tokenization } from 'aws-cdk-lib';
import { IDependable } from 'constructs';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { MYSQL_DEFAULT_PORT } from './constants';
import { AURORA_CLUSTER_ENDPOINT_SEPARATOR, auroraInstanceDomain, auroraInstanceEndpoint } from './config/aurora';
import { BackendEndpoint, BackendSpec, HostPort } from './config/build';
import { DeployValue } from './config/model';
import { ReplicationCheckType } from './config/model';
import { checkTypeProblem, hostProblem, portProblem } from './config/rules';
import { checkProp } from './prop-rules';
import type { DeployValues } from './proxysql-container';

/** Options for {@link ProxySqlBackend.auroraCluster}. */
export interface AuroraClusterBackendOptions {
  /**
   * The cluster's port, when it is not known at synth (a new cluster's port is a CloudFormation attribute). A
   * CloudFormation token (e.g. a CfnParameter) is checked when the task starts, as the cluster's endpoint and
   * instance endpoints are when they are tokens: a bad one stops the task with an error naming it.
   * @default - the cluster endpoint's port when it is a plain number, else 3306
   */
  readonly port?: number;
  /**
   * Credentials with which the bootstrap step creates the monitor and application users.
   * @default - the cluster's own secret (`cluster.secret`), when it has one
   */
  readonly adminSecret?: secretsmanager.ISecret;
}

/** A MySQL endpoint given by host name and port. */
export interface MySqlEndpoint {
  /**
   * DNS name or IPv4 address. A CloudFormation token (e.g. a CfnParameter) is checked when the task starts, by the
   * same rule as a name given at synth, and never pasted into ProxySQL's configuration: a bad one stops the task with
   * an error naming this prop.
   */
  readonly hostname: string;
  /** 1-65535; a CloudFormation token is checked when the task starts, as `hostname` is. @default 3306 */
  readonly port?: number;
}

/** Options for {@link ProxySqlBackend.endpoints}. */
export interface EndpointsBackendOptions {
  /** The server that takes writes. */
  readonly writer: MySqlEndpoint;
  /** Read replicas. @default [] (every read goes to the writer) */
  readonly readers?: MySqlEndpoint[];
  /**
   * Which server variable tells a writer (0) from a replica (1). RDS for MySQL replicas run with `read_only=ON`.
   * (Not `checkType`: in Python that keyword would shadow the type-checking function jsii's generated code calls.)
   * @default 'read_only'
   */
  readonly replicationCheckType?: ReplicationCheckType;
  /**
   * The database's security group(s): when given, ProxySQL's tasks get ingress on the database port.
   * @default - none: allow `ProxySqlService.taskConnections` into the database yourself
   */
  readonly databaseConnections?: ec2.IConnectable;
  /**
   * Credentials with which the bootstrap step creates the monitor and application users.
   * @default - no bootstrap: create the monitor user yourself
   */
  readonly adminSecret?: secretsmanager.ISecret;
}

/** Per-deployment settings the construct passes to {@link ProxySqlBackend.bind}. */
export interface ProxySqlBackendBindOptions {
  readonly useTls: boolean;
  readonly maxReplicaLagSeconds: number;
}

/** What a backend contributes to the service. */
export interface ProxySqlBackendConfig {
  /** The pure config-model description of the backend (CloudFormation tokens as strings). */
  readonly spec: BackendSpec;
  /** Where the bootstrap step connects: the writer. */
  readonly writerEndpoint: HostPort;
  /** The database ports ProxySQL connects to, for security-group rules. */
  readonly ports: number[];
  /** The database's security groups, when known. */
  readonly databaseConnections?: ec2.IConnectable;
  /** Admin credentials for the bootstrap step, when known. */
  readonly adminSecret?: secretsmanager.ISecret;
  /**
   * What must exist before the bootstrap step connects: a cluster created in this app (its instances are its
   * children, so depending on it waits for the writer instance). @default - nothing (imported or external)
   */
  readonly dependables?: IDependable[];
  /** The servers are Amazon RDS or Aurora instances, whose certificates the RDS CAs sign. */
  readonly rdsManaged: boolean;
  /** The Aurora cluster, when the backend is one (the monitoring dashboard shows it). @default - none */
  readonly cluster?: rds.IDatabaseCluster;
}

/**
 * The database behind ProxySQL: one typed choice. An Aurora MySQL cluster (ProxySQL discovers its instances
 * and follows failovers itself), or explicit endpoints (RDS for MySQL with read replicas, any MySQL).
 */
export abstract class ProxySqlBackend {
  /** A new or existing Aurora MySQL cluster: `mysql_aws_aurora_hostgroups` auto-discovery. */
  public static auroraCluster(cluster: rds.IDatabaseCluster, options: AuroraClusterBackendOptions = {}): ProxySqlBackend {
    return new AuroraClusterBackend(cluster, options);
  }

  /** A writer and zero or more replicas: `mysql_replication_hostgroups`, roles follow `read_only`. */
  public static endpoints(options: EndpointsBackendOptions): ProxySqlBackend {
    return new EndpointsBackend(options);
  }

  /**
   * Called once by the construct. Internal (hidden from jsii): its result carries the config model, which is not
   * part of the public API; the backends are the closed set of factories above.
   * @internal
   */
  public abstract _bind(options: ProxySqlBackendBindOptions): ProxySqlBackendConfig;
}

class AuroraClusterBackend extends ProxySqlBackend {
  constructor(
    private readonly cluster: rds.IDatabaseCluster,
    private readonly options: AuroraClusterBackendOptions,
  ) {
    super();
  }

  public _bind(options: ProxySqlBackendBindOptions): ProxySqlBackendConfig {
    const endpoint = this.cluster.clusterEndpoint;
    const endpointPort = endpoint.port;
    if (this.options.port !== undefined) checkProp('ProxySqlServiceProps.backend.port', this.options.port, portProblem);
    const port = this.options.port ?? (Token.isUnresolved(endpointPort) ? MYSQL_DEFAULT_PORT : endpointPort);
    const domainName = auroraDomainName(endpoint.hostname);
    return {
      spec: {
        kind: 'aurora',
        domainName,
        port,
        instanceEndpoints: this.instanceEndpoints(domainName),
        maxReplicaLagMs: options.maxReplicaLagSeconds * 1000,
        useTls: options.useTls,
      },
      writerEndpoint: { host: endpoint.hostname, port },
      ports: [port],
      // An imported cluster without security groups has nothing to open: the service falls back to egress
      // to the VPC's CIDR, and the bootstrap step needs them (it says so).
      databaseConnections: this.cluster.connections.securityGroups.length > 0 ? this.cluster : undefined,
      adminSecret: this.options.adminSecret ?? clusterSecret(this.cluster),
      // A cluster defined in this app holds its instances as children; an imported one holds no resource.
      dependables: [this.cluster],
      rdsManaged: true,
      cluster: this.cluster,
    };
  }

  /**
   * ProxySQL's Aurora monitor only talks to servers already in its tables, so it needs at least one instance
   * endpoint to start from (the cluster endpoint's name never equals SERVER_ID + domain_name, so it would
   * stay behind as an unmanaged server). A new cluster knows its instances; an imported one must say.
   */
  private instanceEndpoints(domainName: string): string[] {
    let endpoints: string[] = [];
    try {
      endpoints = this.cluster.instanceEndpoints.map((e) => e.hostname);
    } catch {
      try {
        // Plain text when both are known at synth (a literal in the template, checked below), else a token
        endpoints = this.cluster.instanceIdentifiers.map((id) => auroraInstanceEndpoint(id, domainName));
      } catch {
        endpoints = [];
      }
    }
    if (endpoints.length === 0) {
      throw new Error(
        'ProxySqlServiceProps.backend: the Aurora cluster has no known instances. Import it with ' +
          '`instanceIdentifiers` (or `instanceEndpointAddresses`) so ProxySQL has an instance to start discovery from.',
      );
    }
    endpoints.forEach((e, i) => checkProp(`ProxySqlServiceProps.backend (instance endpoint ${i})`, e, hostProblem));
    return endpoints;
  }
}

/** `.<hash>.<region>.rds.amazonaws.com` from the cluster endpoint, at synth when known, else at deploy time. */
export function auroraDomainName(clusterHostname: string): string {
  if (!Token.isUnresolved(clusterHostname)) {
    try {
      return auroraInstanceDomain(clusterHostname);
    } catch (error) {
      throw new Error(`ProxySqlServiceProps.backend: ${(error as Error).message}`);
    }
  }
  return Fn.join('', ['.', Fn.select(1, Fn.split(AURORA_CLUSTER_ENDPOINT_SEPARATOR, clusterHostname))]);
}

function clusterSecret(cluster: rds.IDatabaseCluster): secretsmanager.ISecret | undefined {
  // IDatabaseCluster does not declare `secret`; a DatabaseCluster with generated credentials has one.
  return (cluster as Partial<Pick<rds.DatabaseCluster, 'secret'>>).secret;
}

class EndpointsBackend extends ProxySqlBackend {
  constructor(private readonly options: EndpointsBackendOptions) {
    super();
  }

  public _bind(options: ProxySqlBackendBindOptions): ProxySqlBackendConfig {
    const writer = hostPort(this.options.writer, 'ProxySqlServiceProps.backend.writer');
    const readers = (this.options.readers ?? []).map((r, i) => hostPort(r, `ProxySqlServiceProps.backend.readers[${i}]`));
    const all = [writer, ...readers];
    const keys = all.map((e) => `${e.host}:${e.port}`);
    const duplicate = keys.find((k, i) => keys.indexOf(k) !== i && !Token.isUnresolved(k));
    if (duplicate) {
      throw new Error(`ProxySqlServiceProps.backend: endpoint ${duplicate} is listed twice; list each server once`);
    }
    const checkType = this.options.replicationCheckType ?? 'read_only';
    checkProp('ProxySqlServiceProps.backend.replicationCheckType', checkType, checkTypeProblem);
    return {
      spec: {
        kind: 'endpoints',
        writer,
        readers,
        checkType,
        maxReplicaLagSeconds: options.maxReplicaLagSeconds,
        useTls: options.useTls,
      },
      writerEndpoint: writer,
      ports: [...new Set(all.map((e) => e.port))],
      databaseConnections: this.options.databaseConnections,
      adminSecret: this.options.adminSecret,
      // RDS for MySQL endpoints end in .rds.amazonaws.com (.cn in China); a token or another host is not assumed.
      rdsManaged: all.every((e) => !Token.isUnresolved(e.host) && /\.rds\.amazonaws\.com(\.cn)?\.?$/i.test(e.host)),
    };
  }
}

function hostPort(endpoint: MySqlEndpoint, path: string): HostPort {
  const port = endpoint.port ?? MYSQL_DEFAULT_PORT;
  checkProp(`${path}.port`, port, portProblem);
  checkProp(`${path}.hostname`, endpoint.hostname, hostProblem);
  return { host: endpoint.hostname, port };
}

/**
 * The backend as the template gets it: every host, port and Aurora domain that is a CloudFormation token (a
 * CfnParameter, an imported endpoint, or a new cluster's attributes) becomes a deploy-time value, checked by the
 * entrypoint with the rule synth checks a literal with (`host`, `port`, `domain`) and never pasted into the template,
 * where CloudFormation would resolve it unchecked and unescaped. A new cluster's real endpoints pass the same rules.
 */
export function templateBackendSpec(spec: BackendSpec, values: DeployValues): BackendSpec<DeployValue> {
  const host = (value: string, source: string) => (Token.isUnresolved(value) ? values.of(value, { kind: 'host' }, source) : value);
  const port = (value: number, source: string) =>
    Token.isUnresolved(value) ? values.of(Tokenization.stringifyNumber(value), { kind: 'port' }, source) : value;
  const endpoint = (e: BackendEndpoint, path: string): BackendEndpoint<DeployValue> => ({ host: host(e.host, `${path}.hostname`), port: port(e.port, `${path}.port`) });
  const props = 'ProxySqlServiceProps.backend';
  if (spec.kind === 'endpoints') {
    return { ...spec, writer: endpoint(spec.writer, `${props}.writer`), readers: spec.readers.map((r, i) => endpoint(r, `${props}.readers[${i}]`)) };
  }
  return {
    ...spec,
    domainName: Token.isUnresolved(spec.domainName)
      ? values.of(spec.domainName, { kind: 'domain' }, `${props} (instance domain)`)
      : spec.domainName,
    port: port(spec.port, `${props}.port`),
    instanceEndpoints: spec.instanceEndpoints.map((e, i) => host(e, `${props} (instance endpoint ${i})`)),
  };
}
