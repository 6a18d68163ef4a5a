/**
 * Compares two synthesized CloudFormation templates of the same app, one from TypeScript and one from Python
 * (`npm run test:python`): the parts a reviewer checks one by one (resources by type, the rendered proxysql.cnf, IAM,
 * security-group rules, outputs, asset hashes), then every resource whole. Pure: no aws-cdk-lib, no files.
 */
import { CONFIG_TEMPLATE_ENV } from '../../src/constants';

export interface Template {
  readonly Resources?: Record<string, { readonly Type: string; readonly Properties?: unknown; readonly [key: string]: unknown }>;
  readonly Outputs?: Record<string, unknown>;
  readonly Parameters?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** The `files` of a cloud assembly's `<stack>.assets.json`: asset hash → where it is published. */
export interface AssetManifest {
  readonly files?: Record<string, unknown>;
  readonly dockerImages?: Record<string, unknown>;
}

export interface ParityAspect {
  readonly name: string;
  readonly equal: boolean;
  /** What was compared ("129 resources of 38 types"), or what differs. */
  readonly detail: string;
}

export interface ParityReport {
  readonly equal: boolean;
  readonly aspects: readonly ParityAspect[];
}

const IAM_TYPES = new Set(['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']);
const SECURITY_GROUP_TYPES = new Set(['AWS::EC2::SecurityGroup', 'AWS::EC2::SecurityGroupIngress', 'AWS::EC2::SecurityGroupEgress']);

/** Key order does not matter in a template: compare canonical JSON. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

function countByType(template: Template): Map<string, number> {
  const counts = new Map<string, number>();
  for (const resource of Object.values(template.Resources ?? {})) counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
  return counts;
}

/** The proxysql.cnf template each task definition's containers carry, by logical id. */
export function configTemplates(template: Template): Record<string, unknown> {
  const found: Record<string, unknown> = {};
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::ECS::TaskDefinition') continue;
    const containers = (resource.Properties as { ContainerDefinitions?: Array<{ Name?: string; Environment?: Array<{ Name: string; Value: unknown }> }> })
      .ContainerDefinitions ?? [];
    for (const container of containers) {
      const variable = container.Environment?.find((e) => e.Name === CONFIG_TEMPLATE_ENV);
      if (variable) found[`${id}/${container.Name ?? '?'}`] = variable.Value;
    }
  }
  return found;
}

/** Resources of the given types whose definitions differ, or that only one side has. */
function differingResources(a: Template, b: Template, types?: ReadonlySet<string>): string[] {
  const ids = new Set([...Object.keys(a.Resources ?? {}), ...Object.keys(b.Resources ?? {})]);
  const out: string[] = [];
  for (const id of [...ids].sort()) {
    const left = a.Resources?.[id];
    const right = b.Resources?.[id];
    if (types && !types.has(left?.Type ?? '') && !types.has(right?.Type ?? '')) continue;
    if (!left) out.push(`${id} (${right?.Type}) only in the second`);
    else if (!right) out.push(`${id} (${left.Type}) only in the first`);
    else if (canonical(left) !== canonical(right)) out.push(`${id} (${left.Type}) differs`);
  }
  return out;
}

function ofTypes(template: Template, types: ReadonlySet<string>): number {
  return Object.values(template.Resources ?? {}).filter((r) => types.has(r.Type)).length;
}

function aspect(name: string, differences: readonly string[], same: string): ParityAspect {
  return differences.length === 0
    ? { name, equal: true, detail: same }
    : { name, equal: false, detail: differences.slice(0, 10).join('; ') + (differences.length > 10 ? `; and ${differences.length - 10} more` : '') };
}

/** Compares `first` (TypeScript) with `second` (Python). */
export function compareTemplates(first: Template, second: Template, assets?: { first: AssetManifest; second: AssetManifest }): ParityReport {
  const aspects: ParityAspect[] = [];

  const typesA = countByType(first);
  const typesB = countByType(second);
  const typeDiffs = [...new Set([...typesA.keys(), ...typesB.keys()])]
    .sort()
    .filter((t) => typesA.get(t) !== typesB.get(t))
    .map((t) => `${t}: ${typesA.get(t) ?? 0} vs ${typesB.get(t) ?? 0}`);
  const resourceCount = Object.keys(first.Resources ?? {}).length;
  aspects.push(aspect('resource types and counts', typeDiffs, `${resourceCount} resources of ${typesA.size} types`));

  const configA = configTemplates(first);
  const configB = configTemplates(second);
  const configDiffs = [...new Set([...Object.keys(configA), ...Object.keys(configB)])]
    .sort()
    .filter((k) => canonical(configA[k]) !== canonical(configB[k]))
    .map((k) => (k in configA ? (k in configB ? `${k} differs` : `${k} only in the first`) : `${k} only in the second`));
  if (Object.keys(configA).length === 0) configDiffs.push(`no container carries ${CONFIG_TEMPLATE_ENV}`);
  const configBytes = Object.values(configA).reduce<number>((n, v) => n + canonical(v).length, 0);
  aspects.push(aspect('rendered proxysql.cnf', configDiffs, `${Object.keys(configA).length} template(s), ${configBytes} bytes, identical`));

  aspects.push(aspect('IAM roles and policies', differingResources(first, second, IAM_TYPES), `${ofTypes(first, IAM_TYPES)} resources identical`));
  aspects.push(
    aspect('security groups and rules', differingResources(first, second, SECURITY_GROUP_TYPES), `${ofTypes(first, SECURITY_GROUP_TYPES)} resources identical`),
  );

  const outputsA = first.Outputs ?? {};
  const outputsB = second.Outputs ?? {};
  const outputDiffs = [...new Set([...Object.keys(outputsA), ...Object.keys(outputsB)])]
    .sort()
    .filter((k) => canonical(outputsA[k]) !== canonical(outputsB[k]));
  aspects.push(aspect('outputs', outputDiffs.map((k) => `${k} differs`), `${Object.keys(outputsA).length} outputs identical`));

  if (assets) {
    const filesA = Object.keys(assets.first.files ?? {}).sort();
    const filesB = Object.keys(assets.second.files ?? {}).sort();
    const assetDiffs = [...filesA.filter((h) => !filesB.includes(h)).map((h) => `${h} only in the first`), ...filesB.filter((h) => !filesA.includes(h)).map((h) => `${h} only in the second`)];
    const images = Object.keys(assets.first.dockerImages ?? {}).length + Object.keys(assets.second.dockerImages ?? {}).length;
    if (images > 0) assetDiffs.push(`${images} Docker image asset(s): synth must need no Docker`);
    aspects.push(aspect('file assets (the prebuilt Lambda code, by content hash)', assetDiffs, `${filesA.length} assets with the same hashes, no Docker image`));
  }

  aspects.push(aspect('every resource, whole', differingResources(first, second), `${resourceCount} resources identical`));
  const { Resources: _ra, ...restA } = first;
  const { Resources: _rb, ...restB } = second;
  aspects.push(aspect('the rest of the template (parameters, rules, conditions, mappings)', canonical(restA) === canonical(restB) ? [] : ['differs'], 'identical'));

  return { equal: aspects.every((a) => a.equal), aspects };
}

/** The report as printed: one line per aspect. */
export function formatParity(title: string, report: ParityReport): string {
  const width = Math.max(...report.aspects.map((a) => a.name.length));
  return [
    `${title}: ${report.equal ? 'the same' : 'DIFFERENT'}`,
    ...report.aspects.map((a) => `  ${a.equal ? 'same     ' : 'DIFFERENT'}  ${a.name.padEnd(width)}  ${a.detail}`),
  ].join('\n');
}
