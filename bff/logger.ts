import { pino, type Logger } from 'pino';

/** Paths pino blanks out wherever they appear in a log line: tokens, cookies, secrets. */
export const REDACT_PATHS = [
  'req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]',
  '*.access_token', '*.refresh_token', '*.id_token', '*.accessToken', '*.refreshToken', '*.idToken',
  '*.at', '*.rt', '*.idt', '*.password', '*.client_secret', '*.clientSecret', '*.cookie', '*.authorization',
];

export function createLogger(level = 'info'): Logger {
  return pino({ level, base: { service: 'latch-bff' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } });
}
