/**
 * A reader for the Prometheus text exposition format (version 0.0.4), as ProxySQL's REST API serves it on
 * `/metrics`: `# HELP` / `# TYPE` comments, then `name{label="value",…} value [timestamp]` lines. Only what the
 * collector needs: names, labels, values (NaN and ±Inf included; ProxySQL prints `Nan`).
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** Parses the text; throws on a malformed line, naming its number (a truncated scrape must not pass as data). */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    try {
      samples.push(parseLine(line));
    } catch (error) {
      throw new Error(`/metrics line ${i + 1}: ${(error as Error).message}: ${line.slice(0, 120)}`);
    }
  }
  return samples;
}

function parseLine(line: string): Sample {
  const name = NAME.exec(line)?.[0];
  if (name === undefined) throw new Error('no metric name');
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    for (;;) {
      rest = rest.trimStart();
      if (rest.startsWith('}')) {
        rest = rest.slice(1);
        break;
      }
      const labelName = LABEL_NAME.exec(rest)?.[0];
      if (labelName === undefined || !rest.slice(labelName.length).startsWith('="')) throw new Error('bad label');
      rest = rest.slice(labelName.length + 2);
      const [value, consumed] = readQuoted(rest);
      labels[labelName] = value;
      rest = rest.slice(consumed).trimStart();
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) throw new Error('expected , or } after a label');
    }
  }
  const fields = rest.trim().split(/\s+/);
  if (fields.length < 1 || fields.length > 2 || fields[0] === '') throw new Error('expected a value and an optional timestamp');
  return { name, labels, value: parseValue(fields[0]) };
}

/** A label value up to its closing quote, with the format's escapes (\\, \", \n); returns [value, characters consumed]. */
function readQuoted(text: string): [string, number] {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return [out, i + 1];
    if (c === '\\') {
      const next = text[++i];
      out += next === 'n' ? '\n' : next;
    } else {
      out += c;
    }
  }
  throw new Error('unterminated label value');
}

function parseValue(text: string): number {
  const lower = text.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`'${text}' is not a number`);
  return value;
}
