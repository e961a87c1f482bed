/**
 * bff/errors.ts: one table of codes, each with one status and one public message, and one way to
 * build an error from it. The list in docs/api.md is this table.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { LatchErrorCode } from '../../bff/contract.ts';
import { ClientTransferError, ERRORS, LatchError } from '../../bff/errors.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const codes = Object.keys(ERRORS) as LatchErrorCode[];

describe('ERRORS', () => {
  it('gives every code one status, 4xx or 5xx, and one message a person can read', () => {
    assert.ok(codes.length >= 30, `${codes.length} codes`);
    for (const code of codes) {
      const { status, message } = ERRORS[code];
      assert.match(code, /^LATCH_[A-Z0-9_]+$/);
      assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code}: status ${status}`);
      assert.match(message, /^[A-Z].*\.$/s, `${code}: a sentence`);
      assert.doesNotMatch(message, /\$\{|undefined|\[object/, `${code}: no template left over`);
    }
  });

  it('builds each error with its code\'s status and message, whatever the detail, cause or class', () => {
    for (const code of codes) {
      for (const err of [
        new LatchError(code),
        new LatchError(code, { detail: 'a specific reason', cause: new Error('below'), headers: { 'Retry-After': '1' } }),
        new ClientTransferError(code, { detail: 'another reason' }),
      ]) {
        assert.equal(err.code, code);
        assert.equal(err.status, ERRORS[code].status, code);
        assert.equal(err.message, ERRORS[code].message, `${code}: the detail never becomes the public message`);
      }
    }
    const detailed = new LatchError('LATCH_BAD_REQUEST', { detail: 'The API path has an empty segment.' });
    assert.equal(detailed.detail, 'The API path has an empty segment.');
  });

  it('takes no status or message where an error is built: the constructor refuses them, and no file of bff/ passes one', () => {
    // The type system: a status where the options go is a compile error (npm run typecheck).
    const refused = () => {
      // @ts-expect-error a status is the table's, never the caller's
      return new LatchError('LATCH_BAD_REQUEST', 405);
    };
    const refusedMessage = () => {
      // @ts-expect-error a message is the table's too
      return new LatchError('LATCH_BAD_REQUEST', 'The API path has an empty segment.');
    };
    assert.equal(typeof refused, 'function');
    assert.equal(typeof refusedMessage, 'function');

    // And the source: every construction of a LatchError (or a subclass, or `super` in one) in bff/
    // names a code, then at most an options object.
    const built = /(?:new\s+[A-Z]\w*Error|super)\(\s*('LATCH_\w+'|\w+)\s*(?:,\s*([^)\s][^)]{0,40}))?/g;
    let seen = 0;
    for (const file of sourceFiles(join(root, 'bff'))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(built)) {
        const [call, first, second] = match;
        if (!first!.startsWith("'LATCH_")) continue;
        seen++;
        assert.ok(codes.includes(first!.slice(1, -1) as LatchErrorCode), `${file}: ${call}: a code of ERRORS`);
        assert.ok(second === undefined || second.startsWith('{') || /^[a-z]\w*\s*[,)}]?/.test(second), `${file}: ${call}: options only`);
        assert.doesNotMatch(second ?? '', /^\d|^['"`]/, `${file}: ${call}: no status, no message`);
      }
      // No status comes from anywhere but the table: no answer is given a bare error status by hand.
      assert.doesNotMatch(text, /\bstatus:\s*[45]\d\d\b/, `${file}: a status written outside ERRORS`);
    }
    assert.ok(seen > 60, `found ${seen} constructions`);
  });

  it('is the list of codes in docs/api.md, with the same status and message', () => {
    const doc = readFileSync(join(root, 'docs/api.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Error codes'));
    const rows = section.slice(0, section.indexOf('\n## ')).split('\n').filter((line) => line.startsWith('| `LATCH_'));
    const listed = rows.map((row) => {
      const cells = row.slice(1, -1).split(' | ').map((cell) => cell.trim());
      return [cells[0]!.replace(/`/g, ''), Number(cells[1]), cells.at(-1)!] as const;
    });
    assert.deepEqual(listed, codes.map((code) => [code, ERRORS[code].status, ERRORS[code].message]));
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(dir, file))
    .filter((file) => !file.endsWith(join('bff', 'errors.ts')));
}
