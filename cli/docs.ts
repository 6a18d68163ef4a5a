/**
 * The generated parts of docs/cli.md: each command's option table and the `--config` keys, made from the same
 * tables that parse the command line and print `--help`. `npm run docs:cli` rewrites them in place;
 * cli/docs.test.ts fails while the file disagrees with the tables.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommandSpec, optionGroups, optionSynopsis } from './command-table';
import { CONFIG_KEY_NAMES, CONFIG_KEYS, RENAMED_CONFIG_KEYS } from './config-file';
import { COMMANDS } from './main';

export const CLI_DOC = path.join(__dirname, '..', 'docs', 'cli.md');

const pipes = (text: string) => text.replace(/\|/g, '\\|');
/** Table text: pipes escaped, and `<NAME>` not taken for an HTML tag. */
const cell = (text: string) => pipes(text).replace(/</g, '&lt;').replace(/>/g, '&gt;');
const code = (text: string) => `\`${pipes(text)}\``;

/** A command's options as a Markdown table (a group column when the options come in groups). */
export function optionsTable(spec: CommandSpec): string {
  const groups = optionGroups(spec);
  const grouped = groups.length > 1;
  const rows = groups.flatMap(([group, options]) =>
    options.map((option, i) => {
      const fallback = option.defaultText ?? option.default;
      const cells = [
        code(optionSynopsis(option)),
        fallback === undefined ? '' : code(fallback),
        cell(`${option.help}${option.multiple ? ' (repeat for more)' : ''}`),
      ];
      return `| ${(grouped ? [i === 0 ? group : '', ...cells] : cells).join(' | ')} |`;
    }),
  );
  const head = grouped ? ['', 'option', 'default', 'meaning'] : ['option', 'default', 'meaning'];
  return [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows].join('\n');
}

/** The `--config` keys as a Markdown table, and the keys they replaced. */
export function configTable(): string {
  const rows = CONFIG_KEY_NAMES.map((key) => {
    const spec = CONFIG_KEYS[key];
    return `| ${[code(key), cell(spec.prop), cell(spec.value), code(spec.default), cell(spec.help)].join(' | ')} |`;
  });
  const renamed = Object.entries(RENAMED_CONFIG_KEYS).map(([old, key]) => `\`${old}\` → \`${key}\``);
  return [
    '| key | construct prop | value | default | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Renamed to the construct's names (the old key is an error that names the new one): ${renamed.join(', ')}. Any other key is an error too.`,
  ].join('\n');
}

/** Every generated section by its name in the markers. */
export function generatedSections(): Record<string, string> {
  const sections: Record<string, string> = {};
  for (const { spec } of COMMANDS) sections[`${spec.name} options`] = optionsTable(spec);
  sections['config keys'] = configTable();
  return sections;
}

const begin = (name: string) => `<!-- generated: ${name} (npm run docs:cli; edit the table in cli/, not here) -->`;
const END = '<!-- end generated -->';

/** `text` with every generated section replaced by what the tables say now. Throws if a section's markers are missing. */
export function updateCliDoc(text: string): string {
  let out = text;
  for (const [name, body] of Object.entries(generatedSections())) {
    const start = out.indexOf(begin(name));
    const end = start < 0 ? -1 : out.indexOf(END, start);
    if (start < 0 || end < 0) throw new Error(`docs/cli.md: no generated section '${name}': add the lines ${begin(name)} and ${END}`);
    out = `${out.slice(0, start)}${begin(name)}\n${body}\n${out.slice(end)}`;
  }
  return out;
}

if (require.main === module) {
  const before = fs.readFileSync(CLI_DOC, 'utf8');
  const after = updateCliDoc(before);
  if (after !== before) fs.writeFileSync(CLI_DOC, after);
  process.stdout.write(`${path.relative(process.cwd(), CLI_DOC)}: ${after === before ? 'up to date' : 'updated'}\n`);
}
