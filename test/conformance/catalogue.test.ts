/**
 * Holds the module list (modules.ts), the battery and docs/conformance.md to each other: every
 * module the doc lists, with its result; every applicable module mirrored by a test of its name;
 * every module named in the battery is a real one; the counts the doc gives are the list's.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MODULES } from './modules.ts';

const root = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(root, 'docs/conformance.md'), 'utf8');
const battery = Object.fromEntries(
  ['basic-rp', 'config-rp', 'logout-rp', 'more-rp'].map((file) => [file, readFileSync(join(import.meta.dirname, `${file}.test.ts`), 'utf8')]),
);

describe('the conformance battery and docs/conformance.md', () => {
  it('lists every module once, unique by name', () => {
    const names = MODULES.map((m) => m.name);
    assert.equal(new Set(names).size, names.length);
    for (const m of MODULES) assert.ok((m.mirror === undefined) !== (m.notApplicable === undefined), `${m.name}: mirrored or not applicable, one of the two`);
  });

  it('mirrors every applicable module with a test of its name', () => {
    for (const m of MODULES.filter((x) => x.mirror)) {
      assert.ok(battery[m.mirror!]!.includes(`'${m.name}`), `${m.name} has a test in test/conformance/${m.mirror}.test.ts`);
    }
  });

  it('names no module the suite does not have', () => {
    const known = new Set(MODULES.map((m) => m.name));
    for (const [file, source] of Object.entries(battery)) {
      for (const [name] of source.matchAll(/oidcc-client-test[a-z0-9-]*/g)) assert.ok(known.has(name), `${file}.test.ts names ${name}`);
    }
  });

  it('gives every module its result in docs/conformance.md, and the counts', () => {
    for (const m of MODULES) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${m.name}\` |`));
      assert.ok(row, `docs/conformance.md has a row for ${m.name}`);
      assert.match(row, m.mirror ? /\| passes \|/ : /\| not applicable \|/, `${m.name}'s result`);
    }
    const passed = MODULES.filter((m) => m.mirror).length;
    const na = MODULES.length - passed;
    assert.ok(doc.includes(`**${MODULES.length} modules: ${passed} pass, ${na} do not apply.**`), `the doc's counts (${MODULES.length}, ${passed}, ${na})`);
  });
});
