/**
 * CloudWatch Logs' matching of a regular-expression filter pattern, as its user guide states it ("Supported regular
 * expressions (regex) syntax", Amazon CloudWatch Logs User Guide), for the forms the project uses:
 * - the expression is written between `%` signs and matches anywhere in the log event's message unless anchored
 *   (`%AUTHORIZED%` matches "UNAUTHORIZED REQUEST"; `^` anchors at the start of the message);
 * - it may hold only letters, digits, the symbols `: _ # = @ / ; , -` and the operators `^ $ ? [ ] { } | \ * + .`:
 *   a pattern with anything else (a space, a quote, `(`/`)`: "You can't use parentheses to define subpatterns",
 *   a multibyte character) is refused, here as there;
 * - matching is case-sensitive, and each log event is one line (the awslogs driver sends a line per event).
 * The constructs used (classes, `+`, `*`, `.`, `^`, `\.`, a top-level `|`) mean the same in every regular-expression
 * flavour, so JavaScript's engine evaluates them once the pattern passed those rules.
 */

const ALLOWED = /^[A-Za-z0-9:_#=@/;,\-^$?[\]{}|\\*+.]*$/;

/** The reason CloudWatch would refuse `pattern`, or undefined. */
export function regexFilterProblem(pattern: string): string | undefined {
  if (!pattern.startsWith('%') || !pattern.endsWith('%') || pattern.length < 3) return 'a regular-expression filter pattern is written between % signs';
  const body = pattern.slice(1, -1);
  const bad = [...body].find((c) => !ALLOWED.test(c));
  if (bad !== undefined) return `'${bad}' is not allowed in a regular-expression filter pattern`;
  try {
    new RegExp(body);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

/** Whether CloudWatch Logs counts `message` (one log event) for the regular-expression filter `pattern`. */
export function regexFilterMatches(pattern: string, message: string): boolean {
  const problem = regexFilterProblem(pattern);
  if (problem !== undefined) throw new Error(`CloudWatch Logs would refuse the filter pattern ${pattern}: ${problem}`);
  return new RegExp(pattern.slice(1, -1)).test(message);
}

/** The metric a filter publishes for these log lines: 1 per matching event. */
export function filterCount(pattern: string, lines: readonly string[]): number {
  return lines.filter((line) => regexFilterMatches(pattern, line)).length;
}
