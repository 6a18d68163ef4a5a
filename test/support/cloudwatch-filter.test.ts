// The evaluator the deployment-alarm tests rely on agrees with the examples of the CloudWatch Logs user guide
// ("Supported regular expressions (regex) syntax").
import { expect, test } from 'vitest';
import { regexFilterMatches, regexFilterProblem } from './cloudwatch-filter';

test('an unanchored expression matches anywhere in the message; ^ anchors at its start', () => {
  expect(regexFilterMatches('%AUTHORIZED%', '[ERROR 401] UNAUTHORIZED REQUEST')).toBe(true);
  expect(regexFilterMatches('%AUTHORIZED%', '[SUCCESS 200] AUTHORIZED REQUEST')).toBe(true);
  expect(regexFilterMatches('%^[hc]at%', 'hat on')).toBe(true);
  expect(regexFilterMatches('%^[hc]at%', 'that')).toBe(false);
  expect(regexFilterMatches('%[hc]at$%', 'a cat')).toBe(true);
  expect(regexFilterMatches('%colou?r%', 'color')).toBe(true);
  expect(regexFilterMatches('%a{3,5}%', 'aa')).toBe(false);
  expect(regexFilterMatches('%[Ee]rror|[Ff]ail%', 'it Failed')).toBe(true);
  expect(regexFilterMatches('%[Ee]rror|[Ff]ail%', 'it broke')).toBe(false);
  // case-sensitive
  expect(regexFilterMatches('%[Ee]rror%', 'ERROR')).toBe(false);
});

test('what CloudWatch refuses is refused: other symbols, parentheses, spaces, multibyte characters, no % signs', () => {
  expect(regexFilterProblem('%something!%')).toMatch(/'!' is not allowed/);
  expect(regexFilterProblem('%(a|b)c%')).toMatch(/'\(' is not allowed/);
  expect(regexFilterProblem('%a b%')).toMatch(/' ' is not allowed/);
  expect(regexFilterProblem('%"a"%')).toMatch(/'"' is not allowed/);
  expect(regexFilterProblem('%é%')).toMatch(/'é' is not allowed/);
  expect(regexFilterProblem('AUTHORIZED')).toMatch(/between % signs/);
  expect(() => regexFilterMatches('%a b%', 'a b')).toThrow(/would refuse/);
  expect(regexFilterProblem('%^[0-9]+:[A-Za-z_]+..ERROR.\\.cpp%')).toBeUndefined();
});
