/**
 * `npm run synth`: synthesizes the reference architecture offline (no AWS credentials, no Docker) into
 * cdk.out and prints what it would deploy: stacks, resources by type, outputs, what it costs a month (src/cost),
 * and the rendered proxysql.cnf with every secret masked.
 */
import * as path from 'path';
import { App, Stack, Token } from 'aws-cdk-lib';
import { BACKEND_TLS_UNVERIFIED } from '../src/config/rds-ca';
import { maskSecrets } from '../src/config/secrets';
import { CostEstimate, estimateTemplate } from '../src/cost/estimate';
import { formatEstimate } from '../src/cost/format';
import { buildReferenceApp } from './build-app';
import { describeIntrinsic } from './describe-intrinsic';
import { estimateMinimalApp } from './minimal-stack';

export interface SynthSummary {
  readonly outdir: string;
  readonly text: string;
  /** The cost of each stack of the reference app, as printed. */
  readonly costs: readonly CostEstimate[];
  /** The cost of the ProxySQL service alone (app/minimal-stack.ts), as printed. */
  readonly minimalCost: CostEstimate;
}

/** Synthesizes into `outdir` and returns the summary text. */
export function synthesizeReferenceApp(outdir: string): SynthSummary {
  const { app, stack } = buildReferenceApp(new App({ outdir }));
  const assembly = app.synth();
  const lines: string[] = [`Synthesized the reference architecture into ${path.relative(process.cwd(), outdir) || outdir} (offline).`, ''];
  const costs: CostEstimate[] = [];
  for (const artifact of assembly.stacks) {
    const resources = Object.values((artifact.template as { Resources?: Record<string, { Type: string }> }).Resources ?? {});
    const byType = new Map<string, number>();
    for (const resource of resources) byType.set(resource.Type, (byType.get(resource.Type) ?? 0) + 1);
    lines.push(`Stack ${artifact.stackName}: ${resources.length} resources`);
    for (const [type, count] of [...byType.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      lines.push(`  ${String(count).padStart(3)}  ${type}`);
    }
    const outputs = (artifact.template as { Outputs?: Record<string, { Value: unknown; Description?: string }> }).Outputs ?? {};
    lines.push('', '  Outputs (resolved at deploy time):');
    for (const [name, output] of Object.entries(outputs)) {
      lines.push(`    ${name}: ${describeIntrinsic(output.Value)}`);
    }
    const warnings = artifact.messages.filter((m) => m.level !== 'info');
    if (warnings.length > 0) {
      lines.push('', '  Warnings:');
      for (const message of warnings) lines.push(`    [${message.level}] ${message.id}: ${String(message.entry.data)}`);
      if (warnings.some((m) => String(m.entry.data).includes(BACKEND_TLS_UNVERIFIED)) && Token.isUnresolved(Stack.of(stack).region)) {
        lines.push(
          `    note: offline the stack has no region, hence ${BACKEND_TLS_UNVERIFIED}. \`cdk deploy\` sets CDK_DEFAULT_REGION;`,
          '    with it (e.g. `CDK_DEFAULT_REGION=eu-west-1 npm run synth`) ProxySQL gets that region\'s RDS CAs and the warning goes away.',
        );
      }
    }
  }
  lines.push('', `Client endpoint: ${describeIntrinsic(Stack.of(stack).resolve(stack.proxy.endpointHostname))}:${stack.proxy.endpointPort}`);
  for (const artifact of assembly.stacks) {
    const estimate = estimateTemplate(artifact.template, { stackName: artifact.stackName });
    costs.push(estimate);
    lines.push('', formatEstimate(estimate));
  }
  const minimalCost = estimateMinimalApp();
  lines.push(
    '',
    'For comparison, the ProxySQL service alone in an existing VPC and Aurora cluster (app/minimal-stack.ts):',
    formatEstimate(minimalCost, { details: false }),
    '',
    "Any synthesized app: npx serverless-proxysql cost cdk.out. The whole bill against RDS Proxy's: docs/architecture.md, \"Cost against RDS Proxy\".",
  );
  lines.push('', 'proxysql.cnf each ProxySQL task renders at start (secrets masked; ${…} are CloudFormation values):', '');
  lines.push(maskSecrets(describeIntrinsic(Stack.of(stack).resolve(stack.proxy.configTemplate))));
  return { outdir, text: lines.join('\n'), costs, minimalCost };
}

if (require.main === module) {
  const outdir = path.resolve(__dirname, '..', 'cdk.out');
  process.stdout.write(synthesizeReferenceApp(outdir).text + '\n');
}
