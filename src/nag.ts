import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag (v3, AwsSolutions pack) findings on a construct, each with the reason specific to this
 * architecture. Uses aws-cdk-lib's own Validations API: the library does not depend on cdk-nag.
 */
export function acknowledge(scope: IConstruct, reasons: Readonly<Record<string, string>>): void {
  for (const [rule, reason] of Object.entries(reasons)) {
    Validations.of(scope).acknowledge({ id: /^[\w-]+::/.test(rule) ? rule : `AwsSolutions::${rule}`, reason });
  }
}
