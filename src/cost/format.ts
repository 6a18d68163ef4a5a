/** The estimate as text: what `npm run synth` and `serverless-proxysql cost` print. */
import { CostEstimate, CostLine } from './estimate';
import { PRICE_SOURCES, PRICING_DATE, PRICING_REGION } from './pricing';

/** `$1,234.56`. */
export function formatUsd(usd: number): string {
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** Width of the amount column. */
const AMOUNT = 11;

function row(usd: number, text: string): string {
  return `${formatUsd(usd).padStart(AMOUNT)}  ${text}`;
}

function lineText(line: CostLine): string[] {
  const upTo = line.upTo ? `; up to ${formatUsd(line.upTo.monthly)} at ${line.upTo.at}` : '';
  return [row(line.monthly, `${line.category}: ${line.what}`), `${' '.repeat(AMOUNT + 2)}${line.how}${upTo}`];
}

export interface FormatOptions {
  /** Print the usage lines, what is not priced and the notes (the full section). @default true */
  readonly details?: boolean;
}

/** The cost section of one stack. */
export function formatEstimate(estimate: CostEstimate, options: FormatOptions = {}): string {
  const details = options.details ?? true;
  const fixed = estimate.lines.filter((l) => l.kind === 'fixed');
  const usage = estimate.lines.filter((l) => l.kind === 'usage');
  const out = [
    `Monthly cost of ${estimate.stackName}: ${PRICING_REGION} on-demand list prices of ${PRICING_DATE} (src/cost/pricing.ts), ${estimate.hoursPerMonth} hours a month`,
    '',
    'Always on, whatever the traffic:',
    ...fixed.flatMap(lineText),
    row(estimate.fixedMonthly, `TOTAL always on${estimate.fixedUpToMonthly > estimate.fixedMonthly ? ` (up to ${formatUsd(estimate.fixedUpToMonthly)} with every line at its maximum)` : ''}`),
  ];
  if (!details) return out.join('\n');
  if (usage.length > 0) {
    out.push('', 'Grows with use, priced at the example usage on each line:', ...usage.flatMap(lineText), row(estimate.usageMonthly, 'TOTAL at these example figures'));
  }
  if (estimate.notPriced.length > 0) {
    out.push('', 'Not priced:');
    for (const n of estimate.notPriced) out.push(`  ${n.type} (${n.resources.join(', ')}): ${n.reason}`);
  }
  if (estimate.noCharge.length > 0) {
    out.push('', `No charge of their own: ${estimate.noCharge.map((f) => `${f.count} ${f.type}`).join(', ')}.`);
  }
  out.push('', 'Assumptions:', ...estimate.notes.map((n) => `  - ${n}`));
  const unconfirmed = [...new Set(estimate.lines.flatMap((l) => l.sources))].filter((s) => !PRICE_SOURCES[s].confirmed);
  for (const source of unconfirmed) {
    out.push(`  - NOT CONFIRMED: part of the ${source} prices could not be read in any source available when the table was compiled; check ${PRICE_SOURCES[source].page}`);
  }
  return out.join('\n');
}
