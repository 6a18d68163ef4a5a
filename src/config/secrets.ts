/**
 * Secret placeholders in the rendered template, and the rules for the values that replace them.
 *
 * The template that reaches the container holds `{{secret:<kind>:<ENV>}}` inside a double-quoted libconfig
 * string. At task start the entrypoint (runtime/proxysql/entrypoint.sh) replaces each one with the value
 * of environment variable ENV (injected by ECS from Secrets Manager), escaped for libconfig. This module is
 * the TypeScript twin of that substitution (used by the CLI's `render` and by the tests that check the
 * shell script against it), and the single list of characters ProxySQL cannot take in each kind of secret.
 */
import { DeployValue, SecretKind, SecretPlaceholder } from './model';
import { ValueRule, valueRuleProblem } from './rules';

const PLACEHOLDER_PATTERN = /\{\{secret:(admin|stats|monitor|mysql_user):([A-Z_][A-Z0-9_]*)\}\}/g;
/** Secrets and deploy-time values in one pass, as the entrypoint scans: a filled-in value is never scanned again. */
const ANY_PLACEHOLDER_PATTERN = /\{\{(?:secret:(admin|stats|monitor|mysql_user)|param):([A-Z_][A-Z0-9_]*)\}\}/g;

/** Opening of every secret placeholder: no literal string in the config may contain it. */
export const PLACEHOLDER_OPENING = '{{secret:';
/** Opening of every deploy-time value ({@link DeployValue}): no literal string may contain it either. */
export const PARAM_OPENING = '{{param:';
/** The openings the entrypoint fills in: reserved in every literal (./render.ts) and in every text rule (./rules.ts). */
export const RESERVED_OPENINGS: readonly string[] = [PLACEHOLDER_OPENING, PARAM_OPENING];

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

export function placeholderText(placeholder: SecretPlaceholder): string {
  if (!ENV_NAME.test(placeholder.env)) {
    throw new Error(`secret environment variable name '${placeholder.env}' must match [A-Z_][A-Z0-9_]*`);
  }
  return `{{secret:${placeholder.kind}:${placeholder.env}}}`;
}

/** `{{param:ENV}}`: where the entrypoint writes the checked, escaped value of ENV. */
export function deployValueText(value: DeployValue): string {
  if (!ENV_NAME.test(value.param)) throw new Error(`parameter environment variable name '${value.param}' must match [A-Z_][A-Z0-9_]*`);
  return `${PARAM_OPENING}${value.param}}}`;
}

/** The environment variable that carries a deploy-time value's rule (./rules.ts valueRuleText) to the entrypoint. */
export function deployValueRuleEnv(env: string): string {
  return `${env}_RULE`;
}

/** The environment variable that names where a value came from (a prop path, a secret's ARN) in the entrypoint's errors. */
export function sourceEnv(env: string): string {
  return `${env}_SOURCE`;
}

/** Parses `<ENV>_RULE` text back into a rule (undefined when it is not one): what the entrypoint's `param` accepts. */
export function parseValueRule(text: string | undefined): ValueRule | undefined {
  const plain = ['name', 'text', 'bool', 'host', 'domain', 'port'] as const;
  const kind = plain.find((k) => k === text);
  if (kind !== undefined) return { kind };
  const int = /^int (-?[0-9]{1,16}) (-?[0-9]{1,16})$/.exec(text ?? '');
  return int ? { kind: 'int', min: Number(int[1]), max: Number(int[2]) } : undefined;
}

/**
 * Why the deploy-time value in `env[name]` cannot be written, or undefined: the entrypoint's `param` check, word for
 * word (the value is never shown; the source, e.g. the prop path, names it).
 */
export function deployValueProblem(name: string, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const rule = parseValueRule(env[deployValueRuleEnv(name)]);
  const problem = rule === undefined ? `has no rule in ${deployValueRuleEnv(name)} (the ProxySqlService construct sets it)` : valueRuleProblem(rule, env[name] ?? '');
  if (problem === undefined) return undefined;
  const source = env[sourceEnv(name)];
  return `${source && !/[\r\n]/.test(source) ? `${source} (${name})` : name} ${problem}`;
}

/** Every placeholder in a rendered template, in order of appearance, without duplicates. */
export function findPlaceholders(template: string): SecretPlaceholder[] {
  const seen = new Map<string, SecretPlaceholder>();
  for (const match of template.matchAll(PLACEHOLDER_PATTERN)) {
    seen.set(match[0], { kind: match[1] as SecretKind, env: match[2] });
  }
  return [...seen.values()];
}

/**
 * Characters a secret of each kind must not hold, with the reason. ProxySQL facts behind them (read in
 * sysown/proxysql lib/ProxySQL_Config.cpp, see docs/research/proxysql-runtime.md §3, and seen with a real
 * ProxySQL 2.7.1):
 * - mysql_users: the loader formats username and password into `VALUES ('%s', '%s', …)` unescaped (only
 *   `comment` is escaped), so a single quote makes the user silently disappear; a password starting with
 *   `*` is taken as a mysql_native_password hash (percona-xtradb-cluster-operator#1961).
 * - admin_variables / mysql_variables (admin_ and stats_credentials, monitor_password): the 3.0-era loader formats
 *   `VALUES ("%s-%s", "%s")` unescaped, so a double quote drops the variable back to its default
 *   (admin:admin, monitor:monitor); newer code binds parameters, we assume the worst case.
 * - admin_credentials and stats_credentials are `user:password;user:password`: `:` and `;` split them.
 * - no secret may hold a line break: one libconfig line, one env var line.
 * ASSUMPTION (confirm at acceptance against 3.0.12): the 3.0-era loader (A) in the research note is what
 * 3.0.12 ships, or something at least as strict.
 */
/** What a password in an admin `user:password;…` variable must not hold. */
function credentialsForbidden(variable: string): ReadonlyArray<{ char: string; name: string; why: string }> {
  return [
    { char: ':', name: 'a colon', why: `${variable} is user:password;user:password` },
    { char: ';', name: 'a semicolon', why: `${variable} is user:password;user:password` },
    { char: '"', name: 'a double quote', why: "ProxySQL's config loader puts admin_variables values into SQL unescaped" },
  ];
}

export const FORBIDDEN_CHARACTERS: Readonly<Record<SecretKind, ReadonlyArray<{ char: string; name: string; why: string }>>> = {
  mysql_user: [
    { char: "'", name: 'a single quote', why: "ProxySQL's config loader puts mysql_users values into SQL unescaped" },
  ],
  monitor: [
    { char: '"', name: 'a double quote', why: "ProxySQL's config loader puts mysql_variables values into SQL unescaped" },
  ],
  admin: credentialsForbidden('admin_credentials'),
  stats: credentialsForbidden('stats_credentials'),
};

/** Characters no secret may hold, whatever its kind. */
const LINE_BREAKS = [
  { char: '\n', name: 'a newline' },
  { char: '\r', name: 'a carriage return' },
];

/**
 * Characters to keep out of generated secrets (Secrets Manager `excludeCharacters`): everything any kind
 * forbids, `*` (a leading one reads as a hash), plus characters that are legal for ProxySQL once escaped
 * but awkward in connection strings, URLs and shells our users paste them into. Space is off by default.
 */
export const GENERATED_SECRET_EXCLUDED_CHARACTERS = `"'\\/@:;\`$&#%*`;

/** Why `value` cannot stand in for a placeholder of `kind`, or undefined when it can. Never echoes the value. */
export function secretValueProblem(kind: SecretKind, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return 'is missing or empty';
  for (const { char, name } of LINE_BREAKS) {
    if (value.includes(char)) return `holds ${name}, which cannot be written into one line of proxysql.cnf`;
  }
  for (const { char, name, why } of FORBIDDEN_CHARACTERS[kind]) {
    if (value.includes(char)) return `holds ${name} (${char}), which ProxySQL cannot take: ${why}`;
  }
  if (kind === 'mysql_user' && value.startsWith('*')) {
    return 'starts with *, which ProxySQL reads as a password hash, not a password';
  }
  return undefined;
}

/** Escapes a value for a double-quoted libconfig string: backslash and double quote, nothing else. */
export function escapeLibconfigString(value: string): string {
  return value.replace(/[\\"]/g, (c) => `\\${c}`);
}

/** Thrown when a secret or deploy-time value cannot be substituted; its message names the variable, never the value. */
export class SecretSubstitutionError extends Error {}

/**
 * Replaces every placeholder (secrets and deploy-time values) with the escaped value of its environment variable:
 * what the entrypoint does at task start. Throws a {@link SecretSubstitutionError} naming the first bad variable.
 */
export function substituteSecrets(template: string, env: Readonly<Record<string, string | undefined>>): string {
  // In order of appearance, the first bad one wins, as in the entrypoint.
  for (const match of template.matchAll(ANY_PLACEHOLDER_PATTERN)) {
    const [, kind, name] = match as unknown as [string, SecretKind | undefined, string];
    const problem = kind === undefined ? deployValueProblem(name, env) : secretValueProblem(kind, env[name]);
    if (problem === undefined) continue;
    if (kind === undefined) throw new SecretSubstitutionError(problem);
    const source = env[sourceEnv(name)];
    throw new SecretSubstitutionError(`secret ${name}${source && !/[\r\n]/.test(source) ? ` (${source})` : ''} (${kind} password) ${problem}`);
  }
  return template.replace(ANY_PLACEHOLDER_PATTERN, (_match, _kind: string | undefined, name: string) => escapeLibconfigString(env[name] as string));
}

/** Replaces every placeholder with a fixed mask: for printing a config without its secrets. */
export function maskSecrets(template: string): string {
  return template.replace(PLACEHOLDER_PATTERN, (_match, _kind: string, name: string) => `********(${name})`);
}
