import { describe, expect, test } from 'vitest';
import { defineCommand, helpText, parseCommand } from './command-table';
import { UsageError } from './common';
import { COMMANDS } from './main';

const DEMO = defineCommand({
  name: 'demo',
  summary: 'a command for the tests',
  usage: ['serverless-proxysql demo [options]'],
  description: 'Does nothing.',
  options: [
    { name: 'port', value: 'PORT', default: '6033', help: 'a port' },
    { name: 'host', value: 'HOST', multiple: true, help: 'a host' },
    { group: 'Other', name: 'verbose', short: 'v', help: 'say more' },
  ],
});

describe('command tables: one table gives the parsing and the help', () => {
  test('values, defaults, repeated options and flags come out as the table says', () => {
    const parsed = parseCommand(DEMO, ['--host', 'a', '-v', '--host', 'b']);
    expect(parsed.withDefault('port')).toBe('6033');
    expect(parsed.list('host')).toEqual(['a', 'b']);
    expect(parsed.flag('verbose')).toBe(true);
    expect(parsed.help).toBe(false);
    expect(parseCommand(DEMO, ['--port', '7000']).withDefault('port')).toBe('7000');
    expect(parseCommand(DEMO, ['-h']).help).toBe(true);
  });

  test('an option the table does not have is a usage error pointing at --help', () => {
    expect(() => parseCommand(DEMO, ['--prot', '1'])).toThrow(UsageError);
    expect(() => parseCommand(DEMO, ['--prot', '1'])).toThrow("Unknown option '--prot'. Run 'serverless-proxysql demo --help' for the options.");
  });

  test('asking the parse result for an option of the wrong kind is a bug, not a silent undefined', () => {
    const parsed = parseCommand(DEMO, []);
    expect(() => parsed.flag('port')).toThrow(/--port is not a flag option/);
    expect(() => parsed.string('host')).toThrow(/--host is not a value option/);
  });

  test('a table that lists an option twice, or a default on a flag, is refused when defined', () => {
    const base = { name: 'x', summary: '', usage: [], description: '' };
    expect(() => defineCommand({ ...base, options: [{ name: 'a', help: '' }, { name: 'a', help: '' }] })).toThrow(/--a is listed twice/);
    expect(() => defineCommand({ ...base, options: [{ name: 'help', help: '' }] })).toThrow(/--help is listed twice/);
    expect(() => defineCommand({ ...base, options: [{ name: 'a', default: '1', help: '' }] })).toThrow(/takes no value/);
  });

  test('help lists every option under its group with its default; --help comes last', () => {
    expect(helpText(DEMO)).toBe(
      [
        'Usage: serverless-proxysql demo [options]',
        '',
        'Does nothing.',
        '',
        'Options:',
        '  --port PORT     a port (default 6033)',
        '  --host HOST     a host (repeat for more)',
        '',
        'Other:',
        '  -v, --verbose   say more',
        '  -h, --help      this help',
        '',
      ].join('\n'),
    );
  });

  test.each(COMMANDS.map((c) => [c.spec.name, c.spec] as const))('%s: every option of the table is in its help and is accepted', (_name, spec) => {
    const help = helpText(spec);
    for (const option of spec.options) {
      expect(help).toContain(`--${option.name}`);
      // parses (a value option with a value): the parser and the help come from the same row
      const args = option.value !== undefined ? [`--${option.name}`, 'x'] : [`--${option.name}`];
      expect(() => parseCommand(spec, args)).not.toThrow();
    }
  });
});
