/**
 * docs/testing.md's two examples (examples/testing/), run as a user runs them: the node:test file with
 * `node --test`, the Playwright file with `playwright test` (Debian's Chromium). They import
 * `latch/testing` and `latch/bff` through the package's exports, from the build (`npm run build`).
 * Their dependencies (@playwright/test) are the folder's own: `npm ci --prefix examples/testing`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { browserSuiteOptions } from '../helpers/browser.ts';
import { toolSuiteOptions } from '../helpers/net.ts';

const dir = fileURLToPath(new URL('../../examples/testing/', import.meta.url));
const playwright = join(dir, 'node_modules/@playwright/test/cli.js');

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // Without NODE_TEST_CONTEXT: a `node --test` started from a test reports to its parent's runner otherwise.
    const { NODE_TEST_CONTEXT: _parent, ...env } = process.env;
    const child = spawn(process.execPath, args, { cwd: dir, env: { ...env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('docs/testing.md\'s examples (examples/testing)', toolSuiteOptions('examples/testing\'s packages', existsSync(playwright), 'npm ci --prefix examples/testing'), () => {
  it('the node:test example passes', { timeout: 120_000 }, async () => {
    // TAP on every Node (Node 22 and later default to the spec reporter even without a terminal).
    const { code, output } = await run(['--test', '--test-reporter=tap', 'node/me.test.mjs']);
    assert.equal(code, 0, output);
    assert.match(output, /^# pass 3$/m, output);
    assert.match(output, /^# fail 0$/m, output);
  });

  it('the Playwright example passes in Chromium', { timeout: 240_000, ...browserSuiteOptions() }, async () => {
    const { code, output } = await run([playwright, 'test']);
    assert.equal(code, 0, output);
    assert.match(output, /^\s*3 passed\b/m, output);
  });
});

describe('docs/testing.md', () => {
  it('shows the examples exactly as they run', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/testing.md', import.meta.url)), 'utf8');
    for (const file of ['app.mjs', 'node/me.test.mjs', 'playwright.config.ts', 'e2e/sign-in.spec.ts']) {
      assert.ok(doc.includes(`// examples/testing/${file}\n${readFileSync(join(dir, file), 'utf8').trimEnd()}\n\`\`\``), `docs/testing.md shows examples/testing/${file} as it is`);
    }
  });
});
