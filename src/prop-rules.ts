import { Token } from 'aws-cdk-lib';
import { check, Finding, Problem } from './config/rules';

/**
 * Applies a rule of src/config/rules.ts to a construct prop and throws `<field>: <problem>`, unless the value is a
 * CloudFormation token: its value is known only at deploy time, so the runtime checks it then with the same rule.
 */
export function checkProp<T>(field: string, value: T, rule: (value: T) => Problem | Finding): void {
  if (Token.isUnresolved(value)) return;
  check(field, rule(value));
}
