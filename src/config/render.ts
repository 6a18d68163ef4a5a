/**
 * Renders a {@link ProxySqlConfig} to `proxysql.cnf` text: the one place that knows the file's syntax.
 *
 * proxysql.cnf is libconfig (https://hyperrealm.github.io/libconfig/): `name=value` settings, `{ … }` groups,
 * `( … )` lists, double-quoted strings with `\"` and `\\` escapes, `#` comments. Section and key names follow
 * the annotated etc/proxysql.cnf shipped with ProxySQL; variables are written without their `admin-` /
 * `mysql-` prefix, table rows with the column names of the admin tables.
 */
import {
  isDeployValue,
  isSecretPlaceholder,
  ProxySqlConfig,
  Variable,
  VariableValue,
} from './model';
import { deployValueText, escapeLibconfigString, placeholderText, RESERVED_OPENINGS } from './secrets';

type Row = ReadonlyArray<readonly [string, VariableValue | undefined]>;

/**
 * Each table's columns, in the admin table's order. A column's value is the model field of the column's name in
 * camelCase (`max_lag_ms` → `maxLagMs`; see FIELD_OF for the two that are not), a boolean written as 0/1.
 */
const COLUMNS = {
  mysql_servers: ['hostgroup', 'address', 'port', 'weight', 'max_connections', 'max_replication_lag', 'use_ssl', 'comment'],
  mysql_users: ['username', 'password', 'active', 'default_hostgroup', 'transaction_persistent', 'max_connections', 'default_schema', 'use_ssl', 'comment'],
  mysql_query_rules: ['rule_id', 'active', 'flagIN', 'username', 'match_digest', 'match_pattern', 'destination_hostgroup', 'cache_ttl', 'multiplex', 'next_query_flagIN', 'error_msg', 'apply', 'comment'],
  mysql_replication_hostgroups: ['writer_hostgroup', 'reader_hostgroup', 'check_type', 'comment'],
  mysql_aws_aurora_hostgroups: ['writer_hostgroup', 'reader_hostgroup', 'active', 'aurora_port', 'domain_name', 'max_lag_ms', 'check_interval_ms', 'check_timeout_ms', 'writer_is_also_reader', 'new_reader_weight', 'add_lag_ms', 'min_lag_ms', 'lag_num_checks', 'comment'],
  mysql_hostgroup_attributes: ['hostgroup_id', 'free_connections_pct', 'connection_warming', 'throttle_connections_per_sec', 'hostgroup_settings', 'servers_defaults', 'comment'],
} as const satisfies Record<string, readonly string[]>;

/** Columns whose model field is not their camelCase name, and users' `active`, which the model does not carry. */
const FIELD_OF: Readonly<Record<string, string>> = { flagIN: 'flagIn', next_query_flagIN: 'nextQueryFlagIn' };
const FIXED: Readonly<Record<string, Readonly<Record<string, VariableValue>>>> = { mysql_users: { active: 1 } };

function row(record: object, table: keyof typeof COLUMNS): Row {
  const fields = record as Readonly<Record<string, VariableValue | undefined>>;
  const fixed = FIXED[table] ?? {};
  return COLUMNS[table].map((column) => {
    const value = column in fixed ? fixed[column] : fields[FIELD_OF[column] ?? camelCase(column)];
    return [column, typeof value === 'boolean' ? (value ? 1 : 0) : value] as const;
  });
}

function camelCase(column: string): string {
  return column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** Renders the configuration. Secrets stay placeholders; see ./secrets.ts. */
export function renderProxySqlConfig(config: ProxySqlConfig): string {
  const out: string[] = [
    '# proxysql.cnf rendered by serverless-proxysql from its typed model (src/config).',
    '# Secrets are placeholders (src/config/secrets.ts) that the container entrypoint fills in at task start.',
    '# ProxySQL reads this file on every start (proxysql --initial): change the model, not this file.',
    '',
    `datadir=${renderString(config.datadir)}`,
    ...renderTopLevel(config.topLevel ?? {}),
    '',
    ...renderVariables('admin_variables', config.adminVariables),
    '',
    ...renderVariables('mysql_variables', config.mysqlVariables),
  ];
  const lists: Array<[keyof typeof COLUMNS, readonly object[]]> = [
    ['mysql_servers', config.mysqlServers],
    ['mysql_users', config.mysqlUsers],
    ['mysql_query_rules', config.mysqlQueryRules],
    ['mysql_replication_hostgroups', config.mysqlReplicationHostgroups],
    ['mysql_aws_aurora_hostgroups', config.mysqlAwsAuroraHostgroups],
    ['mysql_hostgroup_attributes', config.mysqlHostgroupAttributes],
  ];
  for (const [name, records] of lists) {
    if (records.length === 0) continue;
    out.push('', ...renderList(name, records.map((record) => row(record, name))));
  }
  return out.join('\n') + '\n';
}

function renderVariables(section: string, variables: Readonly<Record<string, Variable>>): string[] {
  const lines = [`${section}=`, '{'];
  for (const [name, variable] of Object.entries(variables)) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) {
      throw new Error(`${section}: variable name '${name}' must be lower case letters, digits and underscores`);
    }
    if (variable.reason) lines.push(`  # ${oneLine(variable.reason)}`);
    lines.push(`  ${name}=${renderValue(variable.value)}`);
  }
  lines.push('}');
  return lines;
}

function renderTopLevel(settings: Readonly<Record<string, Variable>>): string[] {
  return Object.entries(settings).flatMap(([name, setting]) => {
    // libconfig names may hold a hyphen (`[A-Za-z*][-A-Za-z0-9_*]*`); ProxySQL's top-level ones do
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) throw new Error(`top-level setting name '${name}' must be lower case letters, digits, - and _`);
    return [...(setting.reason ? [`# ${oneLine(setting.reason)}`] : []), `${name}=${renderValue(setting.value)}`];
  });
}

function renderList(name: string, rows: Row[]): string[] {
  const body = rows.map((row) => {
    const fields = row
      .filter((field): field is readonly [string, VariableValue] => field[1] !== undefined)
      .map(([key, value]) => `${key}=${renderValue(value)}`);
    return `  { ${fields.join(', ')} }`;
  });
  return [`${name}=`, '(', body.join(',\n'), ')'];
}

function renderValue(value: VariableValue): string {
  if (isSecretPlaceholder(value)) {
    return `"${escapeLibconfigString(checkLiteral(value.prefix ?? ''))}${placeholderText(value)}"`;
  }
  // Never the value itself: the entrypoint checks it by its rule and escapes it at task start.
  if (isDeployValue(value)) return value.unquoted ? deployValueText(value) : `"${deployValueText(value)}"`;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`proxysql.cnf takes whole numbers only, got ${value}`);
    // ProxySQL's loader reads values with lookupValue(name, int): a 64-bit (L) value would silently become ''.
    if (Math.abs(value) > 2_147_483_647) throw new Error(`proxysql.cnf integers must fit 32 bits, got ${value}`);
    return String(value);
  }
  return renderString(value);
}

function renderString(value: string): string {
  return `"${escapeLibconfigString(checkLiteral(value))}"`;
}

function checkLiteral(value: string): string {
  const opening = RESERVED_OPENINGS.find((o) => value.includes(o));
  if (opening !== undefined) {
    throw new Error(`a literal value may not contain '${opening}' (reserved for the values the entrypoint fills in)`);
  }
  if (/[\n\r]/.test(value)) throw new Error('a proxysql.cnf value may not contain a line break');
  return value;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
