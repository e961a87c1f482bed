import { pino, type Logger, type LoggerOptions } from 'pino';
import { describeError, type LatchError } from './errors.ts';

/** Paths pino blanks out wherever they appear in a log line: tokens, cookies, secrets. */
export const REDACT_PATHS = [
  'req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]',
  '*.access_token', '*.refresh_token', '*.id_token', '*.accessToken', '*.refreshToken', '*.idToken',
  'at', 'rt', 'idt', '*.at', '*.rt', '*.idt', '*.password', '*.client_secret', '*.clientSecret', '*.cookie', '*.authorization',
  // The same names at the top level of a log call, and the rest of what must never be written.
  'access_token', 'refresh_token', 'id_token', 'accessToken', 'refreshToken', 'idToken', 'password', 'client_secret',
  'clientSecret', 'cookie', 'authorization', 'logout_token', '*.logout_token', 'code_verifier', '*.code_verifier',
  'codeVerifier', '*.codeVerifier', '*.cookieSecrets', '*.redisUrl', '*.redisClusterNodes', 'headers.cookie', 'headers.authorization',
  'headers["set-cookie"]', '*.headers.cookie', '*.headers.authorization', '*.headers["set-cookie"]',
  // DPoP: a session's private key, and the BFF's own client keys (private_key_jwt).
  'dk', '*.dk', 'dpopKey', '*.dpopKey', '*.clientKeys', 'client_assertion', '*.client_assertion',
  // A token per API (oauth/audience.ts): the session's API tokens, and the token an exchange sends.
  'au', '*.au', 'subject_token', '*.subject_token',
];

/** `hooks`: pino's, e.g. `npm start`'s filter of the lines a demo visitor causes (dev/start.ts). */
export function createLogger(level = 'info', hooks?: LoggerOptions['hooks']): Logger {
  return pino({ level, base: { service: 'latch-bff' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, ...(hooks ? { hooks } : {}) });
}

/**
 * A sign-in that went on without userinfo (docs/providers.md, "Userinfo"): one line naming why, so an
 * operator can alert on `event: userinfo_unavailable`. Never the answer's content. A 401 or 403 is
 * logged at info: the access token was issued for an API (an RFC 8707 resource, Auth0's `audience`),
 * which userinfo rightly refuses, and that is a configuration, not an outage. Anything else (5xx,
 * HTML, a timeout) is a warning.
 */
export function logUserinfoFallback(logger: Logger, result: { userinfoUnavailable?: LatchError }): void {
  const err = result.userinfoUnavailable;
  if (!err) return;
  const cause = err.cause instanceof Error ? describeError(err.cause) : err.detail;
  // oauth4webapi's challenge error carries the status; its "unexpected status" error carries the Response.
  const answered = err.cause as { status?: unknown; cause?: { status?: unknown } } | undefined;
  const status = answered?.status ?? answered?.cause?.status;
  const refused = status === 401 || status === 403;
  logger[refused ? 'info' : 'warn']({ event: 'userinfo_unavailable', code: err.code, status: err.status, cause }, "userinfo gave no answer: signed in with the ID token's claims");
}
