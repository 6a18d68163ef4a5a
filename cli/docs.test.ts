import * as fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import { checkConfigObject } from './config-file';
import { CLI_DOC, generatedSections, updateCliDoc } from './docs';
import { RENDER_COMMAND } from './render';

const doc = fs.readFileSync(CLI_DOC, 'utf8');

describe('docs/cli.md agrees with the command tables', () => {
  test('every generated section is what the tables make now (run `npm run docs:cli` after changing a table)', () => {
    expect(updateCliDoc(doc)).toBe(doc);
  });

  test('the check would catch a stale row and a missing section', () => {
    const stale = doc.replace('`--monitor-user NAME` | `proxysql_monitor`', '`--monitor-user NAME` | `monitor`');
    expect(stale).not.toBe(doc);
    expect(updateCliDoc(stale)).toBe(doc);
    expect(() => updateCliDoc(doc.replace('<!-- generated: config keys', '<!-- config keys'))).toThrow(/no generated section 'config keys'/);
  });

  test('each command has its section, and render lists every option of its table', () => {
    expect(Object.keys(generatedSections())).toEqual(['render options', 'explain options', 'local options', 'doctor options', 'cost options', 'config keys']);
    const render = generatedSections()['render options'];
    for (const option of RENDER_COMMAND.options) expect(render).toContain(`\`--${option.name}`);
  });

  test('the example --config in docs/cli.md is a file render accepts', () => {
    const example = /For example:\s+```json\n([\s\S]+?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    expect(() => checkConfigObject(JSON.parse(example as string), 'docs/cli.md')).not.toThrow();
  });
});
