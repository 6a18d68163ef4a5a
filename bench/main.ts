/**
 * `npm run bench -- …`: the Lambda-fleet benchmark. See BENCHMARKS.md and `--help`.
 * Exit status: 0 done (even with failed operations: they are results), 1 the run could not be carried out,
 * 2 invalid arguments.
 */
import * as fs from 'node:fs';
import { BenchArgError, parseBenchArgs, USAGE } from './options';
import { formatReport } from './report';
import { runBenchmark } from './run';

async function main(argv: string[]): Promise<number> {
  let opts;
  try {
    opts = parseBenchArgs(argv, process.env);
  } catch (err) {
    if (err instanceof BenchArgError) {
      process.stderr.write(`bench: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  // With --json -, stdout carries only the JSON; the table and progress go to stderr.
  const jsonToStdout = opts.json === '-';
  const say = (text: string) => (jsonToStdout ? process.stderr : process.stdout).write(`${text}\n`);
  try {
    const result = await runBenchmark(opts, { log: (msg) => process.stderr.write(`bench: ${msg}\n`) });
    say(formatReport(result));
    if (opts.json !== undefined) {
      const json = `${JSON.stringify(result, null, 2)}\n`;
      if (jsonToStdout) process.stdout.write(json);
      else fs.writeFileSync(opts.json, json);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
