/**
 * Query routing: the session-state rules (./session-state.ts), the default read/write-split rules, typed custom
 * rules and their validation with an RE2 implementation (the engine we tell ProxySQL to use,
 * `mysql-query_processor_regex=2`). ./explain.ts evaluates them the way ProxySQL's query processor does.
 */
import { RE2JS } from 're2js';
import { READER_HOSTGROUP } from '../constants';
import { MySqlQueryRule } from './model';
import { check, RANGES, rangeProblem, readConsistencyProblem, usernameProblem } from './rules';
import {
  DEFAULT_SESSION_ROUTING,
  ReadConsistency,
  SessionRoutingOptions,
  sessionStateRules,
  wroteChain,
  WRITING_CTE_DIGEST,
} from './session-state';

/**
 * Where a rule sends a query. An enum, not a string union, so that jsii can offer it to Python; its values are
 * the strings a CLI config file uses.
 */
export enum QueryDestination {
  /** The writer: the session user's own writer pool (each application user has one; the rule names no hostgroup). */
  WRITER = 'writer',
  /** The reader hostgroup (the replicas; the writer too, as a last resort). */
  READER = 'reader',
}

/** What a rule does to multiplexing (ProxySQL's `mysql_query_rules.multiplex`). */
export enum MultiplexMode {
  /** 0: pin the session to its backend connection from this query on. */
  DISABLE = 'disable',
  /** 1: re-enable multiplexing that an earlier rule disabled. */
  ENABLE = 'enable',
  /** 2: do not let this query disable multiplexing (e.g. a harmless `@@` read). */
  KEEP = 'keep',
}

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

/**
 * A rule as the model takes it: a QueryRuleSpec, or the same with the enums' string values (what a CLI config
 * file holds; the values are checked in buildQueryRules either way).
 */
export type QueryRuleInput = Omit<QueryRuleSpec, 'destination' | 'multiplex'> & {
  readonly destination?: `${QueryDestination}`;
  readonly multiplex?: `${MultiplexMode}`;
};

/** First rule_id of custom rules, and the step between them: room to insert rules by hand. */
export const CUSTOM_RULE_ID_START = 100;
export const CUSTOM_RULE_ID_STEP = 10;
/** Default rules come after every custom rule. */
export const DEFAULT_RULE_ID_START = 1000;

/**
 * The writer is no hostgroup id: a rule that sends a statement to the writer names none, and ProxySQL then uses the
 * session user's default_hostgroup (lib/MySQL_Session.cpp: current_hostgroup=default_hostgroup at each query, replaced
 * only by a rule's destination_hostgroup >= 0), which is that user's own writer pool (userHostgroups).
 */
const HOSTGROUP: Record<`${QueryDestination}`, number | undefined> = { writer: undefined, reader: READER_HOSTGROUP };
const MULTIPLEX: Record<`${MultiplexMode}`, 0 | 1 | 2> = { disable: 0, enable: 1, keep: 2 };

/**
 * The default read/write split. All match the digest, where string literals are `?`, so a literal that
 * contains "FOR UPDATE" cannot misroute a query, and comments are gone, so a leading `/* hint *\/` does not
 * hide a SELECT. ProxySQL's default `re_modifiers` is CASELESS; `(?i)` says the same to re2js.
 */
export function defaultQueryRules(routing: SessionRoutingOptions = DEFAULT_SESSION_ROUTING): MySqlQueryRule[] {
  const readYourWrites = routing.readConsistency === ReadConsistency.READ_YOUR_WRITES;
  return [
    {
      ruleId: DEFAULT_RULE_ID_START,
      active: true,
      matchDigest:
        '(?i)\\bFOR\\s+(UPDATE|SHARE)\\b|\\bLOCK\\s+IN\\s+SHARE\\s+MODE\\b|\\b(GET_LOCK|RELEASE_LOCK|RELEASE_ALL_LOCKS|IS_FREE_LOCK|IS_USED_LOCK|LAST_INSERT_ID|FOUND_ROWS|ROW_COUNT)\\s*\\(|\\bSQL_CALC_FOUND_ROWS\\b|^[(\\s]*SELECT\\b.*\\bINTO\\b',
      apply: true,
      comment: 'locking reads, named locks, session results and SELECT INTO go to the writer',
    },
    {
      ruleId: DEFAULT_RULE_ID_START + 10,
      active: true,
      matchDigest: WRITING_CTE_DIGEST,
      ...(readYourWrites ? { nextQueryFlagIn: wroteChain(routing.readYourWritesStatements) } : {}),
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
}

/** The default rules with the default session routing. */
export const DEFAULT_QUERY_RULES: readonly MySqlQueryRule[] = defaultQueryRules();

/** Thrown for an invalid custom rule; the message names the rule (`queryRules[i].field`). */
export class QueryRuleError extends Error {}

/** Validates custom rules and turns them into rows, numbered before the default rules. */
export function buildQueryRules(
  custom: readonly QueryRuleInput[],
  options: { includeDefaults: boolean; propPath?: string; routing?: SessionRoutingOptions },
): MySqlQueryRule[] {
  const routing = options.routing ?? DEFAULT_SESSION_ROUTING;
  checkSessionRouting(routing);
  const path = options.propPath ?? 'queryRules';
  const maxCustom = (DEFAULT_RULE_ID_START - CUSTOM_RULE_ID_START) / CUSTOM_RULE_ID_STEP;
  if (custom.length > maxCustom) {
    throw new QueryRuleError(`${path}: at most ${maxCustom} custom rules are supported, got ${custom.length}`);
  }
  const rows = custom.map((spec, i) => customRuleRow(spec, `${path}[${i}]`, CUSTOM_RULE_ID_START + i * CUSTOM_RULE_ID_STEP));
  // The session-state rules come first and always: without them a read after `SET @x` or a temporary table is
  // sent to a replica that lacks the state (an error or a wrong answer), whatever the other rules say.
  return [...sessionStateRules(routing), ...rows, ...(options.includeDefaults ? defaultQueryRules(routing) : [])].sort((a, b) => a.ruleId - b.ruleId);
}

/** Checks the routing options; the messages name the props. */
export function checkSessionRouting(routing: SessionRoutingOptions): void {
  check('readConsistency', readConsistencyProblem(routing.readConsistency), (m) => new QueryRuleError(m));
  check('readYourWritesStatements', rangeProblem(routing.readYourWritesStatements, RANGES.readYourWritesStatements), (m) => new QueryRuleError(m));
}

function customRuleRow(spec: QueryRuleInput, path: string, ruleId: number): MySqlQueryRule {
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
  if (spec.username !== undefined) check(`${path}.username`, usernameProblem(spec.username), (m) => new QueryRuleError(m));
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

