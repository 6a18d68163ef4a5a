/**
 * Session state and the read/write split. Some statements leave state on the one backend connection they ran on:
 * a user variable, a temporary table, a text-protocol prepared statement, a named lock, LOCK TABLES. A later read
 * that the split sends to a replica does not see that state: `Table 'app.tmp' doesn't exist`, a NULL instead of
 * the value set, or (ProxySQL cannot parse `SET @x = 1`, so it locks the session to the hostgroup it ran on:
 * mysql-set_query_lock_on_hostgroup) `9006 connection is locked to hostgroup 10 but trying to reach hostgroup 20`.
 *
 * ProxySQL has no "route by session state" switch, but its rule chains are a per-session state machine: a rule's
 * next_query_flagIN stays on the session (lib/MySQL_Session.cpp, `__exit_set_destination_hostgroup`: set only when
 * a rule gives one, never reset by a query), and each query is matched only against the rules whose flagIN equals
 * it (lib/Query_Processor.cpp, process_mysql_query). So:
 *
 * - chain 0 (no state): a statement that creates state goes to the writer and moves the session to chain 1
 *   (state for the rest of the session) or chain 2 (locks, which end); everything else is routed by the custom
 *   and default rules.
 * - chain 1: every statement goes to the writer, where the state is, until the session ends.
 * - chain 2: like chain 1, but `UNLOCK TABLES` / `RELEASE_ALL_LOCKS()` return the session to chain 0, and a
 *   state-creating statement moves it to chain 1.
 *
 * The state-creating rules also say multiplex=0: ProxySQL then keeps the session's writer connection (the state
 * lives on it) and, because such a rule sets multiplex, it does not lock the session for an unparsable `SET @x`
 * (MySQL_Session::unable_to_parse_set_statement locks only `if (qpo->multiplex == -1)`).
 *
 * One exception, from the source and seen on ProxySQL 2.7.1: a `SET` that ProxySQL's SET parser cannot track
 * (a user variable, an unknown variable) returns from the query handler before the destination and
 * next_query_flagIN are applied (MySQL_Session.cpp: `unable_to_parse_set_statement(lock_hostgroup); return false;`).
 * It runs on the session's current hostgroup (the writer: the users' default_hostgroup) and does not change the
 * chain. `SET @x = 1` still keeps its connection (rule 50's multiplex=0 applies) and every later statement that
 * reads `@x` matches rule 50 and goes there; a statement that does not name the variable cannot read it.
 * Checked with ProxySQL 2.7.1 built from source: docs/real-proxysql.md.
 */
import { WRITER_HOSTGROUP } from '../constants';
import { MySqlQueryRule } from './model';

/** The rule chains (flagIN values) of a session. */
export const SESSION_CHAIN = { stateless: 0, state: 1, locks: 2 } as const;

/**
 * A user variable in a digest: `@name`, `@'name'` (digest `@?`) or `` @`name` ``, not a system variable (`@@x`)
 * and not the `'user'@'host'` of account statements (digest `?@?`).
 */
export const USER_VARIABLE_DIGEST = '(?:^|[^@\\w$?])@(?:[\\w$.]|\\?|\\x60)';

/** Statements that leave state on the connection for the rest of the session. */
export const SESSION_STATE_DIGEST = `(?i)${USER_VARIABLE_DIGEST}|^CREATE\\s+TEMPORARY\\s+TABLE\\b|^PREPARE\\b`;

/** Statements that take a lock held by the connection until released. */
export const LOCK_DIGEST = '(?i)^LOCK\\s+TABLES?\\b|\\bGET_LOCK\\s*\\(';

/** Statements that release every lock of the connection. */
export const UNLOCK_DIGEST = '(?i)^UNLOCK\\s+TABLES?\\b|\\bRELEASE_ALL_LOCKS\\s*\\(';

/** Rule ids: chain 0 before the custom rules (100…990), chains 1 and 2 after the default split (1000…). */
export const SESSION_STATE_RULE_IDS = { state: 50, locks: 60, stateChain: 2000, locksToState: 2100, unlock: 2110, locksChain: 2120 } as const;

export const SESSION_STATE_RULES: readonly MySqlQueryRule[] = [
  {
    ruleId: SESSION_STATE_RULE_IDS.state,
    active: true,
    matchDigest: SESSION_STATE_DIGEST,
    destinationHostgroup: WRITER_HOSTGROUP,
    multiplex: 0,
    nextQueryFlagIn: SESSION_CHAIN.state,
    apply: true,
    comment: 'user variables, temporary tables and text PREPARE live on one writer connection: the session stays there',
  },
  {
    ruleId: SESSION_STATE_RULE_IDS.locks,
    active: true,
    matchDigest: LOCK_DIGEST,
    destinationHostgroup: WRITER_HOSTGROUP,
    multiplex: 0,
    nextQueryFlagIn: SESSION_CHAIN.locks,
    apply: true,
    comment: 'LOCK TABLES and named locks: the session reads and writes on the writer until it unlocks',
  },
  {
    ruleId: SESSION_STATE_RULE_IDS.stateChain,
    active: true,
    flagIn: SESSION_CHAIN.state,
    destinationHostgroup: WRITER_HOSTGROUP,
    // The session is pinned already; saying so also keeps an unparsable SET from locking it (see above).
    multiplex: 0,
    apply: true,
    comment: 'a session with state: every statement on the writer, where the state is',
  },
  {
    ruleId: SESSION_STATE_RULE_IDS.locksToState,
    active: true,
    flagIn: SESSION_CHAIN.locks,
    matchDigest: SESSION_STATE_DIGEST,
    destinationHostgroup: WRITER_HOSTGROUP,
    multiplex: 0,
    nextQueryFlagIn: SESSION_CHAIN.state,
    apply: true,
    comment: 'a locked session that also creates state keeps the writer for good',
  },
  {
    ruleId: SESSION_STATE_RULE_IDS.unlock,
    active: true,
    flagIn: SESSION_CHAIN.locks,
    matchDigest: UNLOCK_DIGEST,
    destinationHostgroup: WRITER_HOSTGROUP,
    nextQueryFlagIn: SESSION_CHAIN.stateless,
    apply: true,
    comment: 'locks released: reads may go to the readers again',
  },
  {
    ruleId: SESSION_STATE_RULE_IDS.locksChain,
    active: true,
    flagIn: SESSION_CHAIN.locks,
    destinationHostgroup: WRITER_HOSTGROUP,
    apply: true,
    comment: 'a session holding locks: every statement on the writer',
  },
];

const USER_VARIABLE = new RegExp(USER_VARIABLE_DIGEST);

/** A `SET` statement whose variables ProxySQL's SET parser cannot track: a user variable. */
export function isUntrackedSet(digest: string): boolean {
  return /^SET\b/i.test(digest) && USER_VARIABLE.test(digest);
}


/** What the state a statement moves the session into means for the user, for `explain`. */
export function describeChain(flag: number): string {
  switch (flag) {
    case SESSION_CHAIN.stateless:
      return 'no session state: reads may go to the readers';
    case SESSION_CHAIN.state:
      return 'the session holds state on its writer connection (user variable, temporary table or prepared statement): every later statement goes to the writer until the session ends';
    case SESSION_CHAIN.locks:
      return 'the session holds a lock on its writer connection: every statement goes to the writer until UNLOCK TABLES or RELEASE_ALL_LOCKS()';
    default:
      return `rule chain ${flag}`;
  }
}
