// HTTPS egress narrowed to what each part needs (the reference app: the functions reach Secrets Manager through
// its endpoint only, the database has no egress; the library: a prop for each).
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, test } from 'vitest';
import { ReferenceStack } from '../app/reference-stack';
import { ProxySqlBackend } from '../src/proxysql-backend';
import { ProxySqlService } from '../src/proxysql-service';
import { givenAuroraCluster, givenStack } from './support/stack';

type Rule = { IpProtocol: string; FromPort?: number; CidrIp?: string; DestinationSecurityGroupId?: unknown };

/** Every egress rule of a security group: inline and standalone. */
function egressOf(stack: Stack, template: Template, sg: ec2.ISecurityGroup): Rule[] {
  const id = stack.getLogicalId(sg.node.defaultChild as never);
  const inline = (template.toJSON().Resources[id].Properties.SecurityGroupEgress ?? []) as Rule[];
  const standalone = Object.values(template.findResources('AWS::EC2::SecurityGroupEgress'))
    .filter((r) => JSON.stringify(r.Properties.GroupId) === JSON.stringify({ 'Fn::GetAtt': [id, 'GroupId'] }))
    .map((r) => r.Properties as Rule);
  return [...inline, ...standalone];
}

describe('the reference app', () => {
  const app = new App();
  const stack = new ReferenceStack(app, 'Ref', { env: { account: '111111111111', region: 'eu-west-1' } });
  const template = Template.fromStack(stack);
  const https = (rules: Rule[]) => rules.filter((r) => r.FromPort === 443);

  test("the demo and bootstrap functions' HTTPS goes to the Secrets Manager endpoint only", () => {
    const endpointSgs = Object.entries(template.findResources('AWS::EC2::VPCEndpoint'))
      .filter(([, r]) => JSON.stringify(r.Properties.ServiceName).includes('secretsmanager'))
      .map(([, r]) => (r.Properties.SecurityGroupIds as unknown[])[0]);
    expect(endpointSgs).toHaveLength(1);
    for (const sg of [stack.demo.securityGroup, stack.proxy.bootstrap!.securityGroup]) {
      const rules = https(egressOf(stack, template, sg));
      expect(rules).toEqual([expect.objectContaining({ DestinationSecurityGroupId: endpointSgs[0] })]);
      expect(rules.some((r) => r.CidrIp === '0.0.0.0/0')).toBe(false);
    }
  });

  test('the tasks keep HTTPS to the internet: the image comes from Docker Hub', () => {
    expect(https(egressOf(stack, template, stack.proxy.taskConnections.securityGroups[0]))).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0' }),
    ]);
  });

  test("the database's security group allows no egress", () => {
    const dbSgs = Object.values(template.findResources('AWS::RDS::DBCluster')).flatMap((r) => r.Properties.VpcSecurityGroupIds as unknown[]);
    expect(dbSgs).toHaveLength(1);
    const id = (dbSgs[0] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    // aws-cdk-lib writes a rule no packet matches when allowAllOutbound is false.
    expect(template.toJSON().Resources[id].Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' }),
    ]);
  });
});

test('ProxySqlService httpsEgress narrows the tasks and the bootstrap; bootstrapHttpsEgress the bootstrap alone', () => {
  const { stack, vpc } = givenStack();
  const cluster = givenAuroraCluster(stack, vpc);
  const proxy = new ProxySqlService(stack, 'Proxy', {
    vpc,
    backend: ProxySqlBackend.auroraCluster(cluster),
    httpsEgress: ec2.Peer.ipv4('10.0.0.0/16'),
    bootstrapHttpsEgress: ec2.Peer.ipv4('10.0.1.0/24'),
  });
  const template = Template.fromStack(stack);
  const cidrs = (sg: ec2.ISecurityGroup) => egressOf(stack, template, sg).filter((r) => r.FromPort === 443).map((r) => r.CidrIp);
  expect(cidrs(proxy.taskConnections.securityGroups[0])).toEqual(['10.0.0.0/16']);
  expect(cidrs(proxy.bootstrap!.securityGroup)).toEqual(['10.0.1.0/24']);
});
