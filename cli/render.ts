/**
 * `render`: prints the proxysql.cnf a deploy would use, from the same model and code as the construct
 * (buildProxySqlConfig + renderProxySqlConfig), with the passwords filled in from the environment the way the
 * container entrypoint does it (substituteSecrets), or masked.
 */
import * as fs from 'node:fs';
import {
  ADMIN_PASSWORD_ENV,
  BACKEND_CA_FILE,
  DEFAULT_BACKEND_TLS,
  DEFAULT_MAX_REPLICA_LAG_SECONDS,
  DEFAULT_MONITOR_USER,
  MONITOR_PASSWORD_ENV,
  MYSQL_DEFAULT_PORT,
  PROXYSQL_ADMIN_PORT,
  PROXYSQL_DATADIR,
  PROXYSQL_MYSQL_PORT,
  USER_PASSWORD_ENV_PREFIX,
} from '../src/constants';
import { auroraInstanceDomain, auroraInstanceEndpoint } from '../src/config/aurora';
import { BackendSpec, buildProxySqlConfig, ProxySqlConfigSpec, userPasswordEnv } from '../src/config/build';
import { DeployValue, SecretPlaceholder } from '../src/config/model';
import { QueryRuleError } from '../src/config/query-rules';
import { caBundleProblem, riskyMysqlVariableWarning, UniqueNames } from '../src/config/rules';
import { BACKEND_TLS_UNVERIFIED, rdsCaBundle, rdsRegionOf } from '../src/config/rds-ca';
import { renderProxySqlConfig } from '../src/config/render';
import { findPlaceholders, maskSecrets, placeholderText, secretValueProblem, substituteSecrets } from '../src/config/secrets';
import { defineCommand, helpText, parseCommand, ParsedArgs } from './command-table';
import {
  checkManagedUserName,
  checkOption,
  CLI_NAME,
  CommandResult,
  ENV_NAME_PATTERN,
  Environment,
  EXIT_FAILURE,
  firstDuplicate,
  parseHostPort,
  UsageError,
} from './common';
import { CONFIG_KEY_NAMES, ConfigFile, readConfigFile } from './config-file';


export const RENDER_COMMAND = defineCommand({
  name: 'render',
  summary: 'print the proxysql.cnf a deploy would use for a backend and users',
  usage: [`${CLI_NAME} render (--writer HOST:PORT | --aurora-cluster-endpoint HOST) --user NAME [options]`],
  description: `Prints the proxysql.cnf a deploy renders for this input: same model, same defaults, same code as the
construct. Passwords come from the environment, as the container entrypoint fills them in.`,
  options: [
    { group: 'Backend (one of)', name: 'writer', value: 'HOST[:PORT]', help: `the server that takes writes (port default ${MYSQL_DEFAULT_PORT})` },
    { group: 'Backend (one of)', name: 'reader', value: 'HOST[:PORT]', multiple: true, help: 'a read replica' },
    {
      group: 'Backend (one of)',
      name: 'aurora-cluster-endpoint',
      value: 'HOST[:PORT]',
      help: 'an Aurora MySQL cluster endpoint; ProxySQL discovers the instances',
    },
    {
      group: 'Backend (one of)',
      name: 'aurora-instance',
      value: 'ID',
      multiple: true,
      help: 'an instance of that cluster, the first is the writer; at least one',
    },
    {
      group: 'Users and secrets',
      name: 'user',
      value: 'NAME',
      multiple: true,
      help: `application user, password from env ${USER_PASSWORD_ENV_PREFIX}<N> (N = its position among the --user options, from 0), as in the task`,
    },
    { group: 'Users and secrets', name: 'monitor-user', value: 'NAME', default: DEFAULT_MONITOR_USER, help: `monitor user; password from env ${MONITOR_PASSWORD_ENV}` },
    { group: 'Users and secrets', name: 'admin-password-env', value: 'VAR', default: ADMIN_PASSWORD_ENV, help: 'env var with the admin password' },
    { group: 'Users and secrets', name: 'masked', help: "print every password as ********(VAR), as 'npm run synth' does" },
    {
      group: 'Users and secrets',
      name: 'print-backend-ca',
      help: 'print the CAs ProxySQL verifies the servers with: the Amazon RDS CAs (RDS/Aurora, TLS on) or --backend-ca',
    },
    {
      group: 'Users and secrets',
      name: 'backend-ca',
      value: 'FILE',
      help: "PEM bundle of the CA that signs the servers' certificates, for servers outside RDS (the construct's backendCa)",
    },
    { group: 'ProxySQL', name: 'listen', value: 'HOST:PORT', default: `0.0.0.0:${PROXYSQL_MYSQL_PORT}`, help: 'client listener' },
    {
      group: 'ProxySQL',
      name: 'admin',
      value: 'HOST:PORT',
      default: `127.0.0.1:${PROXYSQL_ADMIN_PORT}`,
      help: 'admin interface (it shows every password: a non-loopback address warns)',
    },
    { group: 'ProxySQL', name: 'datadir', value: 'DIR', default: PROXYSQL_DATADIR, help: "ProxySQL's data dir" },
    {
      group: 'ProxySQL',
      name: 'config',
      value: 'FILE',
      help: `JSON with the construct's props that have no flag: ${CONFIG_KEY_NAMES.join(', ')} (docs/cli.md)`,
    },
  ],
  epilogue: `A password variable that is unset or empty is printed masked, with a warning; one ProxySQL cannot take
(e.g. a ' in a user password) is an error. Exit status: 0 ok, 1 bad secret value, 2 usage error.

Examples:
  PROXYSQL_USER_PASSWORD_0=... PROXYSQL_MONITOR_PASSWORD=... PROXYSQL_ADMIN_PASSWORD=... PROXYSQL_STATS_PASSWORD=... \\
    ${CLI_NAME} render --writer db.example.com:3306 --reader replica1.example.com --user app
  ${CLI_NAME} render --aurora-cluster-endpoint app.cluster-abc123.eu-west-1.rds.amazonaws.com \\
    --aurora-instance app-1 --aurora-instance app-2 --user app --masked`,
});

type RenderParsed = ParsedArgs<(typeof RENDER_COMMAND.options)[number]['name']>;

/** The checked command line of `render`. */
export type RenderArgs =
  | { readonly help: true }
  | {
      readonly help: false;
      readonly spec: ProxySqlConfigSpec;
      readonly masked: boolean;
      readonly printBackendCa: boolean;
      readonly configPath?: string;
      /** The CA bundle of --backend-ca, checked as the construct checks backendCa. */
      readonly backendCa?: string;
      /** Allowed choices that deserve a second look, one line each. */
      readonly warnings: readonly string[];
    };

/** 127.0.0.0/8 or `localhost`: an address no other machine reaches. */
export function isLoopbackHost(host: string): boolean {
  return host.toLowerCase() === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Parses and checks `render`'s arguments; throws {@link UsageError} with what to fix. */
export function parseRenderArgs(args: readonly string[]): RenderArgs {
  const parsed = parseCommand(RENDER_COMMAND, args);
  if (parsed.help) return { help: true };
  const configPath = parsed.string('config');
  const config: ConfigFile = configPath !== undefined ? readConfigFile(configPath) : {};

  const backend = backendFromArgs(parsed, config);
  const caFile = parsed.string('backend-ca');
  const backendCa = caFile === undefined ? undefined : readBackendCa(caFile, backend.useTls);

  // The construct's user rules: no reserved or admin account, not the monitor's name, each user once.
  const monitorUsername = checkManagedUserName(parsed.withDefault('monitor-user'), '--monitor-user');
  const seen = new UniqueNames();
  const users = parsed.list('user').map((name, i) => {
    checkManagedUserName(name, '--user', { monitorUsername });
    checkOption('--user', seen.problem(name, `--user #${i + 1}`));
    return name;
  });
  if (users.length === 0) {
    throw new UsageError('give at least one application user with --user NAME (ProxySQL accepts no other logins)');
  }
  const adminEnv = parsed.withDefault('admin-password-env');
  if (!ENV_NAME_PATTERN.test(adminEnv)) {
    throw new UsageError(`--admin-password-env '${adminEnv}': an environment variable name is upper-case letters, digits and _`);
  }
  // With the defaults filled in by the table: --listen 0.0.0.0:6032 alone clashes with the default admin port.
  const listen = parseHostPort(parsed.withDefault('listen'), '--listen', PROXYSQL_MYSQL_PORT);
  const admin = parseHostPort(parsed.withDefault('admin'), '--admin', PROXYSQL_ADMIN_PORT);
  if (listen.port === admin.port) {
    throw new UsageError(`--listen and --admin both use port ${listen.port}; give them different ports`);
  }
  const warnings: string[] = [];
  if (!isLoopbackHost(admin.host)) {
    warnings.push(
      `warning: --admin ${admin.host}:${admin.port} is not a loopback address: ProxySQL's admin interface, which shows every password in clear (mysql_users, the monitor's) and can change the whole configuration, would listen where other machines reach it; a deploy keeps it on 127.0.0.1`,
    );
  }
  for (const [name, value] of Object.entries(config.mysqlVariables ?? {})) {
    const risky = riskyMysqlVariableWarning(name, value);
    if (risky !== undefined) warnings.push(`warning: --config ${configPath}: ${risky}`);
  }
  const datadir = parsed.withDefault('datadir');
  if (!datadir.startsWith('/') || /["\n\r\\]/.test(datadir)) {
    throw new UsageError(`--datadir '${datadir}': give an absolute path without quotes, backslashes or line breaks`);
  }

  const spec: ProxySqlConfigSpec = {
    backend,
    users: users.map((username, index) => ({ username, password: { kind: 'mysql_user', env: userPasswordEnv(index) } })),
    monitorUsername,
    monitorPassword: { kind: 'monitor', env: MONITOR_PASSWORD_ENV },
    adminPassword: { kind: 'admin', env: adminEnv },
    queryRules: config.queryRules,
    defaultQueryRules: config.defaultQueryRules,
    readConsistency: config.readConsistency,
    readYourWritesStatements: config.readYourWritesStatements,
    keepConnectionForLastInsertId: config.keepConnectionForLastInsertId,
    allowAccountStatements: config.allowAccountStatements,
    threads: config.threads,
    maxClientConnections: config.maxClientConnections,
    maxBackendConnectionsPerServer: config.maxBackendConnectionsPerServer,
    listen,
    admin,
    datadir,
    clientTls: config.clientTls,
    mysqlVariableOverrides: config.mysqlVariables,
    borrowTimeoutSeconds: config.borrowTimeout,
    idleClientTimeoutSeconds: config.idleClientTimeout,
    initQuery: config.initQuery,
  };
  return { help: false, spec, masked: parsed.flag('masked'), printBackendCa: parsed.flag('print-backend-ca'), configPath, backendCa, warnings };
}

/** The PEM bundle of `--backend-ca FILE`, by the rule of the construct's backendCa. */
function readBackendCa(file: string, useTls: boolean): string {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--backend-ca ${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  checkOption(`--backend-ca ${file}`, caBundleProblem(pem, useTls));
  return pem.trim();
}

/**
 * The warning a deploy gives as `serverless-proxysql:backendTlsUnverified` (src/backend-ca.ts), for the servers named
 * on the command line: TLS on, no CA known for them, none given.
 */
export function unverifiedTlsWarning(backend: BackendSpec<DeployValue>): string {
  // the CLI's hosts are literals; a DeployValue (a deploy-time value) is named by its variable
  const name = (host: string | DeployValue) => (typeof host === 'string' ? host : `{{param:${host.param}}}`);
  const hosts = backend.kind === 'aurora' ? [`*${name(backend.domainName)}`] : [backend.writer.host, ...backend.readers.map((r) => r.host)].map(name);
  return (
    `warning: TLS to the database is encrypted but not authenticated (${BACKEND_TLS_UNVERIFIED}, as the construct warns): ` +
    `${hosts.join(', ')} ${hosts.length > 1 ? 'are not RDS or Aurora endpoints' : 'is not an RDS or Aurora endpoint'} of one known region, so no CA is known; ` +
    "give --backend-ca FILE with the CA that signs the servers' certificates\n"
  );
}

function backendFromArgs(parsed: RenderParsed, config: ConfigFile): BackendSpec {
  const writerText = parsed.string('writer');
  const clusterText = parsed.string('aurora-cluster-endpoint');
  const readerTexts = parsed.list('reader');
  const instanceIds = parsed.list('aurora-instance');
  const useTls = config.backendTls ?? DEFAULT_BACKEND_TLS;
  const lagSeconds = config.maxReplicaLag ?? DEFAULT_MAX_REPLICA_LAG_SECONDS;

  if (writerText !== undefined && clusterText !== undefined) {
    throw new UsageError('give either --writer (MySQL endpoints) or --aurora-cluster-endpoint (Aurora), not both');
  }
  if (writerText === undefined && clusterText === undefined) {
    throw new UsageError('give the backend: --writer HOST:PORT (with --reader for replicas) or --aurora-cluster-endpoint HOST');
  }
  if (clusterText !== undefined) {
    if (readerTexts.length > 0) {
      throw new UsageError('--reader is for --writer backends; with Aurora, list instances with --aurora-instance ID');
    }
    if (config.checkType !== undefined) {
      throw new UsageError('--config checkType applies to --writer backends; Aurora roles come from replica_host_status');
    }
    const cluster = parseHostPort(clusterText, '--aurora-cluster-endpoint');
    let domainName: string;
    try {
      domainName = auroraInstanceDomain(cluster.host);
    } catch (error) {
      throw new UsageError(`--aurora-cluster-endpoint: ${(error as Error).message}`);
    }
    if (instanceIds.length === 0) {
      throw new UsageError(
        '--aurora-cluster-endpoint needs at least one --aurora-instance ID: ProxySQL starts discovery from a known instance',
      );
    }
    for (const id of instanceIds) {
      // RDS DB instance identifiers: 1-63 letters, digits, hyphens; a letter first; no -- and no trailing -.
      if (!/^[A-Za-z](?:[A-Za-z0-9]|-(?!-)){0,62}$/.test(id) || id.endsWith('-')) {
        throw new UsageError(
          `--aurora-instance '${id}': an instance identifier is 1-63 letters, digits and single hyphens, starting with a letter`,
        );
      }
    }
    const duplicate = firstDuplicate(instanceIds.map((id) => id.toLowerCase()));
    if (duplicate !== undefined) throw new UsageError(`--aurora-instance '${duplicate}' is given twice; list each instance once`);
    return {
      kind: 'aurora',
      domainName,
      port: cluster.port,
      // Lower case: SERVER_ID in replica_host_status is lower case and ProxySQL compares names exactly.
      instanceEndpoints: instanceIds.map((id) => auroraInstanceEndpoint(id.toLowerCase(), domainName)),
      maxReplicaLagMs: lagSeconds * 1000,
      useTls,
    };
  }
  if (instanceIds.length > 0) {
    throw new UsageError('--aurora-instance is for --aurora-cluster-endpoint backends; with --writer, list replicas with --reader');
  }
  const writer = parseHostPort(writerText as string, '--writer');
  const readers = readerTexts.map((text) => parseHostPort(text, '--reader'));
  const keys = [writer, ...readers].map((e) => `${e.host.toLowerCase()}:${e.port}`);
  const duplicate = firstDuplicate(keys);
  if (duplicate !== undefined) throw new UsageError(`endpoint ${duplicate} is given twice (--writer/--reader); list each server once`);
  return {
    kind: 'endpoints',
    writer,
    readers,
    checkType: config.checkType ?? 'read_only',
    maxReplicaLagSeconds: lagSeconds,
    useTls,
  };
}

/** The {@link ProxySqlConfigSpec} `render` builds from these arguments: the input of buildProxySqlConfig. */
export function configSpecFromRenderArgs(args: readonly string[]): ProxySqlConfigSpec {
  const parsed = parseRenderArgs(args);
  if (parsed.help) throw new UsageError('render --help has no config spec');
  return parsed.spec;
}

/** The config template (placeholders in) for a spec, with rule errors turned into usage errors. */
export function renderTemplate(spec: ProxySqlConfigSpec, where = '--config'): string {
  try {
    return renderProxySqlConfig(buildProxySqlConfig(spec));
  } catch (error) {
    if (error instanceof QueryRuleError) throw new UsageError(`${where}: ${error.message}`);
    throw error;
  }
}

/**
 * Fills the template's placeholders from `env`. A variable that is unset or empty stays masked (with a
 * warning): printing an empty password would be a config that silently fails to log in.
 */
export function fillSecrets(template: string, env: Environment): { text: string; warnings: string[] } {
  const warnings: string[] = [];
  let text = template;
  for (const placeholder of findPlaceholders(template)) {
    const value = env[placeholder.env];
    if (value === undefined || value === '') {
      const own = placeholderText(placeholder);
      text = text.split(own).join(maskSecrets(own));
      warnings.push(`warning: ${placeholder.env} is not set: the ${describe(placeholder)} is printed masked; set it to print the real value`);
      continue;
    }
    const problem = secretValueProblem(placeholder.kind, value);
    if (problem !== undefined) {
      throw new UsageError(`${placeholder.env} (${describe(placeholder)}) ${problem}; choose another password`, EXIT_FAILURE);
    }
  }
  return { text: substituteSecrets(text, env), warnings };
}

function describe(placeholder: SecretPlaceholder): string {
  switch (placeholder.kind) {
    case 'admin':
      return 'ProxySQL admin password';
    case 'stats':
      return 'ProxySQL stats password';
    case 'monitor':
      return 'monitor password';
    default:
      return 'application user password';
  }
}

/** `render` without a process: arguments and environment in, output and exit status out. */
export function renderCommand(args: readonly string[], env: Environment): CommandResult {
  try {
    const parsed = parseRenderArgs(args);
    if (parsed.help) return { stdout: helpText(RENDER_COMMAND), stderr: '', exitCode: 0 };
    // As the construct does: the CA given, else RDS/Aurora servers are verified against the RDS CAs of their region,
    // else (TLS on) a warning that the servers are not authenticated.
    const { useTls } = parsed.spec.backend;
    const region = useTls && parsed.backendCa === undefined ? rdsRegionOf(parsed.spec.backend) : undefined;
    const ca = parsed.backendCa ?? (region === undefined ? undefined : rdsCaBundle(region));
    if (parsed.printBackendCa) {
      if (ca === undefined) {
        throw new UsageError('--print-backend-ca: the backend is not RDS/Aurora with TLS (or its region is unknown) and no --backend-ca is given: no CA to print');
      }
      return { stdout: `${ca}\n`, stderr: '', exitCode: 0 };
    }
    const spec = ca === undefined ? parsed.spec : { ...parsed.spec, backendCaFile: BACKEND_CA_FILE };
    const what = parsed.backendCa !== undefined ? 'the bundle of --backend-ca' : `the Amazon RDS CAs of ${region}`;
    const note =
      ca !== undefined
        ? `note: ProxySQL verifies the database's certificate against ${BACKEND_CA_FILE}: put ${what} there (render … --print-backend-ca prints them)\n`
        : useTls
          ? unverifiedTlsWarning(parsed.spec.backend)
          : '';
    const template = renderTemplate(spec, `--config ${parsed.configPath ?? ''}`.trim());
    const choices = parsed.warnings.map((w) => `${w}\n`).join('');
    if (parsed.masked) return { stdout: maskSecrets(template), stderr: note + choices, exitCode: 0 };
    const { text, warnings } = fillSecrets(template, env);
    return { stdout: text, stderr: note + choices + warnings.map((w) => `${w}\n`).join(''), exitCode: 0 };
  } catch (error) {
    if (error instanceof UsageError) return { stdout: '', stderr: `${CLI_NAME} render: ${error.message}\n`, exitCode: error.exitCode };
    throw error;
  }
}
