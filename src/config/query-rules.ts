/**
 * Query routing: the default read/write-split rules, typed custom rules, their validation with an RE2
 * implementation (the engine we tell ProxySQL to use, `mysql-query_processor_regex=2`), and `explainQuery`,
 * which evaluates the rules the way ProxySQL's query processor does (lib/Query_Processor.cpp: rules in
 * rule_id order, the first matching rule with `apply=1` ends the walk, the last destination set wins,
 * unmatched queries go to the user's `default_hostgroup`).
 */
import { RE2JS } from 're2js';
import { READER_HOSTGROUP, USERNAME_PATTERN, WRITER_HOSTGROUP } from '../constants';
import { MySqlQueryRule } from './model';

/** Where a rule sends a query. */
export type QueryDestination = 'writer' | 'reader';

/** What a rule does to multiplexing (ProxySQL's `mysql_query_rules.multiplex`). */
export type MultiplexMode =
  /** 0: pin the session to its backend connection from this query on. */
  | 'disable'
  /** 1: re-enable multiplexing that an earlier rule disabled. */
  | 'enable'
  /** 2: do not let this query disable multiplexing (e.g. a harmless `@@` read). */
  | 'keep';

/** A query rule as users write it; rendered before the default rules, so it can override them. */
export interface QueryRuleSpec {
  /** RE2 pattern matched against the query digest (literals replaced by `?`, comments removed). Set exactly one of `matchDigest` and `matchPattern`. */
  readonly matchDigest?: string;
  /** RE2 pattern matched against the raw query text. Set exactly one of `matchDigest` and `matchPattern`. */
  readonly matchPattern?: string;
  /** @default - the rule does not change the destination */
  readonly destination?: QueryDestination;
  /** Cache matching SELECT results in ProxySQL for this many milliseconds. @default - no caching */
  readonly cacheTtlMs?: number;
  /** @default - the rule does not change multiplexing */
  readonly multiplex?: MultiplexMode;
  /** @default true */
  readonly active?: boolean;
  /** Stop evaluating rules when this one matches. @default true */
  readonly apply?: boolean;
  /** Only for this ProxySQL user. @default - every user */
  readonly username?: string;
  /** @default - none */
  readonly comment?: string;
}

/** First rule_id of custom rules, and the step between them: room to insert rules by hand. */
export const CUSTOM_RULE_ID_START = 100;
export const CUSTOM_RULE_ID_STEP = 10;
/** Default rules come after every custom rule. */
export const DEFAULT_RULE_ID_START = 1000;

const HOSTGROUP: Record<QueryDestination, number> = { writer: WRITER_HOSTGROUP, reader: READER_HOSTGROUP };
const MULTIPLEX: Record<MultiplexMode, 0 | 1 | 2> = { disable: 0, enable: 1, keep: 2 };

/**
 * The default read/write split. All match the digest, where string literals are `?`, so a literal that
 * contains "FOR UPDATE" cannot misroute a query, and comments are gone, so a leading `/* hint *\/` does not
 * hide a SELECT. ProxySQL's default `re_modifiers` is CASELESS; `(?i)` says the same to re2js.
 */
export const DEFAULT_QUERY_RULES: readonly MySqlQueryRule[] = [
  {
    ruleId: DEFAULT_RULE_ID_START,
    active: true,
    matchDigest:
      '(?i)\\bFOR\\s+(UPDATE|SHARE)\\b|\\bLOCK\\s+IN\\s+SHARE\\s+MODE\\b|\\b(GET_LOCK|RELEASE_LOCK|RELEASE_ALL_LOCKS|IS_FREE_LOCK|IS_USED_LOCK|LAST_INSERT_ID|FOUND_ROWS|ROW_COUNT)\\s*\\(|\\bSQL_CALC_FOUND_ROWS\\b|^[(\\s]*SELECT\\b.*\\bINTO\\b',
    destinationHostgroup: WRITER_HOSTGROUP,
    apply: true,
    comment: 'locking reads, named locks, session results and SELECT INTO go to the writer',
  },
  {
    ruleId: DEFAULT_RULE_ID_START + 10,
    active: true,
    matchDigest: '(?i)^WITH\\b.*\\b(INSERT|UPDATE|DELETE|REPLACE)\\b',
    destinationHostgroup: WRITER_HOSTGROUP,
    apply: true,
    comment: 'a CTE that writes goes to the writer',
  },
  {
    ruleId: DEFAULT_RULE_ID_START + 20,
    active: true,
    matchDigest: '(?i)^[(\\s]*(SELECT|WITH)\\b',
    destinationHostgroup: READER_HOSTGROUP,
    apply: true,
    comment: 'plain reads (SELECT, (SELECT ...) UNION, read-only CTE) go to the readers',
  },
];

/** Thrown for an invalid custom rule; the message names the rule (`queryRules[i].field`). */
export class QueryRuleError extends Error {}

/** Validates custom rules and turns them into rows, numbered before the default rules. */
export function buildQueryRules(
  custom: readonly QueryRuleSpec[],
  options: { includeDefaults: boolean; propPath?: string },
): MySqlQueryRule[] {
  const path = options.propPath ?? 'queryRules';
  const maxCustom = (DEFAULT_RULE_ID_START - CUSTOM_RULE_ID_START) / CUSTOM_RULE_ID_STEP;
  if (custom.length > maxCustom) {
    throw new QueryRuleError(`${path}: at most ${maxCustom} custom rules are supported, got ${custom.length}`);
  }
  const rows = custom.map((spec, i) => customRuleRow(spec, `${path}[${i}]`, CUSTOM_RULE_ID_START + i * CUSTOM_RULE_ID_STEP));
  return options.includeDefaults ? [...rows, ...DEFAULT_QUERY_RULES] : rows;
}

function customRuleRow(spec: QueryRuleSpec, path: string, ruleId: number): MySqlQueryRule {
  const hasDigest = spec.matchDigest !== undefined;
  const hasPattern = spec.matchPattern !== undefined;
  if (hasDigest === hasPattern) {
    throw new QueryRuleError(`${path}: set exactly one of matchDigest and matchPattern`);
  }
  const field = hasDigest ? 'matchDigest' : 'matchPattern';
  validateRe2Pattern((spec.matchDigest ?? spec.matchPattern) as string, `${path}.${field}`);
  if (spec.destination !== undefined && !(spec.destination in HOSTGROUP)) {
    throw new QueryRuleError(`${path}.destination: must be 'writer' or 'reader', got '${String(spec.destination)}'`);
  }
  if (spec.cacheTtlMs !== undefined && (!Number.isInteger(spec.cacheTtlMs) || spec.cacheTtlMs <= 0 || spec.cacheTtlMs > 2_147_483_647)) {
    throw new QueryRuleError(`${path}.cacheTtlMs: must be a whole number of milliseconds above 0, got ${spec.cacheTtlMs}`);
  }
  if (spec.multiplex !== undefined && !(spec.multiplex in MULTIPLEX)) {
    throw new QueryRuleError(`${path}.multiplex: must be 'disable', 'enable' or 'keep', got '${String(spec.multiplex)}'`);
  }
  if (spec.destination === undefined && spec.cacheTtlMs === undefined && spec.multiplex === undefined) {
    throw new QueryRuleError(`${path}: the rule does nothing; set destination, cacheTtlMs or multiplex`);
  }
  if (spec.username !== undefined && !USERNAME_PATTERN.test(spec.username)) {
    throw new QueryRuleError(`${path}.username: must be 1-32 letters, digits or underscores`);
  }
  if (spec.comment !== undefined && /['"\n\r]/.test(spec.comment)) {
    // ProxySQL's loader splices the comment into SQL as '…' unescaped (docs/research/proxysql-config.md §5).
    throw new QueryRuleError(`${path}.comment: must not contain quotes or line breaks`);
  }
  return {
    ruleId,
    active: spec.active ?? true,
    matchDigest: spec.matchDigest,
    matchPattern: spec.matchPattern,
    destinationHostgroup: spec.destination === undefined ? undefined : HOSTGROUP[spec.destination],
    cacheTtl: spec.cacheTtlMs,
    multiplex: spec.multiplex === undefined ? undefined : MULTIPLEX[spec.multiplex],
    apply: spec.apply ?? true,
    username: spec.username,
    comment: spec.comment,
  };
}

/**
 * Checks a pattern with re2js, a port of the RE2 engine ProxySQL runs with `query_processor_regex=2`: a
 * pattern that compiles here compiles there, and look-arounds or back-references (PCRE only) are refused at
 * synth instead of silently disabling the rule at run time.
 */
export function validateRe2Pattern(pattern: string, path: string): void {
  if (pattern.length === 0) throw new QueryRuleError(`${path}: must not be empty`);
  if (/["\n\r]/.test(pattern)) {
    // The loader splices patterns into SQL between double quotes, unescaped (ProxySQL_Config.cpp).
    throw new QueryRuleError(`${path}: must not contain a double quote or line break; write \\x22 for a double quote`);
  }
  try {
    RE2JS.compile(pattern);
  } catch (error) {
    throw new QueryRuleError(`${path}: not a valid RE2 pattern (${(error as Error).message})`);
  }
}

/**
 * An approximation of ProxySQL's query digest (lib/c_tokenizer.cpp): comments removed, string and number
 * literals replaced by `?`, runs of white space folded to one space, trimmed. Case is kept
 * (`mysql-query_digests_lowercase=false`). ASSUMPTION: close enough for the patterns above, which only
 * look at keywords; ProxySQL also folds `IN (?,?,?)` lists, which no default rule depends on.
 */
export function queryDigest(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
      out += ' ';
    } else if ((c === '-' && next === '-' && /\s/.test(sql[i + 2] ?? ' ')) || c === '#') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
      out += ' ';
    } else if (c === "'" || c === '"') {
      i = skipQuoted(sql, i, c);
      out += '?';
    } else if (c === '`') {
      const end = sql.indexOf('`', i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (/[0-9]/.test(c) && !/[A-Za-z0-9_$]/.test(out.slice(-1))) {
      while (i < sql.length && /[0-9.eE+xXa-fA-F]/.test(sql[i])) i++;
      out += '?';
    } else {
      out += c;
      i++;
    }
  }
  return out.replace(/\s+/g, ' ').trim();
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === '\\') i += 2;
    else if (sql[i] === quote && sql[i + 1] === quote) i += 2;
    else if (sql[i] === quote) return i + 1;
    else i++;
  }
  return sql.length;
}

/** The result of {@link explainQuery}. */
export interface QueryExplanation {
  readonly digest: string;
  readonly hostgroup: number;
  readonly destination: QueryDestination | 'other';
  /** The rule that decided the destination, or undefined when the user's default hostgroup did. */
  readonly rule?: MySqlQueryRule;
  /** Every rule that matched, in evaluation order. */
  readonly matchedRuleIds: number[];
  readonly reason: string;
}

/**
 * Where ProxySQL sends `sql` for a user whose `default_hostgroup` is the writer and who has
 * `transaction_persistent=1`. Inside a transaction every statement stays on the hostgroup the transaction
 * began on (the writer: BEGIN matches no read rule), whatever the rules say.
 */
export function explainQuery(
  rules: readonly MySqlQueryRule[],
  sql: string,
  options: { inTransaction?: boolean; username?: string; defaultHostgroup?: number } = {},
): QueryExplanation {
  const digest = queryDigest(sql);
  const defaultHostgroup = options.defaultHostgroup ?? WRITER_HOSTGROUP;
  const matchedRuleIds: number[] = [];
  let hostgroup: number | undefined;
  let decidingRule: MySqlQueryRule | undefined;
  const ordered = [...rules].sort((a, b) => a.ruleId - b.ruleId);
  for (const rule of ordered) {
    if (!rule.active) continue;
    if (rule.username !== undefined && rule.username !== options.username) continue;
    const [subject, pattern] = rule.matchDigest !== undefined ? [digest, rule.matchDigest] : [sql, rule.matchPattern];
    if (pattern === undefined) continue;
    // re_modifiers defaults to CASELESS in ProxySQL, so compile case-insensitively like it does.
    if (!RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE).matcher(subject).find()) continue;
    matchedRuleIds.push(rule.ruleId);
    if (rule.destinationHostgroup !== undefined) {
      hostgroup = rule.destinationHostgroup;
      decidingRule = rule;
    }
    if (rule.apply) break;
  }
  const ruleHostgroup = hostgroup ?? defaultHostgroup;
  if (options.inTransaction) {
    return {
      digest,
      hostgroup: defaultHostgroup,
      destination: destinationOf(defaultHostgroup),
      rule: undefined,
      matchedRuleIds,
      reason:
        `inside a transaction: transaction_persistent=1 keeps every statement on the hostgroup the transaction began on ` +
        `(${defaultHostgroup}); outside one the rules would send it to ${ruleHostgroup}`,
    };
  }
  const reason = decidingRule
    ? `rule ${decidingRule.ruleId} (${decidingRule.matchDigest !== undefined ? 'match_digest' : 'match_pattern'} ` +
      `${decidingRule.matchDigest ?? decidingRule.matchPattern}) matched the ${decidingRule.matchDigest !== undefined ? 'digest' : 'query text'}` +
      (decidingRule.comment ? `: ${decidingRule.comment}` : '')
    : `no rule with a destination matched: the user's default_hostgroup ${defaultHostgroup}`;
  return { digest, hostgroup: ruleHostgroup, destination: destinationOf(ruleHostgroup), rule: decidingRule, matchedRuleIds, reason };
}

function destinationOf(hostgroup: number): QueryDestination | 'other' {
  if (hostgroup === WRITER_HOSTGROUP) return 'writer';
  if (hostgroup === READER_HOSTGROUP) return 'reader';
  return 'other';
}
