/**
 * `explain`'s engine: an approximation of ProxySQL's query digest, and the evaluation of the rendered rules the way
 * ProxySQL's query processor does it (lib/Query_Processor.cpp, process_mysql_query: only rules whose flagIN is
 * the session's current flag, in rule_id order; a rule without a pattern matches every query; the first matching
 * rule with apply=1 ends the walk; the last destination and next_query_flagIN set win; unmatched queries go to the
 * user's default_hostgroup), one statement or a whole session.
 */
import { RE2JS } from 're2js';
import { isWriterHostgroup, READER_HOSTGROUP, WRITER_HOSTGROUP } from '../constants';
import { MySqlQueryRule } from './model';
import { QueryDestination } from './query-rules';
import { describeChain, isUntrackedSet, NOT_A_WRITE_DIGEST, SESSION_CHAIN } from './session-state';

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

/**
 * Splits text into statements at `;` outside quotes, backticks and comments (the way the mysql client does
 * without DELIMITER), dropping empty ones.
 */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "'" || c === '"') i = skipQuoted(text, i, c);
    else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      i = end < 0 ? text.length : end + 1;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if ((c === '-' && next === '-' && /\s/.test(text[i + 2] ?? ' ')) || c === '#') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end + 1;
    } else if (c === ';') {
      out.push(text.slice(start, i));
      start = ++i;
    } else i++;
  }
  out.push(text.slice(start));
  return out.map((statement) => statement.trim()).filter((statement) => statement !== '');
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
  /** 'refused': a rule answers with an error and nothing reaches the database. */
  readonly destination: `${QueryDestination}` | 'other' | 'refused';
  /** The rule that decided the destination, or undefined when the user's default hostgroup did. */
  readonly rule?: MySqlQueryRule;
  /** Every rule that matched, in evaluation order. */
  readonly matchedRuleIds: number[];
  readonly reason: string;
  /** The rule chain the statement was matched in, and the one the session's next statement starts in. */
  readonly chain: number;
  readonly nextChain: number;
  /** What ProxySQL may do that the rules do not show (a SET it cannot parse locks the session). */
  readonly caveat?: string;
}

/**
 * SETs ProxySQL tracks and replays on each backend connection without a lock (MySQL_Session.cpp: SET NAMES,
 * autocommit, and the variables of mysql_tracked_variables in include/proxysql_structs.h, the common ones here).
 * ASSUMPTION: the pinned 3.0.x tracks at least these; anything else may lock the session.
 */
const TRACKED_SET = new RegExp(
  '^SET\\s+(NAMES|CHARACTER\\s+SET|CHARSET|(SESSION\\s+|@@SESSION\\.|@@|LOCAL\\s+)?(TRANSACTION|autocommit|sql_mode|time_zone|' +
    'character_set_\\w+|collation_connection|wait_timeout|net_write_timeout|net_read_timeout|max_join_size|sql_select_limit|' +
    'sql_safe_updates|sql_auto_is_null|group_concat_max_len|foreign_key_checks|unique_checks|innodb_lock_wait_timeout|' +
    'max_execution_time|tx_isolation|transaction_isolation|transaction_read_only|tx_read_only|session_track_gtids|' +
    'optimizer_switch|sql_log_bin|long_query_time|lc_time_names|default_storage_engine|timestamp|aurora_read_replica_read_committed)\\b)',
  'i',
);

/**
 * Whether a rule's pattern matches, as ProxySQL's query processor decides it: RE2 (`query_processor_regex=2`), with
 * the CASELESS `re_modifiers` ProxySQL applies by default.
 */
export function patternMatches(pattern: string, subject: string): boolean {
  return RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE).matcher(subject).find();
}

/** A SET that ProxySQL tracks (and answers itself), not one of a user variable. */
function isTrackedSet(digest: string): boolean {
  return TRACKED_SET.test(digest) && !isUntrackedSet(digest);
}

const LAST_INSERT_ID_DIGEST = /LAST_INSERT_ID|@@IDENTITY/i;

/** The caveat of a SET that is neither tracked nor of a user variable (explainQuery has answered those already). */
function setCaveat(digest: string): string | undefined {
  if (!/^SET\b/i.test(digest)) return undefined;
  return (
    'ProxySQL replays a SET of the session variables it tracks on every backend connection; one it cannot parse ' +
    'locks the session to the hostgroup it ran on (mysql-set_query_lock_on_hostgroup), and a later read the rules ' +
    'send to the readers then fails with 9006. If this variable is not tracked, give the statement a rule with ' +
    "destination 'writer' and multiplex 'disable' (docs/cli.md)"
  );
}

/**
 * Where ProxySQL sends `sql` for a user whose `default_hostgroup` is the writer and who has
 * `transaction_persistent=1`. Inside a transaction every statement stays on the hostgroup the transaction
 * began on (the writer: BEGIN matches no read rule), whatever the rules say.
 */
export function explainQuery(
  rules: readonly MySqlQueryRule[],
  sql: string,
  options: { inTransaction?: boolean; username?: string; defaultHostgroup?: number; chain?: number; afterWrite?: boolean } = {},
): QueryExplanation {
  const digest = queryDigest(sql);
  const defaultHostgroup = options.defaultHostgroup ?? WRITER_HOSTGROUP;
  const chain = options.chain ?? SESSION_CHAIN.stateless;
  const matchedRuleIds: number[] = [];
  // Statements ProxySQL answers or routes itself return from its query handler before next_query_flagIN is applied
  // (lib/MySQL_Session.cpp; ./session-state.ts): the session state stays as it was.
  const stateUnchanged = (hostgroup: number, reason: string, rule?: MySqlQueryRule): QueryExplanation => ({
    digest,
    hostgroup,
    destination: hostgroup === -1 ? 'refused' : destinationOf(hostgroup),
    rule,
    matchedRuleIds,
    reason,
    chain,
    nextChain: chain,
  });
  let hostgroup: number | undefined;
  let decidingRule: MySqlQueryRule | undefined;
  let nextChain = chain;
  const ordered = [...rules].sort((a, b) => a.ruleId - b.ruleId);
  for (const rule of ordered) {
    if (!rule.active) continue;
    if ((rule.flagIn ?? SESSION_CHAIN.stateless) !== chain) continue;
    if (rule.username !== undefined && rule.username !== options.username) continue;
    const [subject, pattern] = rule.matchDigest !== undefined ? [digest, rule.matchDigest] : [sql, rule.matchPattern];
    // re_modifiers defaults to CASELESS in ProxySQL, so compile case-insensitively like it does.
    if (pattern !== undefined && !patternMatches(pattern, subject)) continue;
    matchedRuleIds.push(rule.ruleId);
    if (rule.errorMsg !== undefined) {
      // ProxySQL answers error 1148 itself.
      return stateUnchanged(-1, `rule ${rule.ruleId} refuses it with error 1148: ${rule.errorMsg}`, rule);
    }
    if (rule.destinationHostgroup !== undefined) {
      hostgroup = rule.destinationHostgroup;
      decidingRule = rule;
    }
    if (rule.nextQueryFlagIn !== undefined) nextChain = rule.nextQueryFlagIn;
    if (rule.apply) {
      // A rule that stops the walk without a destination sends the statement to the user's default_hostgroup, its
      // own writer pool: how every writer rule says "the writer" (./query-rules.ts).
      decidingRule ??= rule;
      break;
    }
  }
  if (isUntrackedSet(digest)) {
    return stateUnchanged(
      defaultHostgroup,
      `ProxySQL cannot track a SET of a user variable: it runs it on the session's current hostgroup (${defaultHostgroup}) ` +
        `without changing the rule chain; ${decidingRule ? `rule ${decidingRule.ruleId}'s multiplex=0 keeps that connection, and ` : ''}` +
        'every later statement that reads the variable matches rule 50 and goes there',
      decidingRule,
    );
  }
  if (isTrackedSet(digest)) {
    return stateUnchanged(
      defaultHostgroup,
      'a session variable ProxySQL tracks: it answers the SET itself and replays the value on every backend connection the session uses; the session state does not change',
    );
  }
  if (options.afterWrite && LAST_INSERT_ID_DIGEST.test(digest) && !options.inTransaction) {
    // lib/MySQL_Session.cpp "handle case #1421": run where the session last wrote while that connection is attached.
    return stateUnchanged(
      defaultHostgroup,
      "LAST_INSERT_ID() / @@IDENTITY: ProxySQL runs it on the connection of the session's last write while the session still holds it " +
        '(keepConnectionForLastInsertId); otherwise it answers the exact SELECT LAST_INSERT_ID() itself and other spellings run on any writer connection; the session state does not change',
    );
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
      chain,
      nextChain,
    };
  }
  const reason = decidingRule
    ? `rule ${decidingRule.ruleId} (${describeMatch(decidingRule)})` + (decidingRule.comment ? `: ${decidingRule.comment}` : '')
    : `no rule with a destination matched: the user's default_hostgroup ${defaultHostgroup}`;
  const caveat = setCaveat(digest);
  return {
    digest,
    hostgroup: ruleHostgroup,
    destination: destinationOf(ruleHostgroup),
    rule: decidingRule,
    matchedRuleIds,
    reason,
    chain,
    nextChain,
    ...(caveat ? { caveat } : {}),
  };
}

function describeMatch(rule: MySqlQueryRule): string {
  const chain = rule.flagIn ? `in rule chain ${rule.flagIn}, ` : '';
  if (rule.matchDigest !== undefined) return `${chain}match_digest ${rule.matchDigest} matched the digest`;
  if (rule.matchPattern !== undefined) return `${chain}match_pattern ${rule.matchPattern} matched the query text`;
  return `${chain}no pattern: matches every statement`;
}

/** One statement of {@link explainSession}: where it goes, and the session's state after it. */
export interface SessionStepExplanation extends QueryExplanation {
  readonly sql: string;
  readonly inTransaction: boolean;
  /** Set when the statement changed the session's rule chain: what that means for later statements. */
  readonly stateChange?: string;
}

const BEGIN = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
const END = /^\s*(COMMIT|ROLLBACK)\b/i;
const AUTOCOMMIT = /^SET\s+(?:SESSION\s+|@@SESSION\.|@@|LOCAL\s+)?autocommit\s*(?:=|:=)\s*(\S+)/i;

/**
 * Where each statement of one client session goes, in order: the session state carried from statement to statement
 * (next_query_flagIN, ./session-state.ts), and transactions (transaction_persistent keeps them on the hostgroup they
 * began on: the writer). A transaction is opened by BEGIN / START TRANSACTION, or, with autocommit off, by the first
 * statement that is not a read: ProxySQL leaves reads in autocommit (mysql-enforce_autocommit_on_reads=false), so
 * they still go to the readers, and sets autocommit=0 on the backend for anything else, which opens a transaction
 * there (seen on ProxySQL 2.7.1: docs/real-proxysql.md). COMMIT and ROLLBACK end it; SET autocommit=1 commits.
 * ASSUMPTION: implicit commits (DDL) are not modelled; ProxySQL follows the server's status flags.
 */
export function explainSession(
  rules: readonly MySqlQueryRule[],
  statements: readonly string[],
  options: { username?: string; defaultHostgroup?: number } = {},
): SessionStepExplanation[] {
  let chain: number = SESSION_CHAIN.stateless;
  let inTransaction = false;
  let autocommit = true;
  let afterWrite = false;
  return statements.map((sql) => {
    const digest = queryDigest(sql);
    const writes = !patternMatches(NOT_A_WRITE_DIGEST, digest);
    const opensImplicitly = !autocommit && !inTransaction && writes && !END.test(digest);
    const inside = inTransaction || opensImplicitly;
    const step = explainQuery(rules, sql, { ...options, chain, inTransaction: inside, afterWrite });
    // The value, from the text: the digest has `?` for it.
    const autocommitSet = AUTOCOMMIT.exec(sql.trim());
    if (autocommitSet) {
      autocommit = /^['"]?(1|ON|TRUE)\b/i.test(autocommitSet[1]);
      if (autocommit) inTransaction = false;
    } else if (BEGIN.test(digest)) inTransaction = true;
    else if (END.test(digest)) inTransaction = false;
    else if (opensImplicitly) inTransaction = true;
    if (writes) afterWrite = true;
    const changed = step.nextChain !== chain;
    chain = step.nextChain;
    return { ...step, sql, inTransaction: inside, ...(changed ? { stateChange: describeChain(chain) } : {}) };
  });
}

function destinationOf(hostgroup: number): `${QueryDestination}` | 'other' {
  // Every user's writer hostgroup is the writer (its own pool of it); the readers are READER_HOSTGROUP only.
  if (isWriterHostgroup(hostgroup)) return 'writer';
  if (hostgroup === READER_HOSTGROUP) return 'reader';
  return 'other';
}
