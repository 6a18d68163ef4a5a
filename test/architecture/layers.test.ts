/**
 * The floors of the code read one way (docs/architecture.md, "Layers"):
 *   app/, cli/, bench/, local/  →  src/ (the constructs)  →  src/config/ + src/constants.ts (model and rules)
 *   runtime/ (Lambda handlers, container scripts)          →  src/config/ + src/constants.ts
 * The model floor imports no aws-cdk-lib, no constructs and nothing above it; runtime/ never imports a construct.
 * src/cost/ (the cost estimator) reads synthesized templates as JSON: it stands on the model floor only, so the CLI
 * prices any app's template without aws-cdk-lib.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(rel));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts') && entry.name !== 'test-support.ts') out.push(rel);
  }
  return out;
}

/** Every module a file imports, relative ones resolved to repository paths (without extension). */
function imports(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  // Static imports and re-exports (`import type` too), side-effect imports, dynamic import() and require().
  const patterns = [
    /^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm,
    /^\s*import\s+['"]([^'"]+)['"]/gm,
    /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map(([, spec]) => spec)).map((spec) =>
    spec.startsWith('.') ? path.normalize(path.join(path.dirname(file), spec)) : spec,
  );
}

const isModelFloor = (p: string) => p.startsWith(`src${path.sep}config`) || p === path.join('src', 'constants');

describe('layers', () => {
  test('the model floor (src/config, src/constants.ts) imports no aws-cdk-lib, no constructs, nothing above it', () => {
    const offences = [...sources(path.join('src', 'config')), path.join('src', 'constants.ts')].flatMap((file) =>
      imports(file)
        .filter((spec) => /^(aws-cdk-lib|constructs|cdk-nag)(\/|$)/.test(spec) || (spec.startsWith('src') && !isModelFloor(spec)) || /^(runtime|cli|app|bench|local)(\/|$)/.test(spec))
        .map((spec) => `${file} imports ${spec}`),
    );
    expect(offences).toEqual([]);
  });

  test('runtime/ imports only the model floor of src/, never a construct or aws-cdk-lib', () => {
    const offences = sources('runtime').flatMap((file) =>
      imports(file)
        .filter((spec) => /^(aws-cdk-lib|constructs)(\/|$)/.test(spec) || (spec.startsWith('src') && !isModelFloor(spec)) || /^(cli|app|bench|local)(\/|$)/.test(spec))
        .map((spec) => `${file} imports ${spec}`),
    );
    expect(offences).toEqual([]);
  });

  test('src/cost (the estimator) imports only the model floor and itself: no aws-cdk-lib, no construct', () => {
    const costDir = path.join('src', 'cost');
    const files = sources(costDir);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const offences = files.flatMap((file) =>
      imports(file)
        .filter((spec) => /^(aws-cdk-lib|constructs|cdk-nag)(\/|$)/.test(spec) || (spec.startsWith('src') && !isModelFloor(spec) && !spec.startsWith(costDir)) || /^(runtime|cli|app|bench|local)(\/|$)/.test(spec))
        .map((spec) => `${file} imports ${spec}`),
    );
    expect(offences).toEqual([]);
    expect(imports(path.join(costDir, 'estimate.ts')), 'the check sees the estimator\'s imports').toContain(path.join('src', 'config', 'metrics'));
  });

  test('src/ (the library) imports nothing from runtime/, cli/, app/, bench/ or local/', () => {
    const offences = sources('src').flatMap((file) =>
      imports(file)
        .filter((spec) => /^(runtime|cli|app|bench|local)(\/|$)/.test(spec))
        .map((spec) => `${file} imports ${spec}`),
    );
    expect(offences).toEqual([]);
  });

  test('the check sees real imports (it would catch an offence)', () => {
    expect(imports(path.join('src', 'proxysql-service.ts'))).toEqual(expect.arrayContaining(['aws-cdk-lib', path.join('src', 'config', 'build')]));
    expect(imports(path.join('runtime', 'bootstrap', 'spec.ts'))).toContain(path.join('src', 'config', 'rules'));
    expect(imports(path.join('src', 'database-bootstrap.ts'))).toEqual(expect.arrayContaining([path.join('src', 'config', 'rules'), 'aws-cdk-lib']));
  });

  test('the rules every caller shares live on the model floor, and the constructs, runtimes and tools use them', () => {
    const users = ['src/proxysql-service.ts', 'src/proxysql-backend.ts', 'src/database-bootstrap.ts', 'src/demo-api.ts', 'runtime/bootstrap/spec.ts', 'runtime/demo/environment.ts', 'bench/options.ts'];
    for (const file of users) {
      expect(imports(path.join(...file.split('/'))), file).toContain(path.join('src', 'config', 'rules'));
    }
    expect(fs.existsSync(path.join(ROOT, 'src', 'config', 'validation.ts')), 'the old second rules module is gone').toBe(false);
  });
});
