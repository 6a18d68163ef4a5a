/**
 * One declarative table per command: its options, their value names, defaults and meanings. From that table come
 * the parsing (node:util parseArgs, strict), the `--help` text and the option tables of docs/cli.md
 * (`npm run docs:cli`), so the three cannot drift apart.
 */
import { parseArgs, ParseArgsConfig } from 'node:util';
import { CLI_NAME, UsageError } from './common';

export interface OptionSpec<N extends string = string> {
  /** The long name, without `--`. */
  readonly name: N;
  /** A one-letter alias, without `-`. */
  readonly short?: string;
  /** The value's name in help (`HOST:PORT`); an option without one is a flag. */
  readonly value?: string;
  /** May be given more than once (its values are collected in order). */
  readonly multiple?: boolean;
  /** What a string option is when absent: returned by {@link ParsedArgs.string} and shown in help. */
  readonly default?: string;
  /** The default in words when it is not a plain value (`'proxysql' on PATH`); shown instead of `default`. */
  readonly defaultText?: string;
  /** What the option does: one sentence, no trailing period. */
  readonly help: string;
  /** The heading the option is listed under. @default 'Options' */
  readonly group?: string;
}

export interface CommandSpec<N extends string = string> {
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** Usage lines after `Usage: ` (each written out in full, the CLI's name included). */
  readonly usage: readonly string[];
  /** The paragraphs between the usage and the options. */
  readonly description: string;
  readonly options: readonly OptionSpec<N>[];
  /** Notes and examples after the options. */
  readonly epilogue?: string;
  /** The command takes arguments besides its options (explain's SQL). */
  readonly positionals?: boolean;
}

/** Every command answers -h/--help; the tables do not list it. */
const HELP_OPTION: OptionSpec<'help'> = { name: 'help', short: 'h', help: 'this help' };

/** A command table, its option names kept as a type so that a misspelt name does not compile. */
export function defineCommand<const N extends string>(spec: CommandSpec<N>): CommandSpec<N> {
  const names = spec.options.map((o) => o.name);
  const clash = names.find((name, i) => names.indexOf(name) !== i || name === HELP_OPTION.name);
  if (clash !== undefined) throw new Error(`command table ${spec.name}: option --${clash} is listed twice`);
  for (const option of spec.options) {
    if ((option.default !== undefined || option.multiple) && option.value === undefined) {
      throw new Error(`command table ${spec.name}: --${option.name} has a default or multiple values but takes no value`);
    }
  }
  return spec;
}

function allOptions<N extends string>(spec: CommandSpec<N>): readonly OptionSpec<N | 'help'>[] {
  return [...spec.options, HELP_OPTION];
}

/** The parsed command line of one command. Asking for an option the table does not have is a bug: it throws. */
export class ParsedArgs<N extends string> {
  constructor(
    private readonly spec: CommandSpec<N>,
    private readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>,
    readonly positionals: readonly string[],
  ) {}

  private option(name: N, kind: 'value' | 'flag', multiple: boolean): OptionSpec<N> {
    const option = this.spec.options.find((o) => o.name === name);
    if (!option || (option.value !== undefined) !== (kind === 'value') || Boolean(option.multiple) !== multiple) {
      throw new Error(`command table ${this.spec.name}: --${name} is not a ${multiple ? 'repeatable ' : ''}${kind} option`);
    }
    return option;
  }

  /** A value option's value, its default when absent. */
  string(name: N): string | undefined {
    const option = this.option(name, 'value', false);
    const value = this.values[name];
    return typeof value === 'string' ? value : option.default;
  }

  /** A value option that has a default in the table: never undefined. */
  withDefault(name: N): string {
    const option = this.option(name, 'value', false);
    if (option.default === undefined) throw new Error(`command table ${this.spec.name}: --${name} has no default`);
    return this.string(name) as string;
  }

  /** A repeatable option's values, in order. */
  list(name: N): string[] {
    this.option(name, 'value', true);
    const value = this.values[name];
    return Array.isArray(value) ? value : [];
  }

  flag(name: N): boolean {
    this.option(name, 'flag', false);
    return this.values[name] === true;
  }

  /** -h/--help was given. */
  get help(): boolean {
    return this.values.help === true;
  }
}

/** Parses `args` by the command's table (strict: unknown options are errors that point at `--help`). */
export function parseCommand<N extends string>(spec: CommandSpec<N>, args: readonly string[]): ParsedArgs<N> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const option of allOptions(spec)) {
    options[option.name] = {
      type: option.value === undefined ? 'boolean' : 'string',
      ...(option.short !== undefined ? { short: option.short } : {}),
      ...(option.multiple ? { multiple: true } : {}),
    };
  }
  const allowPositionals = spec.positionals ?? false;
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals });
    return new ParsedArgs(spec, values as Record<string, string | boolean | string[] | undefined>, positionals);
  } catch (error) {
    const raw = (error as Error).message;
    const message = raw
      .replace(/\. To specify a positional argument.*$/s, '')
      .replace(/\s+/g, ' ')
      .replace(/\.$/, '');
    // A SQL statement that starts with '-' (a -- comment) looks like an option to parseArgs.
    const hint = allowPositionals && /Unknown option '-[^']*\s/.test(raw) ? "; put the statement after -- (e.g. explain -- '-- note …')" : '';
    throw new UsageError(`${message}${hint}. Run '${CLI_NAME} ${spec.name} --help' for the options.`);
  }
}

// ---- help text --------------------------------------------------------------------------------------------

const HELP_WIDTH = 120;
/** Left columns longer than this put their description on the next line. */
const MAX_LEFT = 34;

/** `-h, --help` / `--writer HOST[:PORT]`: how an option is written. */
export function optionSynopsis(option: OptionSpec): string {
  const long = `--${option.name}${option.value !== undefined ? ` ${option.value}` : ''}`;
  return option.short !== undefined ? `-${option.short}, ${long}` : long;
}

/** The description with its default, as help and docs show it. */
export function optionDescription(option: OptionSpec): string {
  const fallback = option.defaultText ?? option.default;
  return `${option.help}${fallback !== undefined ? ` (default ${fallback})` : ''}${option.multiple ? ' (repeat for more)' : ''}`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

/** Options grouped under their headings, in table order (the group of the first option comes first). */
export function optionGroups<N extends string>(spec: CommandSpec<N>): Array<[string, OptionSpec<N | 'help'>[]]> {
  const groups = new Map<string, OptionSpec<N | 'help'>[]>();
  const last = spec.options.at(-1)?.group ?? 'Options';
  for (const option of allOptions(spec)) {
    const group = option === HELP_OPTION ? last : (option.group ?? 'Options');
    groups.set(group, [...(groups.get(group) ?? []), option]);
  }
  return [...groups];
}

/** The `--help` text of a command. */
export function helpText(spec: CommandSpec): string {
  const lefts = allOptions(spec).map(optionSynopsis);
  const column = 2 + Math.max(...lefts.filter((l) => l.length <= MAX_LEFT).map((l) => l.length)) + 3;
  const blocks = [spec.usage.map((line, i) => `${i === 0 ? 'Usage: ' : '       '}${line}`).join('\n'), spec.description.trimEnd()];
  for (const [group, options] of optionGroups(spec)) {
    const lines = [`${group}:`];
    for (const option of options) {
      const left = `  ${optionSynopsis(option)}`;
      const text = wrap(optionDescription(option), HELP_WIDTH - column);
      if (left.length + 1 > column) lines.push(left, ...text.map((t) => ' '.repeat(column) + t));
      else lines.push(left.padEnd(column) + text[0], ...text.slice(1).map((t) => ' '.repeat(column) + t));
    }
    blocks.push(lines.join('\n'));
  }
  if (spec.epilogue !== undefined) blocks.push(spec.epilogue.trimEnd());
  return `${blocks.join('\n\n')}\n`;
}

/** The main help: the commands and their summaries. */
export function mainHelpText(commands: readonly CommandSpec[], footer: string): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 3;
  return [
    `Usage: ${CLI_NAME} <command> [options]`,
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    footer,
    '',
  ].join('\n');
}

/** `a, b and c`. */
export function listInWords(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
