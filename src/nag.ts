import { Stack, Validations } from 'aws-cdk-lib';
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

/**
 * A resource (ARN) as cdk-nag names it in a finding such as `AwsSolutions-IAM5[Resource::…]`: the value resolved,
 * with `Ref` → `<Id>`, `Fn::GetAtt` → `<Id.Attr>` and `Fn::Join` joined, as cdk-nag's flattenCfnReference does.
 * Lets an acknowledgement name exactly the resource it accepts, whatever the stack's env and the resource's logical id.
 */
export function nagResourceName(scope: IConstruct, value: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    const o = node as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${visit(resource)}.${visit(attribute)}>`;
    }
    if (o.Ref !== undefined) return `<${visit(o.Ref)}>`;
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}
