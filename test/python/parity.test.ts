// The comparison `npm run test:python` prints between the TypeScript and the Python template: it must see each kind
// of difference a Python binding could introduce, not only report "the same".
import { Template as Assertions } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { compareTemplates, configTemplates, formatParity, Template } from '../../scripts/python/parity';
import { CONFIG_TEMPLATE_ENV } from '../../src/constants';
import { ProxySqlBackend } from '../../src/proxysql-backend';
import { ProxySqlService } from '../../src/proxysql-service';
import { givenAuroraCluster, givenClientFunction, givenStack } from '../support/stack';

function synthesized(): Template {
  const { stack, vpc } = givenStack();
  const proxy = new ProxySqlService(stack, 'Proxy', { vpc, backend: ProxySqlBackend.auroraCluster(givenAuroraCluster(stack, vpc)) });
  proxy.grantConnect(givenClientFunction(stack, vpc));
  return Assertions.fromStack(stack).toJSON() as Template;
}

const original = synthesized();
const copy = (): { -readonly [K in keyof Template]: Template[K] } & { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> } =>
  structuredClone(original) as never;
const idsOf = (template: Template, type: string) => Object.entries(template.Resources ?? {}).filter(([, r]) => r.Type === type).map(([id]) => id);
const differing = (report: ReturnType<typeof compareTemplates>) => report.aspects.filter((a) => !a.equal).map((a) => a.name);

describe('compareTemplates', () => {
  test('a template is the same as itself, aspect by aspect, and the config it compared is the real one', () => {
    const report = compareTemplates(original, synthesized(), { first: { files: { a: {} } }, second: { files: { a: {} } } });
    expect(differing(report)).toEqual([]);
    expect(report.equal).toBe(true);
    expect(Object.values(configTemplates(original))).toHaveLength(1);
    expect(formatParity('t', report)).toMatch(/^t: the same\n {2}same {6} resource types and counts/);
  });

  test('a changed proxysql.cnf', () => {
    const changed = copy();
    const [id] = idsOf(changed, 'AWS::ECS::TaskDefinition');
    const containers = changed.Resources[id].Properties.ContainerDefinitions as Array<{ Environment: Array<{ Name: string; Value: unknown }> }>;
    const variable = containers.flatMap((c) => c.Environment ?? []).find((e) => e.Name === CONFIG_TEMPLATE_ENV);
    if (!variable) throw new Error('no config template');
    variable.Value = JSON.stringify(variable.Value).replace('max_connections', 'max_connection');
    expect(differing(compareTemplates(original, changed))).toEqual(['rendered proxysql.cnf', 'every resource, whole']);
  });

  test('a security-group rule and an IAM statement more, a resource fewer', () => {
    const changed = copy();
    changed.Resources.Extra = { Type: 'AWS::EC2::SecurityGroupIngress', Properties: { IpProtocol: 'tcp', FromPort: 6032, ToPort: 6032, CidrIp: '0.0.0.0/0' } };
    const [policy] = idsOf(changed, 'AWS::IAM::Policy');
    (changed.Resources[policy].Properties.PolicyDocument as { Statement: unknown[] }).Statement.push({ Effect: 'Allow', Action: '*', Resource: '*' });
    const [dashboard] = idsOf(changed, 'AWS::CloudWatch::Dashboard');
    delete changed.Resources[dashboard];
    const report = compareTemplates(original, changed);
    expect(differing(report)).toEqual(['resource types and counts', 'IAM roles and policies', 'security groups and rules', 'every resource, whole']);
    expect(report.aspects[0].detail).toMatch(/AWS::CloudWatch::Dashboard: 1 vs 0; AWS::EC2::SecurityGroupIngress: \d+ vs \d+/);
    expect(formatParity('t', report)).toMatch(/^t: DIFFERENT\n/);
  });

  test('an output, an asset hash and a Docker image asset', () => {
    const changed = copy();
    changed.Outputs = { Endpoint: { Value: 'x' } };
    const report = compareTemplates(original, changed, {
      first: { files: { aaa: {} } },
      second: { files: { bbb: {} }, dockerImages: { ccc: {} } },
    });
    expect(differing(report)).toEqual(['outputs', 'file assets (the prebuilt Lambda code, by content hash)', 'the rest of the template (parameters, rules, conditions, mappings)']);
    expect(report.aspects.find((a) => a.name.startsWith('file assets'))?.detail).toBe(
      'aaa only in the first; bbb only in the second; 1 Docker image asset(s): synth must need no Docker',
    );
  });
});
