/**
 * Secrets hygiene check over synthesized output: CloudFormation templates, the cloud-assembly manifest,
 * tree.json and asset files (bundled Lambda code included). It finds
 * - `password-literal`: a key named like password/secret/credential whose value is a literal string, not a
 *   dynamic reference (`{{resolve:secretsmanager:…}}`), an intrinsic (Ref, Fn::GetAtt, …) or an ARN; and a
 *   `…password="…"` / `…credentials="…"` setting inside a string (a proxysql.cnf template) whose value is not
 *   a `{{secret:…}}` placeholder;
 * - `default-credential`: ProxySQL's / the MySQL image's defaults (`admin:admin`, `stats:stats`,
 *   monitor/monitor as user and password, `MYSQL_ROOT_PASSWORD`);
 * - `plain-secret-env`: a container `Environment` entry or Lambda `Environment.Variables` entry whose name
 *   matches /PASSWORD|SECRET|TOKEN|KEY/ with a literal value, unless the name ends in `_SOURCE`/`_ARN` or the
 *   value is an ARN or a Ref/GetAtt;
 * - `weak-generated-secret`: a `GenerateSecretString` whose `ExcludeCharacters` misses one of `'"\:;*`
 *   (characters ProxySQL cannot take in a password: src/config/secrets.ts).
 * A leak never carries the secret-looking value itself, only where it is and how long it is.
 */
import * as fs from 'fs';
import * as path from 'path';

export type LeakKind = 'password-literal' | 'default-credential' | 'plain-secret-env' | 'weak-generated-secret';

export interface Leak {
  readonly kind: LeakKind;
  /** The file, relative to the scanned directory (absent for an in-memory template). */
  readonly file?: string;
  /** Where in the JSON (`Resources.X.Properties.Y`) or the text (`line N`). */
  readonly location: string;
  /** What was found, without the value. */
  readonly detail: string;
}

/** Characters every generated secret must exclude: ProxySQL's config loader cannot take them (src/config/secrets.ts). */
export const REQUIRED_EXCLUDED_CHARACTERS = ["'", '"', '\\', ':', ';', '*'] as const;

const SECRET_KEY = /password|passwd|secret|credential/i;
const SECRET_ENV_NAME = /PASSWORD|SECRET|TOKEN|KEY/i;
const REFERENCE_SUFFIX = /_(SOURCE|ARN)$/i;
/** Keys whose names match SECRET_KEY but hold no secret by construction; each is still checked for what it may hide. */
const SECRET_STRING_TEMPLATE = /^secretStringTemplate$/i;
const GENERATE_SECRET_STRING = /^generateSecretString$/i;
/** `name="value"` settings in a libconfig (proxysql.cnf) text. */
const CNF_SECRET_SETTING = /\b([a-z_]*(?:password|credentials))\s*[=:]\s*"((?:[^"\\]|\\.)*)"/gi;
const DEFAULT_CREDENTIAL_TEXT: ReadonlyArray<[RegExp, string]> = [
  [/(^|[^A-Za-z0-9_])admin:admin($|[^A-Za-z0-9_])/, 'admin:admin (ProxySQL default admin_credentials)'],
  [/(^|[^A-Za-z0-9_])stats:stats($|[^A-Za-z0-9_])/, 'stats:stats (ProxySQL default stats_credentials)'],
  [/(^|[^A-Za-z0-9_])monitor:monitor($|[^A-Za-z0-9_])/, 'monitor:monitor (ProxySQL default monitor user)'],
  [/MYSQL_ROOT_PASSWORD/, 'MYSQL_ROOT_PASSWORD (a database root password in the environment)'],
];
const TEXT_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.sh', '.cnf', '.txt', '.map', '.py', '.yaml', '.yml', '.html', '.md', '']);

/** Every leak in one CloudFormation template (or any JSON document of the cloud assembly). */
export function findTemplateLeaks(template: object): Leak[] {
  const leaks: Leak[] = [];
  walk(template, [], leaks);
  return leaks;
}

/** Every leak in every file under `dir` (a cdk.out): JSON files structurally, other text files as text. */
export function findSecretLeaks(dir: string): Leak[] {
  const leaks: Leak[] = [];
  for (const file of listScannedFiles(dir)) {
    const relative = path.relative(dir, file);
    const text = fs.readFileSync(file, 'utf8');
    const found = file.endsWith('.json') ? jsonLeaks(text) : textLeaks(text);
    leaks.push(...found.map((leak) => ({ ...leak, file: relative })));
  }
  return leaks;
}

/** The files {@link findSecretLeaks} reads: every JSON or text file under `dir`, binaries (NUL bytes) left out. */
export function listScannedFiles(dir: string): string[] {
  const files: string[] = [];
  const visit = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.isFile() && (entry.name.endsWith('.json') || TEXT_EXTENSIONS.has(path.extname(entry.name)))) {
        if (!fs.readFileSync(full).includes(0)) files.push(full);
      }
    }
  };
  visit(dir);
  return files.sort();
}

function jsonLeaks(text: string): Leak[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return textLeaks(text);
  }
  return typeof document === 'object' && document !== null ? findTemplateLeaks(document) : textLeaks(text);
}

/** Text outside JSON: default credentials only, and not in comment lines (`#`, `//`, `*`), where docs mention them. */
function textLeaks(text: string): Leak[] {
  const leaks: Leak[] = [];
  text.split('\n').forEach((line, i) => {
    if (/^\s*(#|\/\/|\*|\/\*)/.test(line)) return;
    for (const [pattern, what] of DEFAULT_CREDENTIAL_TEXT) {
      if (pattern.test(line)) leaks.push({ kind: 'default-credential', location: `line ${i + 1}`, detail: what });
    }
  });
  return leaks;
}

type JsonPath = ReadonlyArray<string | number>;

function walk(value: unknown, at: JsonPath, leaks: Leak[]): void {
  if (typeof value === 'string') {
    stringLeaks(value, at, leaks);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => walk(item, [...at, i], leaks));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const object = value as Record<string, unknown>;
  const key = at[at.length - 1];
  if (key === 'Environment' || key === 'environment') environmentLeaks(object, at, leaks);
  for (const [name, child] of Object.entries(object)) {
    const childAt = [...at, name];
    if (GENERATE_SECRET_STRING.test(name)) generatedSecretLeaks(child, childAt, leaks);
    if (SECRET_STRING_TEMPLATE.test(name) && typeof child === 'string') {
      secretStringTemplateLeaks(child, childAt, leaks);
      continue;
    }
    // Environment variables are judged by envEntry (plain-secret-env), once.
    if (SECRET_KEY.test(name) && typeof child === 'string' && !isReference(child) && !isEnvironmentVariables(at)) {
      leaks.push({ kind: 'password-literal', location: render(childAt), detail: `key '${name}' holds a literal string (${child.length} characters)` });
    }
    if (name === 'Environment' && Array.isArray(child)) containerEnvironmentLeaks(child, childAt, leaks);
    walk(child, childAt, leaks);
  }
  defaultCredentialObject(object, at, leaks);
}

/** A string value: proxysql.cnf-style secret settings and default credentials inside it (comment lines skipped). */
function stringLeaks(value: string, at: JsonPath, leaks: Leak[]): void {
  const body = value
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n');
  for (const match of body.matchAll(CNF_SECRET_SETTING)) {
    if (!match[2].includes('{{secret:')) {
      leaks.push({
        kind: 'password-literal',
        location: render(at),
        detail: `setting '${match[1]}' in a config text holds a literal (${match[2].length} characters), not a {{secret:…}} placeholder`,
      });
    }
  }
  if (/\bmonitor_username\s*[=:]\s*"monitor"/.test(body) && /\bmonitor_password\s*[=:]\s*"monitor"/.test(body)) {
    leaks.push({ kind: 'default-credential', location: render(at), detail: 'monitor/monitor as monitor_username and monitor_password' });
  }
  for (const leak of textLeaks(body)) leaks.push({ ...leak, location: `${render(at)} ${leak.location}` });
}

/** `{ "username": "monitor", "password": "monitor" }` and the like. */
function defaultCredentialObject(object: Record<string, unknown>, at: JsonPath, leaks: Leak[]): void {
  const user = Object.entries(object).find(([k, v]) => /^(user(name)?|login)$/i.test(k) && typeof v === 'string')?.[1];
  const password = Object.entries(object).find(([k, v]) => /^(password|passwd)$/i.test(k) && typeof v === 'string')?.[1];
  if (typeof user === 'string' && user === password && ['admin', 'monitor', 'stats', 'root'].includes(user)) {
    leaks.push({ kind: 'default-credential', location: render(at), detail: `user and password are both '${user}'` });
  }
}

/** `SecretStringTemplate` is the non-secret part of a generated secret: it must not carry a password itself. */
function secretStringTemplateLeaks(value: string, at: JsonPath, leaks: Leak[]): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return;
  }
  if (typeof parsed === 'object' && parsed !== null) walk(parsed, [...at, '(parsed)'], leaks);
}

function generatedSecretLeaks(value: unknown, at: JsonPath, leaks: Leak[]): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const entry = Object.entries(value).find(([k]) => /^excludeCharacters$/i.test(k));
  const excluded = typeof entry?.[1] === 'string' ? entry[1] : '';
  const missing = REQUIRED_EXCLUDED_CHARACTERS.filter((c) => !excluded.includes(c));
  if (missing.length > 0) {
    leaks.push({
      kind: 'weak-generated-secret',
      location: render(at),
      detail: entry ? `ExcludeCharacters misses ${missing.join(' ')}` : 'no ExcludeCharacters: the password may hold characters ProxySQL cannot take',
    });
  }
}

/** Lambda `Environment: { Variables: { NAME: value } }` (CloudFormation) or `environment: { variables: … }` (tree.json). */
function environmentLeaks(object: Record<string, unknown>, at: JsonPath, leaks: Leak[]): void {
  const variables = object.Variables ?? object.variables;
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) return;
  for (const [name, value] of Object.entries(variables)) envEntry(name, value, [...at, 'Variables', name], leaks);
}

/** ECS `Environment: [{ Name, Value }]`. */
function containerEnvironmentLeaks(entries: unknown[], at: JsonPath, leaks: Leak[]): void {
  entries.forEach((entry, i) => {
    if (typeof entry !== 'object' || entry === null) return;
    const { Name: name, Value: value } = entry as { Name?: unknown; Value?: unknown };
    if (typeof name === 'string') envEntry(name, value, [...at, i], leaks);
  });
}

function envEntry(name: string, value: unknown, at: JsonPath, leaks: Leak[]): void {
  if (!SECRET_ENV_NAME.test(name) || REFERENCE_SUFFIX.test(name)) return;
  if (typeof value === 'string' ? /^arn:/.test(value) : isIntrinsicReference(value)) return;
  leaks.push({ kind: 'plain-secret-env', location: render(at), detail: `environment variable ${name} holds a literal value, not a reference` });
}

/** A Ref / GetAtt / import, or a Join/Sub that builds an ARN: a pointer, not the secret. */
function isIntrinsicReference(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  if (['Ref', 'Fn::GetAtt', 'Fn::ImportValue'].includes(keys[0])) return true;
  return ['Fn::Join', 'Fn::Sub'].includes(keys[0]) && /"arn:|\$\{AWS::Partition\}|"Ref"/.test(JSON.stringify(value));
}

function isEnvironmentVariables(at: JsonPath): boolean {
  return at.length >= 2 && /^variables$/i.test(String(at[at.length - 1])) && /^environment$/i.test(String(at[at.length - 2]));
}

function isReference(value: string): boolean {
  return value === '' || /^\{\{resolve:(secretsmanager|ssm-secure):/.test(value) || /^arn:/.test(value) || /^\$\{Token\[/.test(value);
}

function render(at: JsonPath): string {
  return at.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '') || '(root)';
}
