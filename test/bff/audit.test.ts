/** Audit events (bff/audit.ts): each one logged, and a hook that throws changes nothing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createAudit } from '../../bff/audit.ts';

describe('audit', () => {
  it('logs each event and survives a throwing hook', () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const audit = createAudit(logger, () => {
      throw new Error('sink down');
    });
    audit({ type: 'login', sid: 's', sub: 'u', time: 1 });
    assert.ok(lines.some((l) => l.includes('"audit: login"')));
    assert.ok(lines.some((l) => l.includes('audit hook failed')));
  });
});
