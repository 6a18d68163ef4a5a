/**
 * Renders a {@link ProxySqlConfig} to `proxysql.cnf` text: the one place that knows the file's syntax.
 *
 * proxysql.cnf is libconfig (https://hyperrealm.github.io/libconfig/): `name=value` settings, `{ … }` groups,
 * `( … )` lists, double-quoted strings with `\"` and `\\` escapes, `#` comments. Section and key names follow
 * the annotated etc/proxysql.cnf shipped with ProxySQL; variables are written without their `admin-` /
 * `mysql-` prefix, table rows with the column names of the admin tables.
 */
import {
  isSecretPlaceholder,
  MySqlAwsAuroraHostgroup,
  MySqlHostgroupAttributes,
  MySqlQueryRule,
  MySqlReplicationHostgroup,
  MySqlServer,
  MySqlUser,
  ProxySqlConfig,
  Variable,
  VariableValue,
} from './model';
import { escapeLibconfigString, PLACEHOLDER_OPENING, placeholderText } from './secrets';

type Row = ReadonlyArray<readonly [string, VariableValue | undefined]>;

/** Renders the configuration. Secrets stay placeholders; see ./secrets.ts. */
export function renderProxySqlConfig(config: ProxySqlConfig): string {
  const out: string[] = [
    '# proxysql.cnf rendered by serverless-proxysql from its typed model (src/config).',
    '# Secrets are placeholders (src/config/secrets.ts) that the container entrypoint fills in at task start.',
    '# ProxySQL reads this file on every start (proxysql --initial): change the model, not this file.',
    '',
    `datadir=${renderString(config.datadir)}`,
    '',
    ...renderVariables('admin_variables', config.adminVariables),
    '',
    ...renderVariables('mysql_variables', config.mysqlVariables),
  ];
  const lists: Array<[string, Row[]]> = [
    ['mysql_servers', config.mysqlServers.map(serverRow)],
    ['mysql_users', config.mysqlUsers.map(userRow)],
    ['mysql_query_rules', config.mysqlQueryRules.map(queryRuleRow)],
    ['mysql_replication_hostgroups', config.mysqlReplicationHostgroups.map(replicationRow)],
    ['mysql_aws_aurora_hostgroups', config.mysqlAwsAuroraHostgroups.map(auroraRow)],
    ['mysql_hostgroup_attributes', config.mysqlHostgroupAttributes.map(hostgroupAttributesRow)],
  ];
  for (const [name, rows] of lists) {
    if (rows.length === 0) continue;
    out.push('', ...renderList(name, rows));
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
  if (value.includes(PLACEHOLDER_OPENING)) {
    throw new Error(`a literal value may not contain '${PLACEHOLDER_OPENING}' (reserved for secret placeholders)`);
  }
  if (/[\n\r]/.test(value)) throw new Error('a proxysql.cnf value may not contain a line break');
  return value;
}

function flag(value: boolean | undefined): number | undefined {
  return value === undefined ? undefined : value ? 1 : 0;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function serverRow(s: MySqlServer): Row {
  return [
    ['hostgroup', s.hostgroup],
    ['address', s.address],
    ['port', s.port],
    ['weight', s.weight],
    ['max_connections', s.maxConnections],
    ['max_replication_lag', s.maxReplicationLag],
    ['use_ssl', flag(s.useSsl)],
    ['comment', s.comment],
  ];
}

function userRow(u: MySqlUser): Row {
  return [
    ['username', u.username],
    ['password', u.password],
    ['active', 1],
    ['default_hostgroup', u.defaultHostgroup],
    ['transaction_persistent', flag(u.transactionPersistent)],
    ['max_connections', u.maxConnections],
    ['default_schema', u.defaultSchema],
    ['use_ssl', flag(u.useSsl)],
    ['comment', u.comment],
  ];
}

function queryRuleRow(r: MySqlQueryRule): Row {
  return [
    ['rule_id', r.ruleId],
    ['active', flag(r.active)],
    ['flagIN', r.flagIn],
    ['username', r.username],
    ['match_digest', r.matchDigest],
    ['match_pattern', r.matchPattern],
    ['destination_hostgroup', r.destinationHostgroup],
    ['cache_ttl', r.cacheTtl],
    ['multiplex', r.multiplex],
    ['next_query_flagIN', r.nextQueryFlagIn],
    ['apply', flag(r.apply)],
    ['comment', r.comment],
  ];
}

function replicationRow(r: MySqlReplicationHostgroup): Row {
  return [
    ['writer_hostgroup', r.writerHostgroup],
    ['reader_hostgroup', r.readerHostgroup],
    ['check_type', r.checkType],
    ['comment', r.comment],
  ];
}

function auroraRow(a: MySqlAwsAuroraHostgroup): Row {
  return [
    ['writer_hostgroup', a.writerHostgroup],
    ['reader_hostgroup', a.readerHostgroup],
    ['active', flag(a.active)],
    ['aurora_port', a.auroraPort],
    ['domain_name', a.domainName],
    ['max_lag_ms', a.maxLagMs],
    ['check_interval_ms', a.checkIntervalMs],
    ['check_timeout_ms', a.checkTimeoutMs],
    ['writer_is_also_reader', flag(a.writerIsAlsoReader)],
    ['new_reader_weight', a.newReaderWeight],
    ['add_lag_ms', a.addLagMs],
    ['min_lag_ms', a.minLagMs],
    ['lag_num_checks', a.lagNumChecks],
    ['comment', a.comment],
  ];
}

function hostgroupAttributesRow(h: MySqlHostgroupAttributes): Row {
  return [
    ['hostgroup_id', h.hostgroupId],
    ['free_connections_pct', h.freeConnectionsPct],
    ['connection_warming', flag(h.connectionWarming)],
    ['throttle_connections_per_sec', h.throttleConnectionsPerSec],
    ['hostgroup_settings', h.hostgroupSettings],
    ['servers_defaults', h.serversDefaults],
    ['comment', h.comment],
  ];
}
