/**
 * The `--config FILE` of `render` and `explain`: a JSON object whose keys are the construct's props
 * (ProxySqlServiceProps), for the settings that have no command-line flag. One table gives the check of every key,
 * the key list in `--help` and the table in docs/cli.md. Keys of older releases get an error naming the new key.
 */
import * as fs from 'node:fs';
import { DEFAULT_BACKEND_TLS, DEFAULT_BORROW_TIMEOUT_SECONDS, DEFAULT_MAX_BACKEND_CONNECTIONS_PER_SERVER, DEFAULT_MAX_REPLICA_LAG_SECONDS, MAX_IDLE_CLIENT_TIMEOUT_SECONDS } from '../src/constants';
import { PROP_VARIABLES } from '../src/config/build';
import { ReplicationCheckType } from '../src/config/model';
import { QueryRuleInput } from '../src/config/query-rules';
import { DEFAULT_READ_YOUR_WRITES_STATEMENTS, ReadConsistency } from '../src/config/session-state';
import {
  CHECK_TYPES,
  checkTypeProblem,
  idleClientTimeoutProblem,
  initQueryProblem,
  mysqlVariablesProblem,
  Range,
  RANGES,
  rangeProblem,
  READ_CONSISTENCY_MODES,
  readConsistencyProblem,
} from '../src/config/rules';
import { checkOption, UsageError } from './common';

/** What `--config FILE` may hold. */
export interface ConfigFile {
  readonly queryRules?: readonly QueryRuleInput[];
  readonly defaultQueryRules?: boolean;
  readonly readConsistency?: `${ReadConsistency}`;
  readonly readYourWritesStatements?: number;
  readonly keepConnectionForLastInsertId?: boolean;
  readonly allowAccountStatements?: boolean;
  readonly checkType?: `${ReplicationCheckType}`;
  /** Whole seconds (the construct takes a Duration). */
  readonly maxReplicaLag?: number;
  /** Whole seconds (the construct takes a Duration). */
  readonly borrowTimeout?: number;
  /** Whole seconds (the construct takes a Duration). */
  readonly idleClientTimeout?: number;
  readonly initQuery?: string;
  readonly backendTls?: boolean;
  readonly clientTls?: boolean;
  readonly maxClientConnections?: number;
  readonly maxBackendConnectionsPerServer?: number;
  readonly mysqlVariables?: Readonly<Record<string, string | number | boolean>>;
  readonly threads?: number;
}

export interface ConfigKeySpec<T> {
  /** Where the construct takes the same setting. */
  readonly prop: string;
  /** What the value is, in words. */
  readonly value: string;
  readonly default: string;
  readonly help: string;
  /** The checked value; throws a UsageError naming `at` (`--config FILE: key`). */
  read(value: unknown, at: string): T;
}

function boolean(value: unknown, at: string): boolean {
  if (typeof value !== 'boolean') throw new UsageError(`${at}: must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** A key checked by one of the project's ranges (src/config/rules.ts RANGES), the construct's too. */
function wholeNumber(range: Range): Pick<ConfigKeySpec<number>, 'value' | 'read'> {
  return {
    value: `whole ${range.unit ?? 'number'}, ${range.min}-${range.max}`,
    read(value, at) {
      checkOption(at, rangeProblem(value, range));
      return value as number;
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every key, in the order help and docs list them. The checks are the construct's rules (src/config/rules.ts). */
export const CONFIG_KEYS: { readonly [K in keyof ConfigFile]-?: ConfigKeySpec<NonNullable<ConfigFile[K]>> } = {
  queryRules: {
    prop: 'queryRules',
    value: 'array of rules',
    default: '[]',
    help: 'custom query rules, evaluated before the default read/write split; patterns are checked with RE2',
    read(value, at) {
      if (!Array.isArray(value)) throw new UsageError(`${at}: must be an array of rules`);
      value.forEach((rule, i) => {
        if (!isObject(rule)) throw new UsageError(`${at}[${i}]: must be an object like {"matchDigest": "^SELECT", "destination": "writer"}`);
      });
      // Only the shape here: buildQueryRules checks each rule with RE2, the code the construct runs.
      return value as QueryRuleInput[];
    },
  },
  defaultQueryRules: { prop: 'defaultQueryRules', value: 'true | false', default: 'true', help: 'keep the default read/write-split rules', read: boolean },
  readConsistency: {
    prop: 'readConsistency',
    value: READ_CONSISTENCY_MODES.join(' | '),
    default: ReadConsistency.READ_YOUR_WRITES,
    help: 'where reads that follow a write go: the writer for the next statements (read-your-writes), always the writer, or the replicas',
    read(value, at) {
      checkOption(at, readConsistencyProblem(value));
      return value as `${ReadConsistency}`;
    },
  },
  keepConnectionForLastInsertId: {
    prop: 'keepConnectionForLastInsertId',
    value: 'true | false',
    default: 'false',
    help: 'keep the writer connection briefly after an INSERT so LAST_INSERT_ID() in any spelling is right',
    read: boolean,
  },
  allowAccountStatements: {
    prop: 'allowAccountStatements',
    value: 'true | false',
    default: 'false',
    help: 'let clients run SET PASSWORD, CREATE/ALTER/DROP USER, GRANT and REVOKE through the proxy',
    read: boolean,
  },
  readYourWritesStatements: {
    prop: 'readYourWritesStatements',
    default: String(DEFAULT_READ_YOUR_WRITES_STATEMENTS),
    help: 'with read-your-writes: statements after a write that stay on the writer',
    ...wholeNumber(RANGES.readYourWritesStatements),
  },
  checkType: {
    prop: 'backend: ProxySqlBackend.endpoints({ replicationCheckType })',
    value: CHECK_TYPES.join(' | '),
    default: 'read_only',
    help: 'the server variable that tells the writer from replicas (--writer backends only)',
    read(value, at) {
      checkOption(at, checkTypeProblem(value));
      return value as `${ReplicationCheckType}`;
    },
  },
  maxReplicaLag: {
    prop: 'maxReplicaLag (a Duration; here whole seconds)',
    default: String(DEFAULT_MAX_REPLICA_LAG_SECONDS),
    help: 'replicas lagging more than this are shunned',
    ...wholeNumber(RANGES.maxReplicaLagSeconds),
  },
  borrowTimeout: {
    prop: 'borrowTimeout (a Duration; here whole seconds)',
    default: String(DEFAULT_BORROW_TIMEOUT_SECONDS),
    help: 'how long a query waits for a backend connection before error 9001 (mysql-connect_timeout_server_max)',
    ...wholeNumber(RANGES.borrowTimeoutSeconds),
  },
  idleClientTimeout: {
    prop: 'idleClientTimeout (a Duration; here whole seconds)',
    value: `whole seconds, 1-${MAX_IDLE_CLIENT_TIMEOUT_SECONDS}`,
    default: String(MAX_IDLE_CLIENT_TIMEOUT_SECONDS),
    help: "client sessions idle this long are closed (mysql-wait_timeout); under the NLB's 350 s idle timeout",
    read(value, at) {
      checkOption(at, idleClientTimeoutProblem(value));
      return value as number;
    },
  },
  initQuery: {
    prop: 'initQuery',
    value: 'SQL text, no double quotes or line breaks',
    default: 'none',
    help: 'SQL run on every new backend connection (mysql-init_connect)',
    read(value, at) {
      checkOption(at, initQueryProblem(value));
      return value as string;
    },
  },
  backendTls: { prop: 'backendTls', value: 'true | false', default: String(DEFAULT_BACKEND_TLS), help: 'ProxySQL to the database over TLS', read: boolean },
  clientTls: { prop: 'clientTls', value: 'true | false', default: 'false', help: 'offer TLS to clients and require it of the application users', read: boolean },
  maxClientConnections: {
    prop: 'maxClientConnections',
    default: '10000',
    help: 'client connections one ProxySQL accepts',
    ...wholeNumber(RANGES.maxClientConnections),
  },
  maxBackendConnectionsPerServer: {
    prop: 'maxBackendConnectionsPerServer',
    default: String(DEFAULT_MAX_BACKEND_CONNECTIONS_PER_SERVER),
    help: 'backend connections one ProxySQL opens to each database server at most',
    ...wholeNumber(RANGES.maxBackendConnectionsPerServer),
  },
  mysqlVariables: {
    prop: 'mysqlVariables',
    value: 'object: name → string | number | boolean',
    default: '{}',
    help: "mysql_variables to add or override, names without the 'mysql-' prefix; names, types and ranges checked against ProxySQL 3.0's",
    read(value, at) {
      checkOption(at, mysqlVariablesProblem(value));
      return value as Record<string, string | number | boolean>;
    },
  },
  threads: {
    prop: 'none: the construct sets max(2, cpu / 512)',
    default: '2',
    help: 'ProxySQL worker threads',
    ...wholeNumber(RANGES.threads),
  },
};

/** Keys of earlier releases, and the construct's names that replaced them. */
export const RENAMED_CONFIG_KEYS: Readonly<Record<string, keyof ConfigFile>> = {
  tls: 'backendTls',
  mysqlVariableOverrides: 'mysqlVariables',
  maxReplicaLagSeconds: 'maxReplicaLag',
};

export const CONFIG_KEY_NAMES = Object.keys(CONFIG_KEYS) as Array<keyof ConfigFile>;

/** Checks a parsed `--config` object; `where` is `--config FILE`. */
export function checkConfigObject(data: unknown, where: string): ConfigFile {
  if (!isObject(data)) throw new UsageError(`${where}: expected a JSON object with some of ${CONFIG_KEY_NAMES.join(', ')}`);
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    const renamed = RENAMED_CONFIG_KEYS[key];
    if (renamed !== undefined) {
      throw new UsageError(`${where}: '${key}' is now '${renamed}', the construct's prop (${CONFIG_KEYS[renamed].value}); rename the key`);
    }
    if (!Object.hasOwn(CONFIG_KEYS, key)) {
      throw new UsageError(`${where}: unknown key '${key}'; the keys are ${CONFIG_KEY_NAMES.join(', ')}`);
    }
    const spec = CONFIG_KEYS[key as keyof ConfigFile] as ConfigKeySpec<unknown>;
    if (value !== undefined) config[key] = spec.read(value, `${where}: ${key}`);
  }
  // One place decides each variable, as in the construct: a key and its variable in mysqlVariables as well is refused.
  for (const [key, variable] of Object.entries(PROP_VARIABLES)) {
    const overrides = config.mysqlVariables as Record<string, unknown> | undefined;
    if (config[key] !== undefined && overrides?.[variable] !== undefined) {
      throw new UsageError(`${where}: mysqlVariables.${variable}: set by ${key} as well; keep ${key} and remove it from mysqlVariables`);
    }
  }
  return config as ConfigFile;
}

/** Reads and checks a `--config` JSON file. */
export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--config ${file}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config ${file}: not valid JSON (${(error as Error).message})`);
  }
  return checkConfigObject(data, `--config ${file}`);
}
