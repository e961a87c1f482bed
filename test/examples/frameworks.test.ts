/**
 * The elements' types in React 19, Vue and Svelte (latch/types/react, /vue, /svelte, generated from the
 * Custom Elements Manifest by scripts/framework-types.ts): each framework's tiny page in
 * examples/frameworks/ passes its own checker (tsc, vue-tsc, svelte-check), and each one's bad/ file
 * fails it on every line, so the attributes and events are typed, not `any` (one run of the checker
 * over both: tsconfig.bad.json). The checkers are that
 * folder's own packages: `npm ci --prefix examples/frameworks`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { exportedNames, frameworkTypes, type Manifest } from '../../scripts/framework-types.ts';
import { toolSuiteOptions } from '../helpers/net.ts';

const dir = fileURLToPath(new URL('../../examples/frameworks/', import.meta.url));
const bin = (name: string) => join(dir, 'node_modules', name);

const checkers = {
  react: (config: string) => [bin('typescript/bin/tsc'), '-p', `react/${config}`, '--pretty', 'false'],
  vue: (config: string) => [bin('vue-tsc/bin/vue-tsc.js'), '-p', `vue/${config}`, '--pretty', 'false'],
  svelte: (config: string) => [bin('svelte-check/bin/svelte-check'), '--workspace', 'svelte', '--tsconfig', `./${config}`, '--fail-on-warnings', '--output', 'human'],
};

/** What each bad/ file gets wrong, one line each: a wrong attribute value or type, an unknown detail property. */
const EXPECTED_ERRORS = [
  /Type '"sideways"' is not assignable to type 'LatchLoginMode \| undefined'/,
  /Property 'nope' does not exist on type 'LatchLoginDetail'/,
  /Type '"maybe"' is not assignable to type '"none" \| "login" \| "create" \| "select_account" \| undefined'/,
  /Type 'number' is not assignable to type 'string'/,
  /Property 'toUpperCase' does not exist on type 'number'/,
];

function check(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const { FORCE_COLOR: _color, ...env } = process.env;
    const child = spawn(process.execPath, args, { cwd: dir, env: { ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('exit', (code) => resolve({ code, output: output.replace(/\x1b\[[0-9;]*m/g, '') }));
  });
}

const installed = Object.values(checkers).every((args) => existsSync(args('tsconfig.json')[0]!));

describe('the elements\' types in React, Vue and Svelte (examples/frameworks)', toolSuiteOptions('examples/frameworks\' packages', installed, 'npm ci --prefix examples/frameworks'), () => {
  // One run a framework, over the example and bad/ together (tsconfig.bad.json): half the time of two.
  for (const [framework, args] of Object.entries(checkers)) {
    it(`${framework}: the example passes its checker, and every line of bad/ fails it (typed attributes and event details, not any)`, { timeout: 120_000 }, async () => {
      const { code, output } = await check(args('tsconfig.bad.json'));
      assert.notEqual(code, 0, output);
      const errors = output.split('\n').filter((line) => /error TS\d+|^Error: /.test(line));
      for (const expected of EXPECTED_ERRORS) assert.match(output, expected, output);
      assert.equal(errors.length, EXPECTED_ERRORS.length, output);
      // Every error is in bad/ (tsc names the file on the error's line; svelte-check on the line before).
      const files = [...output.matchAll(/([\w/.-]+\.(?:tsx|vue|svelte))[(:]\d+/g)].map((m) => m[1]!);
      assert.ok(files.length >= EXPECTED_ERRORS.length && files.every((file) => file.includes('bad/')), output);
    });
  }
});

describe('scripts/framework-types.ts', () => {
  const manifest = (attributeType?: string, eventType?: string): Manifest => ({
    modules: [{
      path: 'widget/elements/x.ts',
      declarations: [{
        name: 'LatchLoginElement', tagName: 'latch-login',
        attributes: [{ name: 'mode', ...(attributeType ? { type: { text: attributeType } } : {}) }],
        events: [{ name: 'latch-login', ...(eventType ? { type: { text: eventType } } : {}) }],
      }],
    }],
  });
  const exported = new Set(['LatchLoginElement', 'LatchLoginMode', 'LatchLoginDetail']);

  it('writes what dist/types/frameworks/ holds, from dist/custom-elements.json', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const built = JSON.parse(readFileSync(join(root, 'dist/custom-elements.json'), 'utf8')) as Manifest;
    const files = frameworkTypes(built, exportedNames(readFileSync(join(root, 'dist/types/widget/index.d.ts'), 'utf8')));
    for (const [file, text] of Object.entries(files)) assert.equal(readFileSync(join(root, 'dist/types/frameworks', file), 'utf8'), text, file);
    assert.match(files['elements.d.ts']!, /'return-to'\?: string;/);
    assert.match(files['elements.d.ts']!, /'latch-login': CustomEvent<LatchLoginDetail>;/);
  });

  it('types attributes and events from the manifest, without null', () => {
    const { 'elements.d.ts': elements } = frameworkTypes(manifest('LatchLoginMode | null', 'CustomEvent<LatchLoginDetail>'), exported);
    assert.match(elements!, /^ {2}mode\?: LatchLoginMode;$/m);
    assert.match(elements!, /^import type \{ LatchLoginDetail, LatchLoginElement, LatchLoginMode \} from '\.\.\/widget\/index\.js';$/m);
  });

  it('refuses an attribute or event without a type, and a type the widget does not export', () => {
    assert.throws(() => frameworkTypes(manifest(undefined, 'CustomEvent<LatchLoginDetail>'), exported), /attribute mode has no type/);
    assert.throws(() => frameworkTypes(manifest('LatchLoginMode', undefined), exported), /event latch-login has no type/);
    assert.throws(() => frameworkTypes(manifest('LatchMystery', 'CustomEvent<LatchLoginDetail>'), exported), /does not export \(widget\/index\.ts\): LatchMystery/);
  });
});
