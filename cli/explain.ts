/**
 * `explain "<SQL>"`: which hostgroup ProxySQL sends a statement to and why, evaluated by explainQuery over the
 * rules a deploy renders (the defaults plus the custom rules of `--config`, built by buildQueryRules, the
 * code buildProxySqlConfig runs).
 */
import { READER_HOSTGROUP, WRITER_HOSTGROUP } from '../src/constants';
import { MySqlQueryRule } from '../src/config/model';
import { explainQuery, explainSession, QueryExplanation, SessionStepExplanation, splitStatements } from '../src/config/explain';
import { buildQueryRules, QueryRuleError } from '../src/config/query-rules';
import { resolveSessionRouting } from '../src/config/session-state';
import { defineCommand, helpText, parseCommand, ParsedArgs } from './command-table';
import { checkUserName, CLI_NAME, CommandResult, UsageError } from './common';
import { ConfigFile, readConfigFile } from './config-file';

export const EXPLAIN_COMMAND = defineCommand({
  name: 'explain',
  summary: 'show which query rule and hostgroup a SQL statement gets, and why',
  usage: [
    `${CLI_NAME} explain [options] [--] "<SQL>"`,
    `echo "<SQL>" | ${CLI_NAME} explain [options] -`,
    `${CLI_NAME} explain --session [options] "<SQL>; <SQL>; …"   (or one statement per argument, or -)`,
  ],
  description: `Shows where ProxySQL sends a statement: the digest it matches rules against, the rule that decided (id,
pattern, RE2, case-insensitive like ProxySQL), the hostgroup (${WRITER_HOSTGROUP} = writer, ${READER_HOSTGROUP} = readers) and why.
The rules are the ones a deploy renders: the session-state rules, the default read/write split and the custom
rules of --config. With --session the statements are one client session, in order: a statement that leaves
state on its connection (SET @var, a temporary table, PREPARE, LOCK TABLES, GET_LOCK) keeps every later one on
the writer, and explain says when and why. A statement that starts with '-' (a -- comment) goes after '--'.`,
  positionals: true,
  options: [
    { name: 'config', value: 'FILE', help: "the JSON file given to 'render' (its queryRules and defaultQueryRules are used)" },
    { name: 'in-transaction', help: 'the statement runs inside a transaction (transaction_persistent keeps it on the writer)' },
    { name: 'session', help: "explain a sequence of statements as one session (split at ';' outside quotes)" },
    { name: 'user', value: 'NAME', help: 'the ProxySQL user running it (rules restricted to a user match only that user)' },
    { name: 'json', help: 'machine-readable output' },
  ],
  epilogue: `Examples:
  ${CLI_NAME} explain "SELECT * FROM orders WHERE id = 7"
  ${CLI_NAME} explain --in-transaction "SELECT balance FROM accounts WHERE id = 1"
  ${CLI_NAME} explain --config proxysql.json --json "SELECT * FROM reports"
  ${CLI_NAME} explain --session "SET @x = 1; SELECT @x; SELECT * FROM items"`,
});

type ExplainParsed = ParsedArgs<(typeof EXPLAIN_COMMAND.options)[number]['name']>;

/** Where `explain` gets its input besides the arguments. */
export interface ExplainIo {
  /** The whole of standard input, read when the SQL argument is `-`. */
  readStdin(): string;
}

/** The rules a deploy with this `--config` renders, in the order ProxySQL evaluates them. */
export function rulesForConfig(config: ConfigFile, where: string): MySqlQueryRule[] {
  try {
    return buildQueryRules(config.queryRules ?? [], {
      includeDefaults: config.defaultQueryRules ?? true,
      routing: resolveSessionRouting(config),
    });
  } catch (error) {
    if (error instanceof QueryRuleError) throw new UsageError(`${where}: ${error.message}`);
    throw error;
  }
}

/** The machine-readable result of `explain --json`. */
export interface ExplainJson {
  readonly sql: string;
  readonly digest: string;
  readonly inTransaction: boolean;
  readonly hostgroup: number;
  readonly destination: QueryExplanation['destination'];
  readonly rule: null | {
    readonly ruleId: number;
    readonly matchDigest?: string;
    readonly matchPattern?: string;
    readonly engine: 'RE2';
    readonly caseInsensitive: true;
    readonly comment?: string;
  };
  readonly matchedRuleIds: number[];
  /** Result-set caching a matching rule asks for (ProxySQL: the last matching rule with a cache_ttl). */
  readonly cache: null | { readonly ruleId: number; readonly ttlMs: number };
  readonly reason: string;
  /** The rule chain (flagIN) the statement was matched in, and the one the next statement of the session starts in. */
  readonly chain: number;
  readonly nextChain: number;
  /** With --session: set when this statement changed the session's state. */
  readonly stateChange?: string;
  /** What ProxySQL may do that the rules do not show (e.g. a SET it cannot parse locks the session). */
  readonly caveat?: string;
}

export function explainToJson(sql: string, rules: readonly MySqlQueryRule[], explanation: QueryExplanation, inTransaction: boolean): ExplainJson {
  const rule = explanation.rule;
  const cacheRule = [...explanation.matchedRuleIds]
    .reverse()
    .map((id) => rules.find((r) => r.ruleId === id))
    .find((r) => r?.cacheTtl !== undefined);
  return {
    sql,
    digest: explanation.digest,
    inTransaction,
    hostgroup: explanation.hostgroup,
    destination: explanation.destination,
    rule: rule
      ? {
          ruleId: rule.ruleId,
          ...(rule.matchDigest !== undefined ? { matchDigest: rule.matchDigest } : { matchPattern: rule.matchPattern }),
          engine: 'RE2',
          caseInsensitive: true,
          ...(rule.comment !== undefined ? { comment: rule.comment } : {}),
        }
      : null,
    matchedRuleIds: explanation.matchedRuleIds,
    // Caching applies to statements that return rows; ProxySQL keeps the TTL of the rule, we only report it.
    cache: cacheRule ? { ruleId: cacheRule.ruleId, ttlMs: cacheRule.cacheTtl as number } : null,
    reason: explanation.reason,
    chain: explanation.chain,
    nextChain: explanation.nextChain,
    ...(explanation.caveat !== undefined ? { caveat: explanation.caveat } : {}),
    ...((explanation as Partial<SessionStepExplanation>).stateChange !== undefined
      ? { stateChange: (explanation as SessionStepExplanation).stateChange }
      : {}),
  };
}

function explainText(result: ExplainJson): string {
  const hostgroupName = result.destination === 'other' ? 'other' : result.destination === 'writer' ? 'writer' : 'readers';
  const lines = [
    `statement:   ${result.sql.replace(/\s+/g, ' ').trim()}`,
    `digest:      ${result.digest}`,
    `hostgroup:   ${result.hostgroup} (${hostgroupName})`,
    result.rule
      ? `rule:        ${result.rule.ruleId}, ${result.rule.matchDigest !== undefined ? `match_digest ${result.rule.matchDigest}` : `match_pattern ${result.rule.matchPattern}`} (RE2, case-insensitive)`
      : 'rule:        none decided',
    `matched:     ${result.matchedRuleIds.length > 0 ? result.matchedRuleIds.join(', ') : 'no rule'}`,
    `transaction: ${result.inTransaction ? 'inside a transaction' : 'outside a transaction'}`,
    ...(result.cache ? [`cache:       result sets cached for ${result.cache.ttlMs} ms (rule ${result.cache.ruleId})`] : []),
    `why:         ${result.reason}`,
    ...(result.stateChange ? [`state:       ${result.stateChange}`] : []),
    ...(result.caveat ? [`caveat:      ${result.caveat}`] : []),
  ];
  return lines.join('\n') + '\n';
}

function sessionText(results: ExplainJson[]): string {
  return results
    .map((result, i) => {
      const where = result.destination === 'writer' ? 'writer' : result.destination === 'reader' ? 'readers' : 'other';
      const lines = [
        `${i + 1}. ${result.sql.replace(/\s+/g, ' ').trim()}`,
        `   -> hostgroup ${result.hostgroup} (${where})${result.inTransaction ? ', inside a transaction' : ''}: ${result.reason}`,
        ...(result.stateChange ? [`   state: ${result.stateChange}`] : []),
        ...(result.caveat ? [`   caveat: ${result.caveat}`] : []),
      ];
      return lines.join('\n');
    })
    .join('\n') + '\n';
}

/** `explain` without a process. */
export function explainCommand(args: readonly string[], io: ExplainIo): CommandResult {
  try {
    const parsed = parseCommand(EXPLAIN_COMMAND, args);
    if (parsed.help) return { stdout: helpText(EXPLAIN_COMMAND), stderr: '', exitCode: 0 };
    if (parsed.flag('session')) return explainSessionCommand(parsed, io);
    if (parsed.positionals.length !== 1) {
      throw new UsageError(
        parsed.positionals.length === 0
          ? `give the statement as one argument in quotes, or '-' to read it from standard input`
          : `got ${parsed.positionals.length} arguments; quote the statement so it is one argument`,
      );
    }
    const sql = parsed.positionals[0] === '-' ? io.readStdin() : parsed.positionals[0];
    if (sql.trim() === '') throw new UsageError('the statement is empty');
    const { rules, username } = rulesAndUser(parsed);
    const inTransaction = parsed.flag('in-transaction');
    const explanation = explainQuery(rules, sql, { inTransaction, username });
    const result = explainToJson(sql, rules, explanation, inTransaction);
    const stdout = parsed.flag('json') ? `${JSON.stringify(result, null, 2)}\n` : explainText(result);
    return { stdout, stderr: '', exitCode: 0 };
  } catch (error) {
    if (error instanceof UsageError) return { stdout: '', stderr: `${CLI_NAME} explain: ${error.message}\n`, exitCode: error.exitCode };
    throw error;
  }
}

/** The rules of --config (or the defaults) and the checked --user, for one statement or a session. */
function rulesAndUser(parsed: ExplainParsed): { rules: MySqlQueryRule[]; username?: string } {
  const configPath = parsed.string('config');
  const config = configPath !== undefined ? readConfigFile(configPath) : {};
  const rules = rulesForConfig(config, `--config ${configPath ?? ''}`.trim());
  const userText = parsed.string('user');
  return { rules, username: userText === undefined ? undefined : checkUserName(userText, '--user') };
}

function explainSessionCommand(parsed: ExplainParsed, io: ExplainIo): CommandResult {
  if (parsed.flag('in-transaction')) {
    throw new UsageError('--session and --in-transaction exclude each other: in a session, BEGIN opens the transaction');
  }
  if (parsed.positionals.length === 0) throw new UsageError("give the session's statements, separated by ';', or '-' to read them from standard input");
  const text = parsed.positionals.length === 1 && parsed.positionals[0] === '-' ? io.readStdin() : parsed.positionals.join(';\n');
  const statements = splitStatements(text);
  if (statements.length === 0) throw new UsageError('the session has no statements');
  const { rules, username } = rulesAndUser(parsed);
  const results = explainSession(rules, statements, { username }).map((step) => explainToJson(step.sql, rules, step, step.inTransaction));
  const stdout = parsed.flag('json') ? `${JSON.stringify({ session: results }, null, 2)}\n` : sessionText(results);
  return { stdout, stderr: '', exitCode: 0 };
}
