/**
 * Reading a synthesized CloudFormation template as plain JSON: resources by logical ID, the logical ID a `Ref` or
 * `Fn::GetAtt` points at, numbers that CloudFormation writes as strings, and `Fn::Join` text with the values only
 * a deploy knows shown as `${…}`. No aws-cdk-lib: any app's `cdk.out/<Stack>.template.json` reads the same.
 */

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

export interface CfnTemplate {
  readonly Resources?: Readonly<Record<string, CfnResource>>;
}

/** The resources of a parsed template, or an error that says what is wrong with it. */
export function templateResources(template: unknown): Readonly<Record<string, CfnResource>> {
  if (template === null || typeof template !== 'object' || Array.isArray(template)) {
    throw new TemplateError('not a CloudFormation template: expected a JSON object');
  }
  const resources = (template as { Resources?: unknown }).Resources;
  if (resources === undefined) throw new TemplateError('not a CloudFormation template: it has no Resources');
  if (resources === null || typeof resources !== 'object' || Array.isArray(resources)) {
    throw new TemplateError('not a CloudFormation template: Resources is not an object');
  }
  for (const [id, resource] of Object.entries(resources as Record<string, unknown>)) {
    if (resource === null || typeof resource !== 'object' || typeof (resource as { Type?: unknown }).Type !== 'string') {
      throw new TemplateError(`not a CloudFormation template: resource ${id} has no Type`);
    }
  }
  return resources as Record<string, CfnResource>;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** The logical ID that `{ Ref: X }` or `{ 'Fn::GetAtt': [X, …] }` names, else undefined. */
export function logicalIdOf(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === 'string') return ref;
  const getAtt = (value as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

/** A number written as a number or a numeric string ("512"); undefined for a token or anything else. */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

/** Text of a string or an `Fn::Join`, with every value a deploy fills in shown as `${…}`; undefined for other tokens. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return undefined;
  const join = (value as { 'Fn::Join'?: unknown })['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return (join[1] as unknown[]).map((part) => textOf(part) ?? '${…}').join(join[0]);
  }
  return undefined;
}

/** `true` when `value` (any JSON) contains a reference to `logicalId` (`Ref` or `Fn::GetAtt`). */
export function refersTo(value: unknown, logicalId: string): boolean {
  if (logicalIdOf(value) === logicalId) return true;
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value as Record<string, unknown>).some((v) => refersTo(v, logicalId));
}

/** The property as an array (CloudFormation lists), or [] when it is absent or a token. */
export function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The property as an object, or {} when it is absent or not an object. */
export function objectOf(value: unknown): Readonly<Record<string, unknown>> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
