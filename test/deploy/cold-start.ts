/**
 * Cold start of the Lambda bundle, for the bench (issue: "measured in the bench, not in a test"):
 * a fresh node process imports dist/bff/lambda.js and answers one GET /me for a signed-in session
 * (a function URL event, the cookie sealed with the configured secret, so no network is touched).
 *
 *   import { measureColdStart } from '../test/deploy/cold-start.ts';
 *   const runs = await measureColdStart({ runs: 10 });   // after `npm run build:bff`
 *   // → [{ importMs, firstResponseMs, totalMs, status }, ...]; report the median of totalMs
 *
 * `totalMs` is import + first answer, the figure the issue's 150 ms target is about; `processMs`
 * adds node's own start-up (what Lambda's Init Duration also counts). Run it on an idle machine.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { SessionCookies } from '../../bff/session/session-cookies.ts';
import { Sessions } from '../../bff/session/sessions.ts';
import { createSession } from '../../bff/session/session.ts';
import { fixture } from './aws-gateway.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ColdStart {
  /** import() of the bundle, ms. */
  importMs: number;
  /** The first invocation (configuration read, app built, /me answered), ms. */
  firstResponseMs: number;
  /** importMs + firstResponseMs. */
  totalMs: number;
  /** From the process's time origin to the answer: node's start-up included. */
  processMs: number;
  status: number;
}

export interface ColdStartOptions {
  /** Default <repo>/dist/bff/lambda.js. */
  bundle?: string;
  runs?: number;
}

const CHILD = `
const started = performance.now();
const { handler } = await import(process.env.COLD_START_BUNDLE);
const imported = performance.now();
const result = await handler(JSON.parse(process.env.COLD_START_EVENT), {});
const answered = performance.now();
process.stdout.write(JSON.stringify({ importMs: imported - started, firstResponseMs: answered - imported, totalMs: answered - started, processMs: answered, status: result.statusCode }));
`;

export async function measureColdStart(options: ColdStartOptions = {}): Promise<ColdStart[]> {
  const bundle = options.bundle ?? join(root, 'dist/bff/lambda.js');
  const secret = randomBytes(32).toString('base64url');
  const env = {
    PATH: process.env['PATH'] ?? '',
    LATCH_ISSUER: 'https://id.example.com',
    LATCH_CLIENT_ID: 'cold-start',
    LATCH_CLIENT_SECRET: 'cold-start-secret',
    LATCH_BASE_URL: 'https://auth.example.com',
    LATCH_COOKIE_SECRET: secret,
    LATCH_ALLOWED_ORIGINS: 'https://www.example.com',
    LATCH_LOG_LEVEL: 'warn',
  };
  // A session as /callback would have written it, access token valid for an hour: /me needs no network.
  const sessions = new SessionCookies(new Sessions({ secrets: [secret], maxAge: 8 * 3600 }), { secure: true });
  const session = createSession(
    { tokens: { accessToken: randomBytes(32).toString('base64url'), expiresAt: Date.now() + 3600_000 }, user: { sub: 'cold-start-user', name: 'Cold Start' } },
    8 * 3600,
  );
  const [cookie] = await sessions.write(session);
  const event = fixture('function-url');
  Object.assign(event, { rawPath: '/me', rawQueryString: '', cookies: [cookie!.split(';')[0]!], body: undefined, isBase64Encoded: false });
  (event['requestContext'] as { http: Record<string, unknown> }).http = { method: 'GET', path: '/me', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'cold-start' };
  (event['headers'] as Record<string, string>)['origin'] = 'https://www.example.com';

  const run = promisify(execFile);
  const out: ColdStart[] = [];
  for (let i = 0; i < (options.runs ?? 1); i++) {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], {
      env: { ...env, COLD_START_BUNDLE: pathToFileURL(bundle).href, COLD_START_EVENT: JSON.stringify(event) },
    });
    out.push(JSON.parse(stdout) as ColdStart);
  }
  return out;
}
