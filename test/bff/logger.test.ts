/** bff/logger.ts: what the BFF's log lines may never hold, whatever object a line is given. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { REDACT_PATHS } from '../../bff/logger.ts';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  return { lines, logger: pino({ level: 'debug', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink) };
}

describe('the log redaction (REDACT_PATHS)', () => {
  it('writes no token, key or assertion of a session or an outbound call, at the top level or one object down', () => {
    const { lines, logger } = capture();
    const secrets = {
      at: 'AT-SECRET', rt: 'RT-SECRET', idt: 'IDT-SECRET',
      dk: { d: 'DPOP-PRIVATE-D' },
      au: { 'https://orders.example': { at: 'AUD-AT-SECRET', exp: 1 } },
      subject_token: 'SUBJECT-SECRET', client_assertion: 'ASSERTION-SECRET',
    };
    logger.info({ session: secrets }, 'one object down');
    logger.info(secrets, 'at the top level');
    const text = lines.join('');
    assert.equal(lines.length, 2);
    for (const secret of ['AT-SECRET', 'RT-SECRET', 'IDT-SECRET', 'DPOP-PRIVATE-D', 'AUD-AT-SECRET', 'SUBJECT-SECRET', 'ASSERTION-SECRET']) {
      assert.equal(text.includes(secret), false, `${secret} in ${text}`);
    }
    assert.match(text, /\[redacted\]/);
  });
});
