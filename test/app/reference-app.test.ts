import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, describe, expect, test } from 'vitest';
import { buildReferenceApp } from '../../app/build-app';
import { output, run } from '../../local/run';
import { synthesizeReferenceApp } from '../../app/synth';
import { estimateTemplate } from '../../src/cost/estimate';
import { formatEstimate } from '../../src/cost/format';
import { parseLibconfig } from '../support/libconfig';

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spx-ref-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface ValidationReport {
  pluginReports: Array<{ pluginName: string; conclusion: string; violations: Array<{ ruleName: string; severity: string; violatingConstructs?: Array<{ constructPath: string }> }> }>;
}

function readReport(dir: string): ValidationReport | undefined {
  const file = path.join(dir, 'validation-report.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as ValidationReport) : undefined;
}

describe('the reference app', () => {
  test('passes cdk-nag AwsSolutions with every acknowledgement carrying a specific reason', () => {
    // GIVEN the reference app with the AwsSolutions pack (cdk-nag v3)
    const outdir = path.join(tmp, 'nag');
    const app = new App({ outdir });
    buildReferenceApp(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // WHEN it is synthesized THEN no unacknowledged finding fails it
    let failure: unknown;
    try {
      app.synth();
    } catch (error) {
      failure = error;
    }
    const report = readReport(outdir);
    const open = (report?.pluginReports ?? [])
      .filter((r) => r.pluginName === 'AwsSolutions')
      .flatMap((r) => r.violations)
      .filter((v) => v.severity === 'error' || v.severity === 'fatal')
      .map((v) => `${v.ruleName} at ${(v.violatingConstructs ?? []).map((c) => c.constructPath).join(', ')}`);
    expect(open).toEqual([]);
    expect(failure).toBeUndefined();
    // and every acknowledgement says why, specifically (not a blanket "suppressed")
    const acknowledgements = collectAcknowledgements(app).filter((a) => a.id.startsWith('AwsSolutions'));
    expect(acknowledgements.length).toBeGreaterThanOrEqual(10);
    for (const { id, reason } of acknowledgements) {
      expect(id).toMatch(/^AwsSolutions::AwsSolutions-/);
      expect(reason.length, `${id}: ${reason}`).toBeGreaterThanOrEqual(50);
    }
    expect(new Set(acknowledgements.map((a) => a.reason)).size).toBeGreaterThanOrEqual(acknowledgements.length - 4);
  });

  test("passes aws-cdk-lib's CloudFormation validation and cfn-lint with no findings", async () => {
    // GIVEN validation on (unit tests run with CDK_VALIDATION=false) and its errors kept as errors, synthesized by the
    // cdk entry point (app/main.ts) in a child process as the cdk CLI runs it: on a busy machine this synth takes
    // over a minute of synchronous work, which in this worker would outlast vitest's RPC timeout
    const outdir = path.join(tmp, 'validate');
    await output(TSX, [path.join(ROOT, 'app', 'main.ts')], {
      env: {
        ...process.env,
        CDK_VALIDATION: 'true',
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ '@aws-cdk/core:validateAgainstDefaultRules': true }),
      },
    });
    // THEN the built-in validation found nothing, not even warnings
    const violations = (readReport(outdir)?.pluginReports ?? []).flatMap((r) => r.violations.map((v) => `${r.pluginName}: ${v.ruleName}`));
    expect(violations).toEqual([]);
    // AND cfn-lint (on the machine image, under pyenv Python) reports no error or warning
    const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => path.join(outdir, f));
    expect(templates).toHaveLength(1);
    const cfnLint = await run('cfn-lint', ['--version']);
    if (cfnLint.status !== 0) {
      console.warn('cfn-lint is not installed: only aws-cdk-lib validation ran');
      return;
    }
    const lint = await run('cfn-lint', ['--format', 'parseable', ...templates]);
    const findings = lint.stdout.split('\n').filter((l) => l.trim() !== '');
    expect(findings.filter((l) => /:E\d+:/.test(l))).toEqual([]);
    // Warnings allowed: W3005 only, redundant DependsOn that aws-cdk-lib itself emits (role before function).
    expect(findings.filter((l) => /:W\d+:/.test(l) && !/:W3005:/.test(l))).toEqual([]);
  }, 180_000);

  test('survives an AZ: a NAT gateway per AZ and endpoints for Secrets Manager, Logs and S3; -c lean=true trims them', () => {
    const full = Template.fromStack(buildReferenceApp(new App({ outdir: path.join(tmp, 'net-full') })).stack);
    full.resourceCountIs('AWS::EC2::NatGateway', 2);
    const services = Object.values(full.findResources('AWS::EC2::VPCEndpoint')).map((e) => JSON.stringify(e.Properties.ServiceName));
    expect(services.filter((n) => n.includes('secretsmanager'))).toHaveLength(1);
    expect(services.filter((n) => n.includes('.logs'))).toHaveLength(1);
    expect(services.filter((n) => n.includes('.s3'))).toHaveLength(1);
    const lean = Template.fromStack(buildReferenceApp(new App({ outdir: path.join(tmp, 'net-lean'), context: { lean: 'true' } })).stack);
    lean.resourceCountIs('AWS::EC2::NatGateway', 1);
    lean.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  test('outputs what a user needs', () => {
    const app = new App({ outdir: path.join(tmp, 'outputs') });
    const { stack } = buildReferenceApp(app);
    const outputs = Template.fromStack(stack).toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(
      ['AdminInterface', 'AppUserSecretArn', 'DatabaseAdminSecretArn', 'DemoApiUrl', 'EcsClusterName', 'EcsServiceName', 'ProxyEndpoint', 'ProxyPort'].sort(),
    );
    expect(outputs.ProxyPort.Value).toBe('3306');
    expect(JSON.stringify(outputs.AdminInterface.Value)).toMatch(/aws ecs execute-command .*-P6032/);
  });
});

describe('npm run synth', () => {
  test('prints the stack, resources by type, the endpoint and the masked proxysql.cnf', () => {
    const summary = synthesizeReferenceApp(path.join(tmp, 'summary'));
    expect(summary.text).toMatch(/Stack ServerlessProxySql: \d+ resources/);
    expect(summary.text).toMatch(/\n\s+1\s+AWS::ECS::Service\n/);
    expect(summary.text).toMatch(/Client endpoint: \$\{ProxySqlDnsRecord\w+\}:3306/);
    const cnfText = summary.text.slice(summary.text.indexOf('# proxysql.cnf rendered'));
    expect(cnfText).not.toContain('{{secret:');
    const cnf = parseLibconfig(cnfText);
    expect((cnf.admin_variables as Record<string, string>).admin_credentials).toBe('admin:********(PROXYSQL_ADMIN_PASSWORD)');
    expect((cnf.admin_variables as Record<string, string>).stats_credentials).toBe('stats:********(PROXYSQL_STATS_PASSWORD)');
    expect((cnf.mysql_users as Array<Record<string, string>>)[0]).toMatchObject({ username: 'app', password: '********(PROXYSQL_USER_PASSWORD_0)' });
    expect(fs.existsSync(path.join(tmp, 'summary', 'manifest.json'))).toBe(true);
  });

  test("prints the bill before the deploy: the reference app's, from the template it wrote, and the ProxySQL service's alone", () => {
    const summary = synthesizeReferenceApp(path.join(tmp, 'summary-cost'));
    const written = JSON.parse(fs.readFileSync(path.join(tmp, 'summary-cost', 'ServerlessProxySql.template.json'), 'utf8')) as unknown;
    expect(summary.costs).toHaveLength(1);
    expect(summary.costs[0]).toEqual(estimateTemplate(written, { stackName: 'ServerlessProxySql' }));
    const section = formatEstimate(summary.costs[0]);
    expect(summary.text).toContain(section);
    expect(section).toMatch(/TOTAL always on/);
    expect(section).toMatch(/Grows with use/);
    expect(summary.text).toContain(formatEstimate(summary.minimalCost, { details: false }));
    expect(summary.minimalCost.stackName).toBe('ProxySqlOnly');
    // before the long proxysql.cnf, where a reader of the output sees it
    expect(summary.text.indexOf(section)).toBeLessThan(summary.text.indexOf('proxysql.cnf each ProxySQL task renders'));
  });

  test('works as the npm script, offline and without AWS credentials', async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'none-such', CDK_VALIDATION: 'false' };
    const out = await output(TSX, [path.join(ROOT, 'app', 'synth.ts')], { env, cwd: tmp });
    expect(out).toMatch(/Synthesized the reference architecture/);
    expect(out).toMatch(/mysql_aws_aurora_hostgroups=/);
    expect(out).toMatch(/Monthly cost of ServerlessProxySql: us-east-1 .*\n[\s\S]*TOTAL always on/);
  }, 120_000);
});

function collectAcknowledgements(app: App): Array<{ id: string; reason: string }> {
  const found: Array<{ id: string; reason: string }> = [];
  for (const construct of app.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      // aws-cdk-lib stores { [ruleId]: reason } per acknowledge() call.
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) found.push({ id, reason });
    }
  }
  return found;
}
