/**
 * Builds what the package ships besides the jsii-compiled library: one esbuild bundle per Lambda handler
 * (assets/lambda/<name>/index.js) and the CLI (dist/cli/main.js). Run by `npm run build`, `prepack`, the test
 * setup and `npm run synth`; takes a second or two.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync, BuildOptions } from 'esbuild';
import { LAMBDA_ASSETS, LambdaAssetName, PACKAGE_ROOT, lambdaAssetDir } from '../src/runtime-assets';

const COMMON: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  minify: true,
  // Function names survive minification, so stack traces stay readable; no source maps: inline ones would triple
  // the package (4 MB a bundle), and linked ones would point at sources the package does not ship.
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
};

/**
 * Bundles `entry` and writes it to `outfile` only when the bytes differ, through a rename: a test that stages
 * an asset while another build runs (the package test packs during the suite) never sees a half-written file.
 */
function bundle(options: BuildOptions & { entryPoints: string[]; outfile: string }): void {
  const result = buildSync({ ...options, write: false });
  const contents = result.outputFiles[0].contents;
  const { outfile } = options;
  if (fs.existsSync(outfile) && fs.readFileSync(outfile).equals(contents)) return;
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  const temporary = `${outfile}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, contents);
  fs.renameSync(temporary, outfile);
}

export function buildLambdaAssets(): string[] {
  const built: string[] = [];
  for (const [name, entry] of Object.entries(LAMBDA_ASSETS) as Array<[LambdaAssetName, string]>) {
    const outdir = lambdaAssetDir(name);
    bundle({
      ...COMMON,
      entryPoints: [path.join(PACKAGE_ROOT, entry)],
      outfile: path.join(outdir, 'index.js'),
      // Node.js 24 (src/lambda-runtime.ts); the AWS SDK v3 comes with the runtime.
      target: 'node22',
      external: ['@aws-sdk/*'],
    });
    built.push(path.relative(PACKAGE_ROOT, outdir));
  }
  return built;
}

export function buildCli(): string {
  const outfile = path.join(PACKAGE_ROOT, 'dist', 'cli', 'main.js');
  bundle({
    ...COMMON,
    entryPoints: [path.join(PACKAGE_ROOT, 'cli', 'main.ts')],
    outfile,
    target: 'node20',
    // The app's own aws-cdk-lib and constructs (peer dependencies); everything else is inside the bundle.
    external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
  });
  return path.relative(PACKAGE_ROOT, outfile);
}

if (require.main === module) {
  const what = process.argv[2] ?? 'all';
  const out = [...(what === 'cli' ? [] : buildLambdaAssets()), ...(what === 'lambda' ? [] : [buildCli()])];
  console.log(`built ${out.join(', ')}`);
}
