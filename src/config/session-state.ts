/**
 * The session state machine: where each statement of a client session goes, given what the session did before.
 *
 * ProxySQL has no "route by session history" switch, but its rule chains are a per-session state machine: a rule's
 * next_query_flagIN stays on the session (lib/MySQL_Session.cpp, `__exit_set_destination_hostgroup`: set only when
 * a rule gives one, never reset by a query or by time), and each query is matched only against the rules whose
 * flagIN equals it (lib/Query_Processor.cpp, process_mysql_query). The states (flagIN values):
 *
 * - **fresh** (0): nothing pending. A read goes to the readers (custom rules, then the default split); a write goes
 *   to the writer and moves the session to *wrote(N)*; a statement that leaves state moves it to *state*; a lock
 *   to *locked(1)*.
 * - **wrote(k)** (100 + k, k = N … 1; read-your-writes only): the session wrote within its last N statements. Every
 *   statement goes to the writer, so a read sees the session's own write however far the replicas lag. A SELECT or a
 *   session statement (SET, SHOW, USE) moves it to wrote(k-1) (wrote(0) is *fresh*), another write (or a CTE, which
 *   may be one) back to wrote(N). Time alone does not move it: ProxySQL's routing state has no clock (see above).
 * - **state** (1): a user variable, temporary table or text PREPARE lives on one writer connection: every statement
 *   goes there, with multiplexing off, until the session ends.
 * - **locked(d)** (2, 3, 4 for d = 1, 2, 3 or more): the session holds d named locks or table locks on its writer
 *   connection: every statement goes to the writer. GET_LOCK()/LOCK TABLES adds one, RELEASE_LOCK()/UNLOCK TABLES
 *   takes one away (at 3 or more the count stops: only RELEASE_ALL_LOCKS() ends it), RELEASE_ALL_LOCKS() ends all.
 *   When the last is released the session goes to wrote(N) (its critical section may have written).
 *
 * The state-creating and lock rules say multiplex=0: ProxySQL keeps the session's writer connection (the state or
 * lock lives on it) and, because such a rule sets multiplex, it does not lock the session for an unparsable
 * `SET @x` (MySQL_Session::unable_to_parse_set_statement locks only `if (qpo->multiplex == -1)`). The release rules
 * say multiplex=1, which clears that mark again; but ProxySQL 2.7.1 marks a connection that ran `GET_LOCK(` itself
 * (STATUS_MYSQL_CONNECTION_GET_LOCK in lib/mysql_connection.cpp ProcessQueryAndSetStatusFlags) and never clears the
 * mark, so after a named lock the session keeps its writer connection until it disconnects, whatever the rules say.
 * Its reads go back to the readers all the same.
 *
 * Two exceptions, from the source and seen on ProxySQL 2.7.1: a `SET` that ProxySQL answers itself (the session
 * variables it tracks: autocommit, NAMES, sql_mode, time_zone, …) and a `SET` its parser cannot track (a user
 * variable) both return from the query handler before next_query_flagIN is applied (MySQL_Session.cpp,
 * handler___status_WAITING_CLIENT_DATA___STATE_SLEEP___MYSQL_COM_QUERY_qpo): neither changes the state. `SET @x = 1`
 * still keeps its connection (rule 50's multiplex=0 applies) and every later statement that reads `@x` matches rule
 * 50 and goes there. Checked with ProxySQL 2.7.1 built from source: docs/real-proxysql.md.
 *
 * "The writer" is the session user's own writer pool: the rules that send a statement there name no hostgroup, so
 * ProxySQL uses the user's default_hostgroup (userHostgroups in ../constants.ts). A session's state then lives in
 * the same hostgroup whatever a transaction or a rule did, and one user's pinned sessions fill its own pool only.
 *
 * ./explain.ts walks the same rules the way ProxySQL does; `explain --session` is this machine's executable twin.
 */
import { MySqlQueryRule } from './model';

/**
 * Where reads that follow a write may go. An enum, not a string union, so that jsii can offer it to Python; its
 * values are the strings a CLI config file uses.
 */
export enum ReadConsistency {
  // The values are src/config/rules.ts READ_CONSISTENCY_MODES (a test keeps them equal).
  /**
   * A read sees the session's own earlier writes: after a write, the session's next statements (`readYourWritesStatements`)
   * go to the writer; other reads go to the replicas and may lag behind other sessions' writes.
   */
  READ_YOUR_WRITES = 'read-your-writes',
  /** Every statement goes to the writer: reads see every committed write, and the replicas serve nothing. */
  WRITER_ONLY = 'writer-only',
  /** Reads go to the replicas whenever the rules say so, even right after the session's own write (the replica may not have it yet). */
  EVENTUAL = 'eventual',
}

/** How many statements after a write stay on the writer, by default. */
export const DEFAULT_READ_YOUR_WRITES_STATEMENTS = 5;

/** The routing choices the session rules depend on. */
export interface SessionRoutingOptions {
  readonly readConsistency: `${ReadConsistency}`;
  /** Statements after a write that stay on the writer (read-your-writes only). */
  readonly readYourWritesStatements: number;
  /** Let clients run account statements (SET PASSWORD, CREATE/ALTER/DROP/RENAME USER, GRANT, REVOKE, roles). */
  readonly allowAccountStatements: boolean;
}

export const DEFAULT_SESSION_ROUTING: SessionRoutingOptions = {
  readConsistency: ReadConsistency.READ_YOUR_WRITES,
  readYourWritesStatements: DEFAULT_READ_YOUR_WRITES_STATEMENTS,
  allowAccountStatements: false,
};

/**
 * Statements that change accounts. Through the proxy they run as the application user: `SET PASSWORD` changed the
 * user's password on MariaDB while ProxySQL kept the old one for new backend connections (seen on 2.7.1), which
 * locks every task out at its next start.
 */
export const ACCOUNT_STATEMENT_DIGEST =
  '(?i)^(SET\\s+PASSWORD|SET\\s+DEFAULT\\s+ROLE|(CREATE|ALTER|DROP|RENAME)\\s+(USER|ROLE)|GRANT|REVOKE)\\b';

/**
 * A SELECT of nothing but system variables, function calls on literals and literals, with no FROM: what drivers
 * and ORMs send at connect (Django: `SELECT VERSION(), @@sql_mode, …, CONVERT_TZ(…) IS NOT NULL`; Connector/J:
 * `SELECT @@session.x AS x, …`). It creates no state, but ProxySQL pins the session for its life when a digest with
 * `@` names anything outside keep_multiplexing_variables (lib/mysql_connection.cpp IsKeepMultiplexEnabledVariables);
 * multiplex=2 tells it not to for this query. A user variable (`@x`) matches no item, and rule 50 comes first.
 */
const PROBE_ITEM = '(?:@@[\\w.]+|\\w+\\([^()]*\\)(?:\\s+IS\\s+NOT\\s+NULL)?|\\?)(?:\\s+AS\\s+`?\\w+`?)?';
export const CONNECT_PROBE_DIGEST = `(?i)^SELECT\\s+${PROBE_ITEM}(?:\\s*,\\s*${PROBE_ITEM})*$`;

/** What a refused account statement answers (error 1148); no quotes: the loader pastes it into SQL. */
export const ACCOUNT_STATEMENT_ERROR =
  'serverless-proxysql: account statements are refused through the proxy (SET PASSWORD, CREATE/ALTER/DROP/RENAME USER, GRANT, REVOKE); manage accounts through the database bootstrap or set allowAccountStatements';

/** The routing options with the defaults filled in. */
export function resolveSessionRouting(given: Partial<SessionRoutingOptions>): SessionRoutingOptions {
  return {
    readConsistency: given.readConsistency ?? DEFAULT_SESSION_ROUTING.readConsistency,
    readYourWritesStatements: given.readYourWritesStatements ?? DEFAULT_SESSION_ROUTING.readYourWritesStatements,
    allowAccountStatements: given.allowAccountStatements ?? DEFAULT_SESSION_ROUTING.allowAccountStatements,
  };
}

/** The states (flagIN values) of a session; see the file comment. */
export const SESSION_CHAIN = { stateless: 0, state: 1, locked: 2 } as const;
/** The deepest lock count the rules follow; deeper sessions stay locked until RELEASE_ALL_LOCKS(). */
export const MAX_TRACKED_LOCKS = 3;
const WROTE_CHAIN_BASE = 100;

/** The flagIN of locked(depth), depth 1 … MAX_TRACKED_LOCKS. */
export function lockedChain(depth: number): number {
  return SESSION_CHAIN.locked + Math.min(depth, MAX_TRACKED_LOCKS) - 1;
}

/** The flagIN of wrote(k); wrote(0) is the fresh state. */
export function wroteChain(k: number): number {
  return k <= 0 ? SESSION_CHAIN.stateless : WROTE_CHAIN_BASE + k;
}

/**
 * A user variable in a digest: `@name`, `@'name'` (digest `@?`) or `` @`name` ``, not a system variable (`@@x`)
 * and not the `'user'@'host'` of account statements (digest `?@?`).
 */
export const USER_VARIABLE_DIGEST = '(?:^|[^@\\w$?])@(?:[\\w$.]|\\?|\\x60)';

/** Statements that leave state on the connection for the rest of the session. */
export const SESSION_STATE_DIGEST = `(?i)${USER_VARIABLE_DIGEST}|^CREATE\\s+TEMPORARY\\s+TABLE\\b|^PREPARE\\b`;

/** Statements that take a lock held by the connection until released. */
export const LOCK_DIGEST = '(?i)^LOCK\\s+TABLES?\\b|\\bGET_LOCK\\s*\\(';

/** Statements that release one lock. */
export const RELEASE_ONE_DIGEST = '(?i)^UNLOCK\\s+TABLES?\\b|\\bRELEASE_LOCK\\s*\\(';

/** Statements that release every named lock of the connection. */
export const RELEASE_ALL_DIGEST = '(?i)\\bRELEASE_ALL_LOCKS\\s*\\(';

/**
 * Statements that change no data, in the fresh state: reads (SELECT, a parenthesised SELECT, a CTE; a CTE that writes
 * is caught by the default rule 1010 first) and session statements. Anything else counts as a write, so a statement nobody listed
 * errs on the safe side.
 */
export const NOT_A_WRITE_DIGEST = '(?i)^[(\\s]*(SELECT|WITH)\\b|^(SET|SHOW|USE|DESC|DESCRIBE|EXPLAIN|HELP)\\b';

/** {@link NOT_A_WRITE_DIGEST} without CTEs, for the wrote(k) states. */
export const READ_NOT_CTE_DIGEST = '(?i)^[(\\s]*SELECT\\b|^(SET|SHOW|USE|DESC|DESCRIBE|EXPLAIN|HELP)\\b';

/** A CTE that writes. */
export const WRITING_CTE_DIGEST = '(?i)^WITH\\b.*\\b(INSERT|UPDATE|DELETE|REPLACE)\\b';

/** Rule ids. Fresh: before the custom rules (100…990) and after the default split (1000…1020). Others: 1995 and up. */
export const SESSION_RULE_IDS = {
  /** The first rules of the fresh chain (account-statement refusal, connect probes); other chains: see firstRuleId. */
  refuseAccountBase: 10,
  state: 50,
  lock: 60,
  /** Writer-only: every other statement to the writer, before any custom rule. */
  writerOnly: 90,
  freshNotAWrite: 1900,
  freshWrite: 1910,
  stateChain: 2000,
} as const;

/** The first rule id of locked(depth)'s rules (2100, 2200, 2300). */
function lockedRuleBase(depth: number): number {
  return SESSION_RULE_IDS.stateChain + 100 * depth;
}

/** The first rule id of wrote(k)'s rules (3010 … 3150). */
function wroteRuleBase(k: number): number {
  return 3000 + 10 * k;
}

/** The rows of the session state machine for the given options, in rule_id order. */
export function sessionStateRules(options: SessionRoutingOptions = DEFAULT_SESSION_ROUTING): MySqlQueryRule[] {
  const ryw = options.readConsistency === ReadConsistency.READ_YOUR_WRITES;
  const n = ryw ? options.readYourWritesStatements : 0;
  // Where a session goes once it no longer needs the writer for its own writes.
  const afterRelease = wroteChain(n);
  const rules: MySqlQueryRule[] = [
    stateRule(SESSION_RULE_IDS.state, SESSION_CHAIN.stateless),
    lockRule(SESSION_RULE_IDS.lock, SESSION_CHAIN.stateless, 1),
  ];
  if (options.readConsistency === ReadConsistency.WRITER_ONLY) {
    rules.push({
      ruleId: SESSION_RULE_IDS.writerOnly,
      active: true,
      apply: true,
      comment: 'readConsistency writer-only: every statement goes to the writer',
    });
  }
  if (ryw) {
    rules.push(
      {
        ruleId: SESSION_RULE_IDS.freshNotAWrite,
        active: true,
        matchDigest: NOT_A_WRITE_DIGEST,
        apply: true,
        comment: 'a statement that changes no data and no rule routed: the writer, the session stays fresh',
      },
      {
        ruleId: SESSION_RULE_IDS.freshWrite,
        active: true,
        nextQueryFlagIn: wroteChain(n),
        apply: true,
        comment: `a write: the writer, and the next ${n} statements of the session follow it there (read-your-writes)`,
      },
    );
  }
  rules.push({
    ruleId: SESSION_RULE_IDS.stateChain,
    active: true,
    flagIn: SESSION_CHAIN.state,
    // The session is pinned already; saying so also keeps an unparsable SET from locking it (see above).
    multiplex: 0,
    apply: true,
    comment: 'a session with state: every statement on the writer, where the state is',
  });
  for (let depth = 1; depth <= MAX_TRACKED_LOCKS; depth++) {
    const chain = lockedChain(depth);
    const id = lockedRuleBase(depth);
    const deepest = depth === MAX_TRACKED_LOCKS;
    rules.push(
      { ...stateRule(id, chain), comment: 'a locked session that also creates state keeps the writer for good' },
      {
        ruleId: id + 10,
        active: true,
        flagIn: chain,
        matchDigest: RELEASE_ALL_DIGEST,
        multiplex: 1,
        nextQueryFlagIn: afterRelease,
        apply: true,
        comment: 'every named lock released: reads may leave the writer again',
      },
      lockRule(id + 20, chain, depth + 1),
      {
        ruleId: id + 30,
        active: true,
        flagIn: chain,
        matchDigest: RELEASE_ONE_DIGEST,
        ...(depth === 1 ? { multiplex: 1 as const, nextQueryFlagIn: afterRelease } : deepest ? {} : { nextQueryFlagIn: lockedChain(depth - 1) }),
        apply: true,
        comment:
          depth === 1
            ? 'the last lock released: reads may leave the writer again'
            : deepest
              ? `${MAX_TRACKED_LOCKS} or more locks: the count stops here, only RELEASE_ALL_LOCKS() ends it`
              : 'one lock released, others still held',
      },
      {
        ruleId: id + 40,
        active: true,
        flagIn: chain,
        apply: true,
        comment: 'a session holding a lock: every statement on the writer',
      },
    );
  }
  // First in every state: the account-statement refusal (ProxySQL answers error 1148 and returns before the state
  // changes).
  if (!options.allowAccountStatements) {
    rules.push(refuseAccountRule(SESSION_RULE_IDS.refuseAccountBase, SESSION_CHAIN.stateless));
    rules.push(refuseAccountRule(SESSION_RULE_IDS.stateChain - 5, SESSION_CHAIN.state));
    for (let depth = 1; depth <= MAX_TRACKED_LOCKS; depth++) rules.push(refuseAccountRule(lockedRuleBase(depth) - 5, lockedChain(depth)));
    for (let k = 1; k <= n; k++) rules.push(refuseAccountRule(wroteRuleBase(k) - 5, wroteChain(k)));
  }
  // Drivers probe at connect, in the fresh state.
  rules.push({
    ruleId: SESSION_RULE_IDS.refuseAccountBase + 1,
    active: true,
    matchDigest: CONNECT_PROBE_DIGEST,
    multiplex: 2,
    apply: false,
    comment: 'a SELECT of system variables and functions only (driver connect probes): it must not pin the session',
  });
  for (let k = n; k >= 1; k--) {
    const chain = wroteChain(k);
    const id = wroteRuleBase(k);
    rules.push(
      stateRule(id, chain),
      lockRule(id + 1, chain, 1),
      {
        ruleId: id + 3,
        active: true,
        flagIn: chain,
        // Without WITH: a CTE here counts as a write (it may be one; no rule tells them apart without look-arounds).
        matchDigest: READ_NOT_CTE_DIGEST,
        nextQueryFlagIn: wroteChain(k - 1),
        apply: true,
        comment: 'a read or session statement after a write: the writer, one statement fewer to go',
      },
      {
        ruleId: id + 4,
        active: true,
        flagIn: chain,
        nextQueryFlagIn: wroteChain(n),
        apply: true,
        comment: 'another write: the count starts again',
      },
    );
  }
  return shortComments(rules.sort((a, b) => a.ruleId - b.ruleId));
}

/**
 * A rule that repeats an earlier rule in another chain carries no comment (the first one explains them all): the
 * rendered file travels in the task definition, which ECS caps at 64 KiB.
 */
function shortComments(rules: MySqlQueryRule[]): MySqlQueryRule[] {
  const first = new Map<string, number>();
  return rules.map((rule) => {
    if (rule.comment === undefined) return rule;
    const seen = first.get(rule.comment);
    if (seen === undefined) {
      first.set(rule.comment, rule.ruleId);
      return rule;
    }
    return { ...rule, comment: undefined };
  });
}

function refuseAccountRule(ruleId: number, flagIn: number): MySqlQueryRule {
  return {
    ruleId,
    active: true,
    ...(flagIn === SESSION_CHAIN.stateless ? {} : { flagIn }),
    matchDigest: ACCOUNT_STATEMENT_DIGEST,
    errorMsg: ACCOUNT_STATEMENT_ERROR,
    apply: true,
    comment: 'account statements are refused by default (allowAccountStatements)',
  };
}

function stateRule(ruleId: number, flagIn: number): MySqlQueryRule {
  return {
    ruleId,
    active: true,
    ...(flagIn === SESSION_CHAIN.stateless ? {} : { flagIn }),
    matchDigest: SESSION_STATE_DIGEST,
    multiplex: 0,
    nextQueryFlagIn: SESSION_CHAIN.state,
    apply: true,
    comment: 'user variables, temporary tables and text PREPARE live on one writer connection: the session stays there',
  };
}

function lockRule(ruleId: number, flagIn: number, depth: number): MySqlQueryRule {
  return {
    ruleId,
    active: true,
    ...(flagIn === SESSION_CHAIN.stateless ? {} : { flagIn }),
    matchDigest: LOCK_DIGEST,
    multiplex: 0,
    nextQueryFlagIn: lockedChain(depth),
    apply: true,
    comment: 'LOCK TABLES and named locks: the session reads and writes on the writer until it releases them',
  };
}

const USER_VARIABLE = new RegExp(USER_VARIABLE_DIGEST);

/** A `SET` statement whose variables ProxySQL's SET parser cannot track: a user variable. */
export function isUntrackedSet(digest: string): boolean {
  return /^SET\b/i.test(digest) && USER_VARIABLE.test(digest);
}

/** What a state means for the user, for `explain`. */
export function describeChain(flag: number): string {
  if (flag === SESSION_CHAIN.stateless) return 'fresh: reads may go to the readers';
  if (flag === SESSION_CHAIN.state) {
    return 'the session holds state on its writer connection (user variable, temporary table or prepared statement): every later statement goes to the writer until the session ends';
  }
  if (flag >= SESSION_CHAIN.locked && flag < SESSION_CHAIN.locked + MAX_TRACKED_LOCKS) {
    const depth = flag - SESSION_CHAIN.locked + 1;
    return depth === MAX_TRACKED_LOCKS
      ? `the session holds ${MAX_TRACKED_LOCKS} or more locks on its writer connection: every statement goes to the writer until RELEASE_ALL_LOCKS()`
      : `the session holds ${depth} lock(s) on its writer connection: every statement goes to the writer until it releases them`;
  }
  if (flag > WROTE_CHAIN_BASE) {
    const k = flag - WROTE_CHAIN_BASE;
    return `the session wrote: its next ${k} statement(s) go to the writer, so it reads its own writes`;
  }
  return `rule chain ${flag}`;
}
