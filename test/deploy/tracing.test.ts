/**
 * Tracing in the built server (dist/bff/server.js, which bundles its own @opentelemetry/api): an SDK
 * loaded with `node --import` from the application's node_modules, as docs/deploy.md shows, receives
 * the bundle's spans, and what its batch still holds at SIGTERM is exported before the process exits.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { buildBff } from '../../scripts/build-bff.ts';
import { startDevProvider, type DevProvider } from '../../dev/provider.ts';
import { freePort } from '../helpers/net.ts';

const sdkFile = fileURLToPath(new URL('./fixtures/otel-sdk.mjs', import.meta.url));

interface ExportedSpan {
  name: string;
  attributes: Record<string, unknown>;
  parentSpanId?: string;
  spanId: string;
}

describe('tracing in the built server, with an SDK loaded by node --import', () => {
  let work: string;
  let provider: DevProvider;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'latch-tracing-'));
    await buildBff({ outdir: join(work, 'dist/bff') });
    provider = await startDevProvider({ clients: [{ client_id: 'traced', client_secret: randomBytes(24).toString('base64url'), redirect_uris: ['http://127.0.0.1:9/callback'] }] });
  });
  after(async () => {
    await provider?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('exports the spans of /healthz, /me and /readyz (with its discovery call), flushed at SIGTERM', async () => {
    const port = await freePort();
    const spansFile = join(work, 'spans.jsonl');
    const child = spawn(process.execPath, ['--import', sdkFile, 'dist/bff/server.js'], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '',
        PORT: String(port),
        LATCH_ISSUER: provider.issuer,
        LATCH_CLIENT_ID: 'traced',
        LATCH_CLIENT_SECRET: 'unused-client-secret-0123456789',
        LATCH_BASE_URL: `http://127.0.0.1:${port}`,
        LATCH_COOKIE_SECRET: randomBytes(32).toString('base64url'),
        LATCH_ALLOWED_ORIGINS: 'http://www.latch.test:8080',
        LATCH_ALLOW_INSECURE_HTTP: 'true',
        LATCH_LOG_LEVEL: 'silent',
        LATCH_TRACING: 'true',
        LATCH_TEST_SPANS_FILE: spansFile,
        // Ten minutes: nothing is exported on the batch's own schedule while this test runs.
        OTEL_BSP_SCHEDULE_DELAY: '600000',
      },
    });
    const stderr: string[] = [];
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 15_000;
      let health: Response | undefined;
      while (Date.now() < deadline && child.exitCode === null && !health) {
        health = await fetch(`${base}/healthz`).catch(() => undefined);
        if (!health) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(health?.status, 200, stderr.join(''));
      assert.equal((await fetch(`${base}/me`)).status, 401);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      assert.equal(existsSync(spansFile), false, 'nothing exported before the shutdown');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr.join(''));

    const spans = readFileSync(spansFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as ExportedSpan);
    const names = spans.map((s) => s.name);
    assert.ok(names.includes('GET /healthz'), names.join(', '));
    const me = spans.find((s) => s.name === 'GET /me')!;
    assert.equal(me.attributes['error.type'], 'LATCH_UNAUTHENTICATED');
    const ready = spans.find((s) => s.name === 'GET /readyz')!;
    const discovery = spans.find((s) => s.name === 'oauth discovery');
    assert.ok(discovery, names.join(', '));
    assert.equal(discovery.parentSpanId, ready.spanId, 'the discovery call is a child of the /readyz request');
  });
});
